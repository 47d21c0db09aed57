"""The party API: every endpoint in the scoping matrix over the test cast, the bad-input checks,
the yearly report through the API, and the list query counts.

The world (also used by the other test_party_* modules): the cast's community has branch 1
(its secretary is grid1, a grid worker), branch 2 and a resident-unit organisation; the other
community has branch X. Members: m1 (branch 1, a resident), m2 (branch 2, the account of grid2:
the member themselves), m3 (the unit organisation, a resident), mX (branch X). Each member has a
mobile record, an attendance, an in-work registration, a task and hours.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from grids.models import (
    ClaimedTask,
    Compound,
    Dwelling,
    Grid,
    InWorkRegistration,
    InWorkReport,
    MobileMembership,
    OrganisationalLifeAttendance,
    OrganisationKind,
    PartyMember,
    PartyOrganisation,
    Resident,
    ResidentialBuilding,
    ServiceHours,
)
from shanglong.demo import rectangle
from shanglong.validators import Gender, identity_check_character
from tests.api import matrix

BOX = rectangle(118.495, 37.463, 0.01, 0.008)


def make_resident(grid: Grid, name: str, number: int) -> Resident:
    """A resident living in the grid (an adult, with a valid identity number)."""
    compound, _ = Compound.objects.get_or_create(grid=grid, name=f"小区{grid.code}")
    building, _ = ResidentialBuilding.objects.get_or_create(compound=compound, name="1号楼")
    dwelling = Dwelling.objects.create(building=building, unit="1单元", room=f"{100 + number}")
    body = f"37050219800101{number:03d}"
    resident = Resident(
        name=name, gender=Gender.MALE, birth_date=datetime.date(1980, 1, 1), dwelling=dwelling, mobile="13900000000"
    )
    resident.set_identity_number(body + identity_check_character(body))
    resident.save()
    return resident


def build_party_world(cast: matrix.Cast) -> dict:
    community, other = cast.community, cast.other_community
    users = cast.users
    committee = PartyOrganisation.objects.create(
        community=community, name="商隆社区党委", kind=OrganisationKind.COMMUNITY_COMMITTEE
    )
    branch1 = PartyOrganisation.objects.create(
        community=community,
        name="第一网格党支部",
        kind=OrganisationKind.GRID_BRANCH,
        parent=committee,
        secretary=users["grid_worker"],
    )
    branch2 = PartyOrganisation.objects.create(
        community=community, name="第二网格党支部", kind=OrganisationKind.GRID_BRANCH, parent=committee
    )
    joint = PartyOrganisation.objects.create(
        community=community, name="商圈综合党委", kind=OrganisationKind.DISTRICT_JOINT_COMMITTEE, parent=committee
    )
    unit = PartyOrganisation.objects.create(
        community=community, name="供销商场党支部", kind=OrganisationKind.UNIT_ORGANISATION, parent=joint
    )
    branch_x = PartyOrganisation.objects.create(community=other, name="文汇支部", kind=OrganisationKind.GRID_BRANCH)
    unit_x = PartyOrganisation.objects.create(community=other, name="文汇单位", kind=OrganisationKind.UNIT_ORGANISATION)
    grid_a = Grid.objects.create(community=community, code="01", name="网格A", branch=branch1, boundary=BOX)
    grid_b = Grid.objects.create(community=community, code="02", name="网格B", branch=branch2, boundary=BOX)
    grid_x = Grid.objects.create(community=other, code="01", name="文汇网格", branch=branch_x, boundary=BOX)
    residents = {
        "r1": make_resident(grid_a, "王志刚", 1),
        "r3": make_resident(grid_b, "许国庆", 3),
        "rx": make_resident(grid_x, "周文", 9),
        "spare": make_resident(grid_a, "李新", 4),
    }
    joined = datetime.date(2000, 7, 1)
    members = {
        "m1": PartyMember.objects.create(
            resident=residents["r1"], name="王志刚", organisation=branch1, joined_on=joined, phone="13800001111"
        ),
        "m2": PartyMember.objects.create(
            user=users["other_grid_worker"], name="grid2", organisation=branch2, joined_on=joined
        ),
        "m3": PartyMember.objects.create(resident=residents["r3"], name="许国庆", organisation=unit, joined_on=joined),
        "mX": PartyMember.objects.create(
            resident=residents["rx"], name="周文", organisation=branch_x, joined_on=joined
        ),
    }
    since = datetime.date(2025, 1, 1)
    mobiles, attendances, registrations, tasks, hours = {}, {}, {}, {}, {}
    for suffix in ("1", "2", "3", "X"):
        member = members[f"m{suffix}"]
        mobiles[f"mob{suffix}"] = MobileMembership.objects.create(
            member=member,
            direction="inflow" if suffix == "2" else "outflow",
            place="青岛市",
            since=since,
            contact_method="wechat",
            membership_kept_at="博兴县某支部",
        )
        attendances[f"att{suffix}"] = OrganisationalLifeAttendance.objects.create(
            mobile_membership=mobiles[f"mob{suffix}"], date=datetime.date(2025, 2, 1), kind="theme_day", way="online"
        )
        registrations[f"reg{suffix}"] = InWorkRegistration.objects.create(
            member=member, employer_name="区人社局机关党支部", registered_on=datetime.date(2024, 1, 1)
        )
        tasks[f"t{suffix}"] = ClaimedTask.objects.create(
            registration=registrations[f"reg{suffix}"], title=f"任务{suffix}", claimed_on=datetime.date(2025, 1, 10)
        )
        hours[f"h{suffix}"] = ServiceHours.objects.create(
            task=tasks[f"t{suffix}"], served_on=datetime.date(2025, 2, 1), hours=Decimal("2.0")
        )
    return {
        "organisations": {
            "committee": committee,
            "branch1": branch1,
            "branch2": branch2,
            "joint": joint,
            "unit": unit,
            "branchX": branch_x,
            "unitX": unit_x,
        },
        "grids": {"A": grid_a, "B": grid_b, "X": grid_x},
        "residents": residents,
        "members": members,
        "mobiles": mobiles,
        "attendances": attendances,
        "registrations": registrations,
        "tasks": tasks,
        "hours": hours,
    }


# Who sees which member: staff and the admin their community's, the secretary of branch 1 its
# member, grid2 themselves, staff2 the other community's, subdistrict staff both communities.
# Grid workers without a branch, merchants, volunteers, departments and outsiders see none.
def visible(prefix: str) -> dict[str, set[str]]:
    own = {f"{prefix}1", f"{prefix}2", f"{prefix}3"}
    return {
        "staff": own,
        "community_admin": own,
        "grid_worker": {f"{prefix}1"},
        "other_grid_worker": {f"{prefix}2"},
        "other_staff": {f"{prefix}X"},
        "subdistrict_user": own | {f"{prefix}X"},
    }


WRITERS = ("staff", "community_admin", "other_staff", "grid_worker")


def writable(prefix: str) -> dict[str, set[str]]:
    own = {f"{prefix}1", f"{prefix}2", f"{prefix}3"}
    return {"staff": own, "community_admin": own, "other_staff": {f"{prefix}X"}, "grid_worker": {f"{prefix}1"}}


def _world(cast: matrix.Cast, key: str) -> dict:
    return build_party_world(cast)[key]


def _member_payload(cast, rows, person):
    if person == "other_staff":
        organisation, user = PartyOrganisation.objects.get(name="文汇支部"), cast.users["other_staff"]
    elif person == "grid_worker":
        organisation, user = PartyOrganisation.objects.get(name="第一网格党支部"), cast.users["volunteer_user"]
    else:
        organisation, user = PartyOrganisation.objects.get(name="第二网格党支部"), cast.users["merchant_user"]
    return {
        "organisation": organisation.pk,
        "user": user.pk,
        "status": "probationary",
        "joined_on": "2024-07-01",
        "phone": "13912345678",
    }


def _member_foreign(cast, rows, person):
    spare = Resident.objects.get(name="李新")
    if person == "other_staff":
        return [{"organisation": PartyOrganisation.objects.get(name="第一网格党支部").pk}, {"resident": spare.pk}]
    foreign = [
        {"organisation": PartyOrganisation.objects.get(name="文汇支部").pk},
        {"resident": Resident.objects.get(name="周文").pk},
        {"user": cast.users["other_staff"].pk},
    ]
    if person == "grid_worker":
        # A branch of their own community that is not theirs.
        foreign.append({"organisation": PartyOrganisation.objects.get(name="第二网格党支部").pk})
    return foreign


def _writer_suffix(person: str, default: str) -> str:
    return {"grid_worker": "1", "other_staff": "X"}.get(person, default)


def _row(model, suffix: str):
    """The world's row of a model for a member suffix (1, 2, 3, X)."""
    member = PartyMember.objects.get(name={"1": "王志刚", "2": "grid2", "3": "许国庆", "X": "周文"}[suffix])
    if model is MobileMembership:
        return MobileMembership.objects.get(member=member)
    if model is InWorkRegistration:
        return InWorkRegistration.objects.get(member=member)
    if model is ClaimedTask:
        return ClaimedTask.objects.get(registration__member=member)
    return member


