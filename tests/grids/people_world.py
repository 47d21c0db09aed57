"""The people registry's test world, on top of tests/grids/test_api.py's build_world: a
building, a dwelling and a resident in grids A (grid1 on duty) and B (grid2 on duty) of the
cast's community and in grid X of the other community (staff2 on duty); group memberships, a
rented flat in A and X, and both communities' group access tables."""

from __future__ import annotations

import datetime
from typing import Any

from grids.models import (
    Dwelling,
    GroupAccessRule,
    GroupKind,
    GroupMembership,
    Resident,
    ResidentialBuilding,
    Tenancy,
)
from shanglong.models import Department, DepartmentLevel
from shanglong.validators import identity_check_character
from tests.api import matrix
from tests.grids.test_api import build_world

SINCE = datetime.date(2025, 1, 1)


def resident_id(birth: str, sequence: int, *, male: bool = True) -> str:
    """A valid Dongying (370502) resident identity number."""
    order = (sequence * 2 + (1 if male else 0)) % 1000
    body = f"370502{birth.replace('-', '')}{order:03d}"
    return body + identity_check_character(body)


def make_resident(dwelling: Dwelling, name: str, sequence: int, **fields: Any) -> Resident:
    birth = fields.pop("birth", "1980-05-17")
    male = fields.pop("male", True)
    resident = Resident(
        name=name,
        gender="male" if male else "female",
        birth_date=datetime.date.fromisoformat(birth),
        dwelling=dwelling,
        mobile=fields.pop("mobile", f"138{sequence:08d}"),
        **fields,
    )
    resident.set_identity_number(resident_id(birth, sequence, male=male))
    resident.save()
    return resident


def build_people(cast: matrix.Cast) -> dict[str, Any]:
    world = build_world(cast)
    compounds = world["compounds"]
    buildings = {
        label: ResidentialBuilding.objects.create(compound=compounds[f"c{label}"], name="1号楼") for label in "ABX"
    }
    dwellings = {
        label: Dwelling.objects.create(building=buildings[label], unit="1单元", room=f"10{number}")
        for number, label in enumerate("ABX", start=1)
    }
    residents = {
        label: make_resident(dwellings[label], f"居民{label}", number) for number, label in enumerate("ABX", start=1)
    }
    civil_affairs = Department.objects.create(
        name="民政办", level=DepartmentLevel.SUBDISTRICT, subdistrict=cast.subdistrict
    )
    memberships = {
        "mA": GroupMembership.objects.create(
            resident=residents["A"],
            kind=GroupKind.COMMUNITY_CORRECTION,
            level="strict",
            department=cast.department,
            since=SINCE,
        ),
        "mB": GroupMembership.objects.create(
            resident=residents["B"],
            kind=GroupKind.ELDERLY_ALONE,
            level="general_care",
            department=civil_affairs,
            since=SINCE,
        ),
        "mX": GroupMembership.objects.create(
            resident=residents["X"],
            kind=GroupKind.LOW_INCOME,
            level="general_care",
            department=civil_affairs,
            since=SINCE,
        ),
    }
    tenancies = {
        "tA": Tenancy.objects.create(dwelling=dwellings["A"], tenant=residents["A"], owner_name="房东甲", since=SINCE),
        "tX": Tenancy.objects.create(dwelling=dwellings["X"], tenant=residents["X"], owner_name="房东乙", since=SINCE),
    }
    for community in (cast.community, cast.other_community):
        GroupAccessRule.objects.ensure_for(community)
    rules = {
        f"{'own' if rule.community_id == cast.community.pk else 'other'}-{rule.kind}": rule
        for rule in GroupAccessRule.objects.all()
    }
    return {
        **world,
        "buildings": buildings,
        "dwellings": dwellings,
        "residents": residents,
        "memberships": memberships,
        "tenancies": tenancies,
        "rules": rules,
        "civil_affairs": civil_affairs,
    }
