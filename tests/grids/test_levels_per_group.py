"""Levels per group kind (grids.models.groups): each kind is kept on its own scale and the visit
rule follows the level; a level of another scale is refused with a message on the page, through
the API and by the database; the data migration moves the rows of the old single scale
(严管/普管/宽管) onto the new ones without losing a visit or a custom rule."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from grids.models import GroupKind, GroupMembership, LedgerSubject, Level, Visit, default_visit_rule, scale_for
from grids.models.groups import SCALES, VISIT_RULES, aftercare_error, default_level, level_error
from tests.api import matrix
from tests.conftest import client_for
from tests.grids.ledger_world import civil_affairs, enterprise, line_for, member, visit
from tests.grids.people_world import build_people


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


# --- The scales and their rules --------------------------------------------------------------


def test_every_kind_has_one_scale_and_every_level_a_rule():
    kinds = [group for scale in SCALES for group in scale.groups]
    assert sorted(kinds) == sorted([*GroupKind.values, ""])  # each kind once, and enterprises
    assert set(VISIT_RULES) == set(Level.values)
    assert scale_for(GroupKind.ELDERLY_ALONE).code == "care"
    assert scale_for(GroupKind.COMMUNITY_CORRECTION).code == "control"
    assert scale_for(GroupKind.RELEASED_PRISONER).code == "aftercare"
    assert scale_for(GroupKind.SEVERE_MENTAL_DISORDER).code == "risk_grade"
    assert scale_for(GroupKind.DRUG_USER).code == scale_for(GroupKind.KEY_YOUTH).code == "department"
    assert scale_for("").code == "risk_colour"


def test_the_rule_follows_the_level():
    assert default_visit_rule(level=Level.KEY_CARE, group=GroupKind.DISABILITY) == (1, "week", True)
    assert default_visit_rule(level=Level.GENERAL_CARE, group=GroupKind.DISABILITY) == (1, "month", False)
    # An elderly person living alone is called on every week even in general care.
    assert default_visit_rule(level=Level.GENERAL_CARE, group=GroupKind.ELDERLY_ALONE) == (1, "week", False)
    assert default_visit_rule(level=Level.RISK_0, group=GroupKind.SEVERE_MENTAL_DISORDER) == (1, "month", False)
    assert default_visit_rule(level=Level.RISK_2, group=GroupKind.SEVERE_MENTAL_DISORDER) == (2, "month", True)
    assert default_visit_rule(level=Level.RISK_5, group=GroupKind.SEVERE_MENTAL_DISORDER) == (1, "week", True)
    assert default_visit_rule(level=Level.RED) == (1, "week", True)
    assert default_visit_rule(level=Level.BLUE) == (1, "month", False)


def test_no_elderly_person_is_under_strict_control():
    assert level_error(GroupKind.ELDERLY_ALONE, Level.STRICT) is not None
    assert level_error(GroupKind.ELDERLY_ALONE, Level.KEY_CARE) is None
    assert level_error(GroupKind.COMMUNITY_CORRECTION, Level.STRICT) is None
    assert level_error("", Level.KEY_CARE) is not None
    message = str(level_error(GroupKind.CHILD_IN_DIFFICULTY, Level.RISK_3))
    assert "care level" in message
    assert "Key care" in message
    assert "General care" in message


def test_aftercare_is_the_five_years_from_release():
    today = datetime.date(2026, 12, 4)
    assert default_level(GroupKind.RELEASED_PRISONER, datetime.date(2023, 3, 1), today) == Level.AFTERCARE
    assert default_level(GroupKind.RELEASED_PRISONER, datetime.date(2020, 3, 1), today) == Level.PAST_AFTERCARE
    assert aftercare_error(Level.AFTERCARE, datetime.date(2020, 3, 1), today) is not None
    assert aftercare_error(Level.PAST_AFTERCARE, datetime.date(2023, 3, 1), today) is not None
    assert aftercare_error(Level.AFTERCARE, datetime.date(2023, 3, 1), today) is None


# --- Refused on the page, through the API and by the database --------------------------------


@pytest.fixture
def world(request, db):
    cast = matrix.build_cast(request)
    people = build_people(cast)
    return {"cast": cast, **people}


def test_the_page_refuses_a_level_of_another_scale_and_saves_nothing(world):
    client = client_for(world["cast"].users["community_admin"])
    resident = world["residents"]["A"]
    before = GroupMembership.objects.count()
    response = client.post(
        reverse("grids:membership_create", args=[resident.pk]),
        {"kind": "elderly_alone", "level": "strict", "department": world["cast"].department.pk, "since": "2025-01-01"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["level"]
    assert any("care level" in error for error in errors), errors
    assert GroupMembership.objects.count() == before


def test_a_special_group_left_without_a_level_takes_general_care(world):
    client = client_for(world["cast"].users["community_admin"])
    resident = world["residents"]["A"]
    response = client.post(
        reverse("grids:membership_create", args=[resident.pk]),
        {"kind": "disability", "disability_grade": 2, "department": world["cast"].department.pk, "since": "2025-01-01"},
    )
    assert response.status_code == 302, response.context["form"].errors
    assert GroupMembership.objects.get(resident=resident, kind="disability").level == Level.GENERAL_CARE


def test_the_level_select_names_each_options_scale(world):
    client = client_for(world["cast"].users["community_admin"])
    page = client.get(reverse("grids:membership_create", args=[world["residents"]["A"].pk])).content.decode()
    assert 'data-level-of="kind"' in page
    assert 'value="key_care" data-scale="care"' in page
    assert 'value="risk_3" data-scale="risk_grade"' in page
    assert '<optgroup label="care level">' in page


def test_the_api_refuses_a_level_of_another_scale(world):
    with matrix.fresh_throttle_cache():
        client = matrix.api_client(world["cast"].users["community_admin"])
        response = client.post(
            reverse("api:groupmembership-list"),
            {
                "resident": world["residents"]["A"].pk,
                "kind": "severe_mental_disorder",
                "level": "key_care",
                "department": world["cast"].department.pk,
                "since": "2025-06-01",
            },
            format="json",
        )
    assert response.status_code == 400, response.content
    assert "risk grade" in response.content.decode()
    assert not GroupMembership.objects.filter(kind="severe_mental_disorder", level="key_care").exists()


def test_the_ledger_form_refuses_an_enterprise_on_a_care_level(world):
    client = client_for(world["cast"].users["community_admin"])
    grid = world["grids"]["A"]
    response = client.post(
        reverse("grids:ledger_subject_create"),
        {"kind": "key_enterprise", "name": "某商场", "grid": grid.pk, "level": "key_care", "entered_on": "2025-01-01"},
    )
    assert response.status_code == 200
    assert "level" in response.context["form"].errors
    assert not LedgerSubject.objects.filter(name="某商场").exists()


def test_the_database_refuses_a_level_of_another_scale(world):
    membership = GroupMembership.objects.filter(kind=GroupKind.COMMUNITY_CORRECTION).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        GroupMembership.objects.filter(pk=membership.pk).update(level=Level.KEY_CARE)
    subject = enterprise(world["grids"]["A"], "某企业")
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerSubject.objects.filter(pk=subject.pk).update(level=Level.GENERAL_CARE)


# --- The data migration ----------------------------------------------------------------------

BEFORE = ("grids", "0013_party_groups")
# (kind, old level, the release date for a released prisoner) -> the new level
CASES = [
    (GroupKind.ELDERLY_ALONE, "strict", None, Level.KEY_CARE),
    (GroupKind.CHILD_IN_DIFFICULTY, "strict", None, Level.KEY_CARE),
    (GroupKind.LOW_INCOME, "normal", None, Level.GENERAL_CARE),
    (GroupKind.DISABILITY, "light", None, Level.GENERAL_CARE),
    (GroupKind.COMMUNITY_CORRECTION, "strict", None, Level.STRICT),
    (GroupKind.COMMUNITY_CORRECTION, "light", None, Level.LIGHT),
    (GroupKind.RELEASED_PRISONER, "strict", datetime.date(2024, 5, 1), Level.AFTERCARE),
    (GroupKind.RELEASED_PRISONER, "light", datetime.date(2019, 5, 1), Level.PAST_AFTERCARE),
    (GroupKind.SEVERE_MENTAL_DISORDER, "strict", None, Level.RISK_3),
    (GroupKind.SEVERE_MENTAL_DISORDER, "normal", None, Level.RISK_1),
    (GroupKind.SEVERE_MENTAL_DISORDER, "light", None, Level.RISK_0),
    (GroupKind.DRUG_USER, "strict", None, Level.DEPARTMENT_HIGH),
    (GroupKind.KEY_YOUTH, "light", None, Level.DEPARTMENT_LOW),
]
ENTERPRISES = [("strict", Level.RED), ("normal", Level.YELLOW), ("light", Level.BLUE)]


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_old_rows_onto_their_scales_without_losing_a_visit(compounds, subdistrict):
    department = civil_affairs(subdistrict)
    compound = next(iter(compounds.values()))
    planned = []
    for n, (kind, old, release, new) in enumerate(CASES):
        since = release or datetime.date(2025, 1, 1)
        membership = member(
            compound, f"居民{n}", kind, department=department, level=default_level(kind, since), since=since
        )
        line = line_for(membership)
        visit(line, datetime.date(2026, 11, 2))
        planned.append((membership.pk, line.pk, old, new, kind))
    firms = []
    for n, (old, new) in enumerate(ENTERPRISES):
        firm = enterprise(compound.grid, f"企业{n}")
        visit(firm, datetime.date(2026, 11, 3))
        firms.append((firm.pk, old, new))
    # One line keeps a rule its team set by hand (custom): the migration leaves the rule alone.
    custom = enterprise(compound.grid, "自定企业", visits_required=3, period="month", face_to_face_only=False)
    visits_before = Visit.objects.count()

    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate([BEFORE])
    old_apps = executor.loader.project_state([BEFORE]).apps
    OldMembership = old_apps.get_model("grids", "GroupMembership")
    OldSubject = old_apps.get_model("grids", "LedgerSubject")
    # The rows as they were before: one scale for all, the rule of that scale.
    for membership_pk, line_pk, old, _new, _kind in planned:
        OldMembership.objects.filter(pk=membership_pk).update(level=old)
        OldSubject.objects.filter(pk=line_pk).update(level=old, visits_required=1, period="month")
    for firm_pk, old, _new in firms:
        OldSubject.objects.filter(pk=firm_pk).update(level=old, visits_required=1, period="month")
    OldSubject.objects.filter(pk=custom.pk).update(level="strict")

    executor = MigrationExecutor(connection)
    executor.migrate(leaves)

    for membership_pk, line_pk, _old, new, kind in planned:
        assert GroupMembership.objects.get(pk=membership_pk).level == new, kind
        line = LedgerSubject.objects.get(pk=line_pk)
        assert line.level == new, kind
        rule = default_visit_rule(level=new, group=kind)
        assert (line.visits_required, line.period, line.face_to_face_only) == tuple(rule), kind
    for firm_pk, _old, new in firms:
        firm = LedgerSubject.objects.get(pk=firm_pk)
        assert firm.level == new
        assert (firm.visits_required, firm.period, firm.face_to_face_only) == tuple(default_visit_rule(level=new))
    custom.refresh_from_db()
    assert custom.level == Level.RED
    assert (custom.visits_required, custom.period, custom.face_to_face_only) == (3, "month", False)
    assert Visit.objects.count() == visits_before
