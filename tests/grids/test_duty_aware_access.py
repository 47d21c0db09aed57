"""Sensitive groups by duty, not by any assignment: of the people on duty in a resident's grid,
the grid head, the full-time grid workers and the community police see the groups of the access
table's column `grid_workers` (by default all but severe mental disorder and drug users), the
part-time grid workers and building heads only those of `grid_helpers` (by default none). The
pages, the API, My day, the morning sweep and the ledger's note of hidden lines agree."""

from __future__ import annotations

import datetime
import importlib
import re

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from grids.actions import send_visit_reminders
from grids.models import Duty, GridAssignment, GroupAccessRule, GroupKind, GroupMembership, LedgerSubject
from shanglong.models import Notification, Role
from tests.api import matrix
from tests.conftest import client_for, make_user
from tests.grids.ledger_world import civil_affairs, enterprise, line_for, member

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
LONG_AGO = TODAY - datetime.timedelta(days=120)
ORDINARY = {GroupKind.COMMUNITY_CORRECTION, GroupKind.ELDERLY_ALONE}
SENSITIVE = {GroupKind.SEVERE_MENTAL_DISORDER, GroupKind.DRUG_USER}


@pytest.fixture(autouse=True)
def english_and_no_delivery(settings, monkeypatch):
    from shanglong import tasks

    settings.LANGUAGE_CODE = "en"
    monkeypatch.setattr(tasks.deliver_notifications_task, "delay_on_commit", lambda *a, **kw: None)


@pytest.fixture
def world(grids, compounds, on_duty, grid_worker, community, department, subdistrict):
    """Grid A: grid1 on duty full-time, a building head and a part-time grid worker; a member of
    each of four groups (community correction, elderly living alone, severe mental disorder, drug
    user) with a ledger line and no team, and an enterprise; a 精防医生 designated for severe
    mental disorder in the community's table (at its defaults otherwise)."""
    since = TODAY - datetime.timedelta(days=30)
    people = {"full_time": grid_worker}
    for name, duty in (("building_head", Duty.BUILDING_HEAD), ("part_time", Duty.PART_TIME)):
        people[name] = make_user(name, Role.GRID_WORKER, community=community)
        GridAssignment.objects.create(user=people[name], grid=grids["A"], duty=duty, since=since)
    people["officer"] = make_user("officer_mental", Role.STAFF, community=community)
    GroupAccessRule.objects.filter(community=community, kind=GroupKind.SEVERE_MENTAL_DISORDER).update(
        designated_officer=people["officer"]
    )
    departments = {GroupKind.ELDERLY_ALONE: civil_affairs(subdistrict)}
    memberships = {
        kind: member(
            compounds["A"],
            f"居民{number}",
            kind,
            department=departments.get(kind, department),
            level="strict" if kind == GroupKind.COMMUNITY_CORRECTION else None,
        )
        for number, kind in enumerate(
            [GroupKind.COMMUNITY_CORRECTION, GroupKind.ELDERLY_ALONE, *sorted(SENSITIVE)], start=1
        )
    }
    lines = {kind: line_for(membership, entered_on=LONG_AGO) for kind, membership in memberships.items()}
    lines["enterprise"] = enterprise(grids["A"], "乐活城", entered_on=LONG_AGO)
    return {"people": people, "memberships": memberships, "lines": lines, "community": community}


def grant(world, column: str, kinds: set[str], value: bool = True) -> None:
    GroupAccessRule.objects.filter(community=world["community"], kind__in=kinds).update(**{column: value})


def page_kinds(user, world) -> set[str]:
    """The groups shown on the resident pages of the four members."""
    shown = set()
    for membership in world["memberships"].values():
        response = client_for(user).get(reverse("grids:resident_detail", args=[membership.resident_id]))
        assert response.status_code == 200  # the resident, always (the grid rule)
        shown |= {kind for kind in GroupKind.values if f'data-group="{kind}"' in response.content.decode()}
    return shown


def api_kinds(user) -> set[str]:
    with matrix.fresh_throttle_cache():
        response = matrix.api_client(user).get(reverse("api:groupmembership-list"))
    return {item["kind"] for item in response.json()["results"]}