def _foreign_suffixes(person: str) -> list[str]:
    if person == "other_staff":
        return ["1"]
    if person == "grid_worker":
        return ["2", "X"]
    return ["X"]


def _mobile_payload(cast, rows, person):
    member = _row(PartyMember, _writer_suffix(person, "3"))
    # The world's records run from 2025; a closed record in 2020 overlaps none.
    return {
        "member": member.pk,
        "direction": "outflow",
        "place": "深圳市南山区",
        "since": "2020-01-01",
        "until": "2020-12-31",
        "contact_method": "phone",
    }


def _attendance_payload(cast, rows, person):
    record = _row(MobileMembership, _writer_suffix(person, "2"))
    return {"mobile_membership": record.pk, "date": "2025-03-01", "kind": "party_lesson", "way": "in_person"}


def _registration_payload(cast, rows, person):
    member = _row(PartyMember, _writer_suffix(person, "3"))
    return {
        "member": member.pk,
        "employer_name": "胜利油田机关党委",
        "registered_on": "2019-01-01",
        "ended_on": "2019-12-31",
    }


def _task_payload(cast, rows, person):
    registration = _row(InWorkRegistration, _writer_suffix(person, "2"))
    return {"registration": registration.pk, "title": "萤火虫课堂", "claimed_on": "2025-06-01"}


