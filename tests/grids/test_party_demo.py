"""The party demo data: about twenty members over the four grid branches and the unit
organisations, mobile and in-work members with their records; seeding twice changes nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from grids.models import (
    ClaimedTask,
    InWorkRegistration,
    InWorkReport,
    MobileMembership,
    OrganisationalLifeAttendance,
    OrganisationKind,
    PartyMember,
    ServiceHours,
)
from shanglong.models import Community, User

pytestmark = pytest.mark.django_db

PARTY_MODELS = (
    PartyMember,
    MobileMembership,
    OrganisationalLifeAttendance,
    InWorkRegistration,
    ClaimedTask,
    ServiceHours,
    InWorkReport,
)


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=io.StringIO())
    return Community.objects.get(code="370502-wenhui-shanglong")


def test_members_over_the_branches_and_unit_organisations(demo):
    members = PartyMember.objects.filter(organisation__community=demo)
    assert 20 <= members.count() <= 25
    kinds = {kind: members.filter(organisation__kind=kind).count() for kind in OrganisationKind.values}
    assert kinds[OrganisationKind.GRID_BRANCH] >= 14
    assert kinds[OrganisationKind.UNIT_ORGANISATION] >= 6
    assert (
        members.filter(organisation__kind=OrganisationKind.GRID_BRANCH).values("organisation").distinct().count() == 4
    )
    for member in members.select_related("organisation", "resident"):
        member.full_clean()


def test_mobile_and_in_work_members(demo):
    members = PartyMember.objects.filter(organisation__community=demo)
    assert members.mobile("outflow").count() == 3
    assert members.mobile("inflow").count() == 2
    assert OrganisationalLifeAttendance.objects.filter(mobile_membership__member__in=members).count() >= 5
    registrations = InWorkRegistration.objects.filter(member__in=members).current()
    assert registrations.count() == 3
    assert all(registration.tasks.exists() for registration in registrations)
    assert all(ServiceHours.objects.filter(task__registration=registration).exists() for registration in registrations)


def test_demo_logins_see_their_own_membership(demo):
    grid = User.objects.get(username="grid")
    assert list(PartyMember.objects.visible_to(grid).values_list("user__username", flat=True)) == ["grid"]
    volunteer = User.objects.get(username="volunteer")
    assert ClaimedTask.objects.visible_to(volunteer).exists()
    staff = User.objects.get(username="staff")
    assert (
        PartyMember.objects.visible_to(staff).count()
        == PartyMember.objects.filter(organisation__community=demo).count()
    )
    assert PartyMember.objects.get(user__username="merchant").shows_identity


def test_seeding_twice_changes_nothing(demo):
    counts = [model.objects.count() for model in PARTY_MODELS]
    history = PartyMember.history.count()
    call_command("seed_demo", stdout=io.StringIO())
    assert [model.objects.count() for model in PARTY_MODELS] == counts
    assert PartyMember.history.count() == history