def ledger_kinds(user, world) -> dict[str, set[str]]:
    """The ledger lines seen through the ledger list, the ledger API, its due list and My day, by
    group ("" for the enterprise)."""
    by_pk = {line.pk: line.group for line in world["lines"].values()}
    client = client_for(user)
    seen = {
        "list": {subject.group for subject in client.get(reverse("grids:ledger_list")).context["page"]},
        "my_day": {
            by_pk[int(pk)]
            for pk in re.findall(r'data-subject="(\d+)"', client.get(reverse("grids:my_day")).content.decode())
        },
    }
    with matrix.fresh_throttle_cache():
        api = matrix.api_client(user)
        seen["api"] = {by_pk[item["id"]] for item in api.get(reverse("api:ledgersubject-list")).json()["results"]}
        seen["due"] = {by_pk[item["id"]] for item in api.get(reverse("api:ledger-due-list")).json()["results"]}
    return seen


def sees_everywhere(user, world, kinds: set[str]) -> None:
    assert page_kinds(user, world) == kinds
    assert api_kinds(user) == kinds
    for channel, seen in ledger_kinds(user, world).items():
        assert seen == {"", *kinds}, channel


def test_a_building_head_and_a_part_time_worker_see_no_group_member(world):
    for name in ("building_head", "part_time"):
        sees_everywhere(world["people"][name], world, set())


def test_a_full_time_worker_sees_the_ordinary_groups_but_not_the_mentally_ill_or_drug_users(world):
    sees_everywhere(world["people"]["full_time"], world, ORDINARY)


def test_the_access_table_gives_severe_mental_disorder_to_the_grid_workers_by_duty(world):
    grant(world, "grid_workers", {GroupKind.SEVERE_MENTAL_DISORDER})
    sees_everywhere(world["people"]["full_time"], world, ORDINARY | {GroupKind.SEVERE_MENTAL_DISORDER})
    # Not to the helpers: that is the other column.
    sees_everywhere(world["people"]["building_head"], world, set())


def test_the_helpers_column_gives_a_building_head_exactly_that_kind(world):
    grant(world, "grid_helpers", {GroupKind.ELDERLY_ALONE})
    sees_everywhere(world["people"]["building_head"], world, {GroupKind.ELDERLY_ALONE})
    sees_everywhere(world["people"]["part_time"], world, {GroupKind.ELDERLY_ALONE})
    sees_everywhere(world["people"]["full_time"], world, ORDINARY)


def test_the_designated_officer_sees_their_kind(world):
    officer = world["people"]["officer"]
    assert page_kinds(officer, world) == {GroupKind.SEVERE_MENTAL_DISORDER}
    assert api_kinds(officer) == {GroupKind.SEVERE_MENTAL_DISORDER}
    seen = {subject.group for subject in client_for(officer).get(reverse("grids:ledger_list")).context["page"]}
    assert seen == {"", GroupKind.SEVERE_MENTAL_DISORDER}


def test_a_helper_records_only_the_kinds_given_to_them(world, department):
    head = world["people"]["building_head"]
    resident = world["memberships"][GroupKind.COMMUNITY_CORRECTION].resident
    url = reverse("grids:membership_create", args=[resident.pk])
    assert client_for(head).get(url).status_code == 403
    payload = {"resident": resident.pk, "kind": GroupKind.ELDERLY_ALONE, "level": "general_care"}
    payload |= {"department": department.pk, "since": "2025-01-01"}
    with matrix.fresh_throttle_cache():
        assert matrix.api_client(head).post(reverse("api:groupmembership-list"), payload).status_code == 403
    grant(world, "grid_helpers", {GroupKind.ELDERLY_ALONE})
    assert client_for(head).get(url).status_code == 200
    with matrix.fresh_throttle_cache():
        assert matrix.api_client(head).post(reverse("api:groupmembership-list"), payload).status_code == 201
        payload["kind"], payload["level"] = GroupKind.KEY_YOUTH, "dept_low"
        assert matrix.api_client(head).post(reverse("api:groupmembership-list"), payload).status_code == 400


@pytest.mark.parametrize(
    "table", ["defaults", "helpers get the elderly", "grid workers get the mentally ill", "grid workers lose all"]
)
def test_the_morning_sweep_agrees_with_visible_to(world, table):
    if table == "helpers get the elderly":
        grant(world, "grid_helpers", {GroupKind.ELDERLY_ALONE})
    elif table == "grid workers get the mentally ill":
        grant(world, "grid_workers", {GroupKind.SEVERE_MENTAL_DISORDER})
    elif table == "grid workers lose all":
        grant(world, "grid_workers", set(GroupKind.values), value=False)
    send_visit_reminders(on=TODAY)
    for name in ("full_time", "building_head", "part_time"):
        person = world["people"][name]
        [reminder] = Notification.objects.filter(recipient=person)
        named = {line.pk for line in world["lines"].values() if f"· {line.name} (" in reminder.body}
        assert named == set(LedgerSubject.objects.visible_to(person).values_list("pk", flat=True)), name
    people = list(world["people"].values())
    sight = GroupMembership.objects.all().sight(people)
    for person in people:
        assert sight.seen_pks(person) == set(GroupMembership.objects.visible_to(person).values_list("pk", flat=True))