def _hours_payload(cast, rows, person):
    task = _row(ClaimedTask, _writer_suffix(person, "2"))
    return {"task": task.pk, "served_on": "2025-07-01", "hours": "2.5"}


def _foreign(model, field: str):
    def payloads(cast, rows, person):
        return [{field: _row(model, suffix).pk} for suffix in _foreign_suffixes(person)]

    return payloads


def _registration_foreign(cast, rows, person):
    payloads = _foreign(PartyMember, "member")(cast, rows, person)
    unit = "供销商场党支部" if person == "other_staff" else "文汇单位"
    return [*payloads, {"employer_organisation": PartyOrganisation.objects.get(name=unit).pk}]


CASES = [
    matrix.EndpointCase(
        id="party-members",
        route="api:partymember",
        build_rows=lambda cast: _world(cast, "members"),
        visible=visible("m"),
        writers=WRITERS,
        create_payload=_member_payload,
        foreign_payloads=_member_foreign,
        writable=writable("m"),
        update_payload=lambda cast, rows, person: {"note": "改"},
    ),
    matrix.EndpointCase(
        id="mobile-memberships",
        route="api:mobilemembership",
        build_rows=lambda cast: _world(cast, "mobiles"),
        visible=visible("mob"),
        writers=WRITERS,
        create_payload=_mobile_payload,
        foreign_payloads=_foreign(PartyMember, "member"),
        writable=writable("mob"),
        update_payload=lambda cast, rows, person: {"contact_detail": "微信群"},
    ),
    matrix.EndpointCase(
        id="organisational-life",
        route="api:organisationallifeattendance",
        build_rows=lambda cast: _world(cast, "attendances"),
        visible=visible("att"),
        writers=WRITERS,
        create_payload=_attendance_payload,
        foreign_payloads=_foreign(MobileMembership, "mobile_membership"),
    ),
    matrix.EndpointCase(
        id="in-work-registrations",
        route="api:inworkregistration",
        build_rows=lambda cast: _world(cast, "registrations"),
        visible=visible("reg"),
        writers=WRITERS,
        create_payload=_registration_payload,
        foreign_payloads=_registration_foreign,
        writable=writable("reg"),
        update_payload=lambda cast, rows, person: {"note": "改"},
    ),
    matrix.EndpointCase(
        id="claimed-tasks",
        route="api:claimedtask",
        build_rows=lambda cast: _world(cast, "tasks"),
        visible=visible("t"),
        writers=WRITERS,
        create_payload=_task_payload,
        foreign_payloads=_foreign(InWorkRegistration, "registration"),
        writable=writable("t"),
        update_payload=lambda cast, rows, person: {"status": "completed"},
    ),
    matrix.EndpointCase(
        id="service-hours",
        route="api:servicehours",
        build_rows=lambda cast: _world(cast, "hours"),
        visible=visible("h"),
        writers=WRITERS,
        create_payload=_hours_payload,
        foreign_payloads=_foreign(ClaimedTask, "task"),
    ),
]

