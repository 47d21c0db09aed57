"""The set form of the group rule (GroupMembershipQuerySet.sight, used by the morning sweep)
decides exactly as the rule itself (GroupMembershipQuerySet.visible_to): for every person of a
cast, every membership and every setting of the community's access table."""

from __future__ import annotations

import itertools

import pytest

from grids.models import GroupAccessRule, GroupKind, GroupMembership
from grids.models.organisation import Duty, GridAssignment
from shanglong.models import Department, DepartmentLevel, Role, User
from tests.api import matrix
from tests.conftest import make_user
from tests.grids.ledger_world import top_level
from tests.grids.people_world import SINCE, build_people

pytestmark = pytest.mark.django_db

KINDS = (GroupKind.COMMUNITY_CORRECTION, GroupKind.ELDERLY_ALONE, GroupKind.DISABILITY, GroupKind.DRUG_USER)


@pytest.fixture
def world(request):
    """build_people's residents A (grid A), B (grid B), X (the other community), each in four
    groups, of two departments; besides the cast: a designated officer, a liaison of the other
    department, a liaison with no department, a grid worker on duty in two grids, a superuser,
    one who has left and another who came back (two memberships of one group)."""
    cast = matrix.build_cast(request)
    world = build_people(cast)
    other_department = Department.objects.create(
        name="派出所", level=DepartmentLevel.SUBDISTRICT, subdistrict=cast.subdistrict
    )
    departments = itertools.cycle([cast.department, other_department, world["civil_affairs"]])
    for resident in world["residents"].values():
        for kind in KINDS:
            GroupMembership.objects.get_or_create(
                resident=resident,
                kind=kind,
                defaults={
                    "department": next(departments),
                    "level": top_level(kind),
                    "disability_grade": 2 if kind == GroupKind.DISABILITY else None,
                    "since": SINCE,
                },
            )
    again = GroupMembership.objects.filter(resident=world["residents"]["A"], kind=GroupKind.DRUG_USER).get()
    GroupMembership.objects.filter(pk=again.pk).update(until=SINCE.replace(year=SINCE.year + 1))
    GroupMembership.objects.create(
        resident=again.resident,
        kind=again.kind,
        level=top_level(again.kind),
        department=other_department,
        since="2026-03-01",
    )
    people = dict(cast.users)
    people["officer"] = make_user("officer", Role.STAFF, community=cast.community)
    people["other_department_user"] = make_user(
        "dept2", Role.DEPARTMENT, community=cast.community, department=other_department
    )
    people["department_without_department"] = make_user("dept3", Role.DEPARTMENT, community=cast.community)
    two_grids = make_user("both", Role.GRID_WORKER, community=cast.community)
    for letter in "AB":
        GridAssignment.objects.create(user=two_grids, grid=world["grids"][letter], duty=Duty.PART_TIME, since=SINCE)
    people["two_grids"] = two_grids
    # Duty decides: a building head and a police officer; one person by duty in A, helping in B.
    for name, duties in (
        ("building_head", {"A": Duty.BUILDING_HEAD}),
        ("police", {"B": Duty.POLICE}),
        ("worker_and_helper", {"A": Duty.FULL_TIME, "B": Duty.BUILDING_HEAD}),
    ):
        people[name] = make_user(name, Role.GRID_WORKER, community=cast.community)
        for letter, duty in duties.items():
            GridAssignment.objects.create(user=people[name], grid=world["grids"][letter], duty=duty, since=SINCE)
    people["superuser"] = User.objects.create_superuser("root", password="x")
    return {"cast": cast, "world": world, "people": people}


def settings_of_the_table(world):
    """The access table's settings to try: the defaults (per kind: drug users not for the grid
    workers), then each switch off for some kinds, the helpers' switch on for some, then
    designated officers."""
    cast, people = world["cast"], world["people"]
    yield "defaults"
    for community in (cast.community, cast.other_community):
        GroupAccessRule.objects.ensure_for(community)
    GroupAccessRule.objects.filter(kind__in=KINDS[:2]).update(grid_workers=False)
    yield "grid workers do not see two kinds"
    GroupAccessRule.objects.filter(kind__in=KINDS[1:3]).update(department=False)
    yield "nor departments two kinds"
    GroupAccessRule.objects.filter(kind__in=KINDS[1:]).update(grid_helpers=True)
    yield "helpers see three kinds"
    GroupAccessRule.objects.filter(community=cast.community, kind=GroupKind.DRUG_USER).update(grid_workers=True)
    yield "grid workers see drug users in one community"
    GroupAccessRule.objects.filter(community=cast.community, kind=KINDS[0]).update(designated_officer=people["officer"])
    GroupAccessRule.objects.filter(community=cast.community, kind=KINDS[1]).update(
        designated_officer=people["grid_worker"]
    )
    GroupAccessRule.objects.filter(community=cast.other_community, kind=KINDS[3]).update(
        designated_officer=people["other_staff"]
    )
    yield "designated officers"
    GroupAccessRule.objects.filter(community=cast.community).delete()
    yield "the community's table gone again (defaults), the other one kept"


def test_sight_sees_what_visible_to_sees(world):
    memberships = GroupMembership.objects.all()
    assert memberships.count() == 14  # build_people's 3, 10 more, and A's return
    seen_by_someone = set()
    for setting in settings_of_the_table(world):
        sight = memberships.sight(world["people"].values())
        for name, person in world["people"].items():
            expected = set(GroupMembership.objects.visible_to(person).values_list("pk", flat=True))
            assert sight.seen_pks(person) == expected, (setting, name)
            for membership in memberships:
                assert sight.sees(person, membership.resident_id, membership.kind) == (
                    GroupMembership.objects.visible_to(person)
                    .filter(resident_id=membership.resident_id, kind=membership.kind)
                    .exists()
                ), (setting, name, membership)
            seen_by_someone |= {name} if expected else set()
    # The comparison means something: people on each side of the rule.
    assert {
        "community_admin",
        "grid_worker",
        "department_user",
        "officer",
        "two_grids",
        "building_head",
        "police",
        "worker_and_helper",
        "superuser",
    } <= seen_by_someone
    assert not {"merchant_user", "volunteer_user", "outsider", "subdistrict_user"} & seen_by_someone


def test_sight_is_three_queries_whatever_the_people(world, django_assert_num_queries):
    with django_assert_num_queries(3):
        sight = GroupMembership.objects.all().sight(world["people"].values())
    with django_assert_num_queries(0):
        for person in world["people"].values():
            sight.seen_pks(person)