def hidden_note(user, **params) -> str | None:
    page = client_for(user).get(reverse("grids:ledger_list"), params).content.decode()
    found = re.search(r'data-testid="hidden-lines">([^<]*)<', page)
    return found.group(1) if found else None


def test_the_ledger_says_how_many_lines_the_access_table_hides(world, community_admin):
    assert hidden_note(world["people"]["full_time"]) == (
        "2 lines of special groups and key persons are not shown: the community&#x27;s access table does not give"
        " them to you."
    )
    assert hidden_note(world["people"]["building_head"]).startswith("4 lines ")
    grant(world, "grid_helpers", ORDINARY | {GroupKind.DRUG_USER})
    assert hidden_note(world["people"]["building_head"]).startswith(
        "1 line of special groups and key persons is not shown"
    )
    # The list's filters apply to the count too: no group line is an enterprise.
    assert hidden_note(world["people"]["full_time"], kind="key_enterprise") is None
    assert hidden_note(community_admin) is None


def test_the_admin_gives_a_kind_to_the_helpers_on_the_table_page(world, community_admin):
    url = reverse("grids:group_access")
    page = client_for(community_admin).get(url)
    assert "Part-time grid workers and building heads" in page.content.decode()
    data = {}
    for form in page.context["forms"]:
        for field in ("grid_workers", "grid_helpers", "department"):
            if getattr(form.instance, field):
                data[f"{form.prefix}-{field}"] = "on"
    assert not any(key.endswith("grid_helpers") for key in data)  # nobody's by default
    assert f"{GroupKind.DRUG_USER}-grid_workers" not in data
    data[f"{GroupKind.ELDERLY_ALONE}-grid_helpers"] = "on"
    data[f"{GroupKind.SEVERE_MENTAL_DISORDER}-designated_officer"] = world["people"]["officer"].pk
    assert client_for(community_admin).post(url, data).status_code == 302
    rule = GroupAccessRule.objects.get(community=world["community"], kind=GroupKind.ELDERLY_ALONE)
    assert (rule.grid_workers, rule.grid_helpers) == (True, True)
    assert page_kinds(world["people"]["building_head"], world) == {GroupKind.ELDERLY_ALONE}


def test_the_api_shows_and_changes_the_helpers_column(world, community_admin):
    rule = GroupAccessRule.objects.get(community=world["community"], kind=GroupKind.DRUG_USER)
    with matrix.fresh_throttle_cache():
        client = matrix.api_client(community_admin)
        url = reverse("api:groupaccessrule-detail", args=[rule.pk])
        assert client.get(url).json()["grid_helpers"] is False
        response = client.patch(url, {"grid_helpers": True}, content_type="application/json")
    assert response.status_code == 200
    assert api_kinds(world["people"]["part_time"]) == {GroupKind.DRUG_USER}


# --- The migration -------------------------------------------------------------------------


def test_the_migration_turns_off_only_the_rows_nobody_changed(community, other_community, community_admin):
    migration = importlib.import_module("grids.migrations.0015_duty_aware_group_access")
    # Both tables at the old default (as made before this change: a "+" history row each).
    GroupAccessRule.objects.update(grid_workers=True)
    # The admin of the first community looked at severe mental disorder and kept it on.
    rule = GroupAccessRule.objects.get(community=community, kind=GroupKind.SEVERE_MENTAL_DISORDER)
    rule.designated_officer = community_admin
    rule._history_user = community_admin
    rule.save()

    migration.apply_the_new_default(apps, None)

    off = set(GroupAccessRule.objects.filter(grid_workers=False).values_list("community_id", "kind"))
    assert off == {
        (community.pk, GroupKind.DRUG_USER),
        (other_community.pk, GroupKind.DRUG_USER),
        (other_community.pk, GroupKind.SEVERE_MENTAL_DISORDER),
    }
    flipped = GroupAccessRule.history.filter(history_change_reason=migration.CHANGE_REASON)
    assert flipped.count() == 3
    assert not flipped.filter(grid_workers=True).exists()
    # Run again: nothing more to do (the flipped rows are off, the kept one has its change).
    migration.apply_the_new_default(apps, None)
    assert flipped.count() == 3
