"""The people demo data: about forty residents with valid Dongying identity numbers in several
compounds (鲁园小区 among them), households, two rented flats, a dozen group memberships with
their departments; seeding twice changes nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from grids.demo import demo_resident_id
from grids.models import GroupAccessRule, GroupKind, GroupMembership, Household, Resident, Tenancy
from shanglong.validators import parse_resident_id

pytestmark = pytest.mark.django_db


def seed() -> None:
    call_command("seed_demo", stdout=io.StringIO())


def test_the_demo_residents_are_valid_and_spread_over_compounds():
    seed()
    residents = list(Resident.objects.select_related("dwelling__building__compound"))
    assert 35 <= len(residents) <= 45
    compounds = {resident.dwelling.building.compound.name for resident in residents}
    assert "鲁园小区" in compounds
    assert len(compounds) >= 5
    for resident in residents:
        assert resident.id_number.startswith("370502")
        info = parse_resident_id(resident.id_number)  # the check character is right
        assert (info.birth_date, info.gender) == (resident.birth_date, resident.gender)
    assert Household.objects.count() >= 15
    assert Tenancy.objects.values("dwelling").distinct().count() == 2
    assert Resident.objects.filter(moved_out__isnull=False).count() == 1


def test_the_demo_groups_have_their_departments():
    seed()
    memberships = GroupMembership.objects.select_related("department")
    assert memberships.count() >= 10
    assert set(memberships.values_list("kind", flat=True)) == set(GroupKind.values)
    by_kind = {membership.kind: membership.department.name for membership in memberships}
    assert by_kind["community_correction"] == "司法所"
    assert by_kind["low_income"] == "民政办"
    assert GroupAccessRule.objects.filter(community__code="370502-wenhui-shanglong").count() == len(GroupKind.values)


def test_seeding_twice_changes_nothing():
    seed()
    counts = [model.objects.count() for model in (Resident, Household, Tenancy, GroupMembership, GroupAccessRule)]
    history = Resident.history.count()
    seed()
    assert counts == [
        model.objects.count() for model in (Resident, Household, Tenancy, GroupMembership, GroupAccessRule)
    ]
    assert Resident.history.count() == history


def test_demo_identity_numbers_encode_the_gender():
    import datetime

    number = demo_resident_id(datetime.date(1950, 7, 8), 2, "female")
    assert parse_resident_id(number).gender == "female"


def test_the_designated_officers_see_their_groups_and_the_building_heads_none():
    from shanglong.models import User

    output = io.StringIO()
    call_command("seed_demo", stdout=output)
    for login in ("officer_child", "officer_disability", "officer_civil", "officer_mental", "officer_drug"):
        assert f"  {login} " in output.getvalue()
    rules = GroupAccessRule.objects.filter(community__code="370502-wenhui-shanglong")
    officers = dict(rules.values_list("kind", "designated_officer__username"))
    assert officers[GroupKind.SEVERE_MENTAL_DISORDER] == "officer_mental"
    assert officers[GroupKind.DRUG_USER] == "officer_drug"
    assert officers[GroupKind.CHILD_IN_DIFFICULTY] == "officer_child"
    assert officers[GroupKind.DISABILITY] == "officer_disability"
    assert {officers[kind] for kind in ("low_income", "elderly_alone", "elderly_empty_nest")} == {"officer_civil"}
    mental = User.objects.get(username="officer_mental")
    assert set(GroupMembership.objects.visible_to(mental).values_list("kind", flat=True)) == {
        GroupKind.SEVERE_MENTAL_DISORDER
    }
    # The grid heads do not see the specialists' kinds by default.
    head = User.objects.get(username="grid01")
    assert not GroupMembership.objects.visible_to(head).filter(kind__in=["severe_mental_disorder", "drug_user"])
    history = GroupAccessRule.history.count()
    seed()
    assert GroupAccessRule.history.count() == history