test_list_shows_exactly_the_visible_rows = matrix.list_test(CASES)
test_detail_outside_scope_is_404 = matrix.detail_test(CASES)
test_create_is_for_writers_only = matrix.create_test(CASES)
test_foreign_keys_outside_scope_are_400 = matrix.foreign_key_test(CASES)
test_update_is_for_writers_of_their_rows = matrix.update_test(CASES)


# --- The checks, through the API -------------------------------------------------------------


@pytest.fixture
def world(request):
    return build_party_world(matrix.build_cast(request))


def call(user, method: str, url: str, payload: dict | None = None):
    with matrix.fresh_throttle_cache():
        client = matrix.api_client(user)
        if method == "get":
            return client.get(url, payload or {})
        return getattr(client, method)(url, payload or {}, content_type="application/json")


# Writes refused with a 400 that names the field and says why; nothing is written. Each case:
# the endpoint, the payload (from the world and the cast), the field, part of the message.
REFUSED = [
    pytest.param(
        "partymember",
        lambda world, users: {
            "organisation": world["organisations"]["branch2"].pk,
            "user": users("merchant_user").pk,
            "joined_on": "2024-07-01",
            "phone": "1234567",
        },
        "phone",
        "mainland mobile number",
        id="an_invalid_phone",
    ),
    pytest.param(
        "partymember",
        lambda world, users: {
            "name": "无名",
            "organisation": world["organisations"]["branch2"].pk,
            "joined_on": "2024-07-01",
        },
        "resident",
        "resident, a portal account, or both",
        id="a_member_needs_a_resident_or_an_account",
    ),
    pytest.param(
        "partymember",
        lambda world, users: {
            "organisation": world["organisations"]["committee"].pk,
            "user": users("merchant_user").pk,
            "joined_on": "2024-07-01",
        },
        "organisation",
        "does not exist",
        id="an_organisation_that_is_no_member_organisation",
    ),
    pytest.param(
        "partymember",
        lambda world, users: {
            "organisation": world["organisations"]["branch1"].pk,
            "user": users("other_grid_worker").pk,
            "joined_on": "2024-07-01",
        },
        "user",
        "already linked",
        id="an_account_is_linked_to_one_member_only",
    ),
    pytest.param(
        "mobilemembership",
        lambda world, users: {
            "member": world["members"]["m3"].pk,
            "direction": "outflow",
            "place": "深圳",
            "since": "2026-01-01",
            "contact_method": "phone",
        },
        "since",
        "another mobile record",
        id="a_second_open_mobile_record",
    ),
    pytest.param(
        "mobilemembership",
        lambda world, users: {
            "member": world["members"]["m3"].pk,
            "direction": "inflow",
            "place": "滨州",
            "since": "2020-01-01",
            "until": "2020-12-31",
            "contact_method": "phone",
        },
        "membership_kept_at",
        "keeps the membership of an inflow member",
        id="an_inflow_member_says_where_the_membership_is_kept",
    ),
    pytest.param(
        "organisationallifeattendance",
        lambda world, users: {
            "mobile_membership": world["mobiles"]["mob2"].pk,
            "date": "2024-12-31",
            "kind": "party_lesson",
            "way": "online",
        },
        "date",
        "outside the mobile record",
        id="attendance_outside_the_mobile_record",
    ),
    pytest.param(
        "organisationallifeattendance",
        lambda world, users: {
            "mobile_membership": world["mobiles"]["mob1"].pk,
            "date": "2025-02-01",
            "kind": "theme_day",
            "way": "in_person",
        },
        "kind",
        "already recorded for that day",
        id="a_session_is_recorded_once_a_day",
    ),
    pytest.param(
        "inworkregistration",
        lambda world, users: {
            "member": world["members"]["m3"].pk,
            "employer_name": "区财政局党支部",
            "registered_on": "2025-09-01",
        },
        "registered_on",
        "another registration for these dates",
        id="a_second_registration_for_the_same_dates",
    ),
    pytest.param(
        "claimedtask",
        lambda world, users: {
            "registration": world["registrations"]["reg1"].pk,
            "title": "岗亭普法",
            "claimed_on": "2025-05-01",
            "completed_on": "2025-06-01",
        },
        "completed_on",
        "in progress has no completion date",
        id="a_task_in_progress_has_no_completion_date",
    ),
    pytest.param(
        "servicehours",
        lambda world, users: {"task": world["tasks"]["t1"].pk, "served_on": "2025-07-01", "hours": "25"},
        "hours",
        "less than or equal to 24",
        id="more_than_24_hours_a_day",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "payload", "field", "message"), REFUSED)
def test_a_refused_write_is_a_400_that_says_why_and_writes_nothing(
    request, staff, world, route, payload, field, message
):
    model = {
        "partymember": PartyMember,
        "mobilemembership": MobileMembership,
        "organisationallifeattendance": OrganisationalLifeAttendance,
        "inworkregistration": InWorkRegistration,
        "claimedtask": ClaimedTask,
        "servicehours": ServiceHours,
    }[route]
    before = model.objects.count()
    response = call(staff, "post", reverse(f"api:{route}-list"), payload(world, request.getfixturevalue))
    assert response.status_code == 400
    assert message in response.json()[field][0]
    assert model.objects.count() == before


@pytest.mark.django_db
def test_the_name_is_taken_from_the_resident_and_the_phone_is_read_masked(staff, world):
    payload = {
        "organisation": world["organisations"]["branch1"].pk,
        "resident": world["residents"]["spare"].pk,
        "joined_on": "2024-07-01",
        "phone": "139 1234 5678",
    }
    response = call(staff, "post", reverse("api:partymember-list"), payload)
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "李新"
    assert response.json()["phone"] == "139****5678"
    member = PartyMember.objects.get(pk=response.json()["id"])
    assert member.phone == "13912345678"
    assert member.history.count() == 1
    listed = call(staff, "get", reverse("api:partymember-detail", args=[member.pk]))
    assert listed.json()["phone"] == "139****5678"


@pytest.mark.django_db
def test_a_mobile_record_ending_before_it_starts_is_a_400_and_nothing_is_written(staff, world):
    payload = {
        "member": world["members"]["m3"].pk,
        "direction": "outflow",
        "place": "深圳",
        "since": "2020-05-01",
        "until": "2020-04-30",
        "contact_method": "phone",
    }
    before = MobileMembership.objects.count()
    response = call(staff, "post", reverse("api:mobilemembership-list"), payload)
    assert response.status_code == 400
    assert response.json()["until"] == ["The end cannot be before the start."]
    assert MobileMembership.objects.count() == before


@pytest.mark.django_db
def test_attendance_records_who_recorded_it(staff, world):
    payload = {
        "mobile_membership": world["mobiles"]["mob2"].pk,
        "date": "2025-04-01",
        "kind": "party_lesson",
        "way": "online",
    }
    response = call(staff, "post", reverse("api:organisationallifeattendance-list"), payload)
    assert response.status_code == 201, response.content
    assert response.json()["recorded_by"] == staff.pk
    again = call(staff, "post", reverse("api:organisationallifeattendance-list"), payload)
    assert again.status_code == 400


@pytest.mark.django_db
def test_hours_cannot_be_changed_or_deleted_through_the_api(staff, world):
    url = reverse("api:servicehours-detail", args=[world["hours"]["h1"].pk])
    assert call(staff, "patch", url, {"hours": "9.0"}).status_code == 405
    assert call(staff, "delete", url).status_code == 405


@pytest.mark.django_db
def test_hours_are_filtered_by_year_and_a_year_out_of_range_is_a_400(staff, world):
    url = reverse("api:servicehours-list")
    assert len(call(staff, "get", url, {"year": 2025}).json()["results"]) == 3
    assert call(staff, "get", url, {"year": 2024}).json()["results"] == []
    out_of_range = call(staff, "get", url, {"year": 99999})
    assert out_of_range.status_code == 400
    assert "year" in out_of_range.json()


@pytest.mark.django_db
def test_a_task_lists_its_hours_with_their_sum(staff, world):
    task = world["tasks"]["t1"]
    ServiceHours.objects.create(task=task, served_on=datetime.date(2025, 3, 1), hours=Decimal("1.5"))
    response = call(staff, "get", reverse("api:claimedtask-detail", args=[task.pk]))
    assert response.json()["hours_total"] == "3.5"
    assert [entry["hours"] for entry in response.json()["service_hours"]] == ["2.0", "1.5"]


@pytest.mark.django_db
def test_the_yearly_report_and_marking_it_sent_through_the_api(staff, grid_worker, world):
    registration = world["registrations"]["reg1"]
    ServiceHours.objects.create(task=world["tasks"]["t1"], served_on=datetime.date(2024, 12, 31), hours=Decimal("4"))
    report = call(grid_worker, "get", reverse("api:inworkregistration-report", args=[registration.pk]), {"year": 2025})
    assert report.status_code == 200
    assert report.json()["hours_total"] == "2.0"
    assert [task["title"] for task in report.json()["tasks"]] == ["任务1"]
    assert report.json()["sent"] is None
    url = reverse("api:inworkregistration-mark-report-sent", args=[registration.pk])
    sent = call(grid_worker, "post", url, {"year": 2025, "note": "当面送达"})
    assert sent.status_code == 201, sent.content
    assert sent.json()["sent_by"] == grid_worker.pk
    assert sent.json()["hours_reported"] == "2.0"
    again = call(staff, "post", url, {"year": 2025})
    assert again.status_code == 409
    assert again.json()["sent"]["sent_by"] == grid_worker.pk
    assert InWorkReport.objects.get().sent_by == grid_worker


@pytest.mark.django_db
def test_the_member_themselves_cannot_mark_their_report_sent(other_grid_worker, world):
    url = reverse("api:inworkregistration-mark-report-sent", args=[world["registrations"]["reg2"].pk])
    assert call(other_grid_worker, "post", url, {"year": 2025}).status_code == 403
    assert not InWorkReport.objects.exists()


@pytest.mark.django_db
def test_members_are_filtered_by_mobile_direction(staff, world):
    response = call(staff, "get", reverse("api:partymember-list"), {"mobile": "inflow"})
    assert matrix.listed_ids(response) == [world["members"]["m2"].pk]
    assert response.json()["results"][0]["mobile_direction"] == "inflow"
    assert response.json()["results"][0]["in_work"] is True


# --- Query counts ------------------------------------------------------------------------------


def populate(staff, rows: int) -> None:
    """`rows` members of one branch, each with a mobile record and attendance, an in-work
    registration, a task and two hours records."""
    branch = PartyOrganisation.objects.create(community=staff.community, name="支部", kind=OrganisationKind.GRID_BRANCH)
    grid = Grid.objects.create(community=staff.community, code="01", name="网格", branch=branch, boundary=BOX)
    for number in range(rows):
        member = PartyMember.objects.create(
            resident=make_resident(grid, f"党员{number}", number + 10),
            name=f"党员{number}",
            organisation=branch,
            joined_on=datetime.date(2000, 7, 1),
            phone="13800001111",
        )
        record = MobileMembership.objects.create(
            member=member, direction="outflow", place="青岛", since=datetime.date(2025, 1, 1), contact_method="wechat"
        )
        OrganisationalLifeAttendance.objects.create(
            mobile_membership=record, date=datetime.date(2025, 2, 1), kind="theme_day", way="online"
        )
        registration = InWorkRegistration.objects.create(
            member=member, employer_name="机关党支部", registered_on=datetime.date(2024, 1, 1)
        )
        task = ClaimedTask.objects.create(registration=registration, title="任务", claimed_on=datetime.date(2025, 1, 1))
        for day in (1, 2):
            ServiceHours.objects.create(task=task, served_on=datetime.date(2025, 3, day), hours=Decimal("1"))


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [5, 50])
@pytest.mark.parametrize(
    ("route", "queries"),
    [
        # session, user, page count, rows (with organisation, the mobile direction and in-work subqueries)
        ("partymember", 4),
        # session, user, page count, rows (with member), attendances
        ("mobilemembership", 5),
        # session, user, page count, rows
        ("organisationallifeattendance", 4),
        # session, user, page count, rows (with the year's hours summed)
        ("inworkregistration", 4),
        # session, user, page count, rows (with hours summed), hours records
        ("claimedtask", 5),
        # session, user, page count, rows
        ("servicehours", 4),
    ],
)
def test_api_list_queries(staff, django_assert_num_queries, rows, route, queries):
    populate(staff, rows)
    client = matrix.api_client(staff)
    with matrix.fresh_throttle_cache(), django_assert_num_queries(queries):
        response = client.get(reverse(f"api:{route}-list"))
    assert response.status_code == 200
    assert response.json()["count"] >= rows
