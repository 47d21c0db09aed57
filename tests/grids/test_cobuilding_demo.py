"""The demo's subdistrict party organisations, joint meeting and unit registrations: 文汇街道党工委
and the joint committee belong to the subdistrict, the joint committee spans both communities,
its roster has seven seats, two units report to 商隆社区 with items at every stage; all of it
valid, and seeding twice changes nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from grids.models import (
    JointMeetingMember,
    OrganisationKind,
    PartyMember,
    PartyOrganisation,
    UnitRegistration,
    UnitRegistrationItem,
    UnitRegistrationItemStep,
)
from shanglong.models import Community, User

pytestmark = pytest.mark.django_db

MODELS = (PartyOrganisation, JointMeetingMember, UnitRegistration, UnitRegistrationItem, UnitRegistrationItemStep)


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=io.StringIO())
    return Community.objects.get(code="370502-wenhui-shanglong")


def test_the_subdistrict_owns_its_working_committee_and_the_joint_committee(demo):
    working = PartyOrganisation.objects.get(name="文汇街道党工委")
    joint = PartyOrganisation.objects.get(name="商河路商圈综合党委")
    assert (working.community, working.subdistrict) == (None, demo.subdistrict)
    assert (joint.community, joint.subdistrict, joint.parent) == (None, demo.subdistrict, working)
    assert {community.name for community in joint.communities.all()} == {"商隆社区", "文汇社区"}
    for organisation in PartyOrganisation.objects.all():
        organisation.full_clean()
    # Members stay in community-owned organisations (the unit organisations under the joint committee).
    assert not PartyMember.objects.filter(organisation__community__isnull=True).exists()
    staff2 = User.objects.get(username="staff2")
    assert PartyOrganisation.objects.visible_to(staff2).filter(pk=joint.pk).exists()


def test_the_joint_meeting_roster(demo):
    seats = list(JointMeetingMember.objects.filter(committee__name="商河路商圈综合党委").order_by("order"))
    assert len(seats) == 7
    assert seats[0].organisation.kind == OrganisationKind.SUBDISTRICT_COMMITTEE
    assert {seat.seat_kind for seat in seats} == {
        "subdistrict_committee",
        "community_committee",
        "unit_organisation",
        "department",
    }
    for seat in seats:
        seat.full_clean()


def test_the_unit_registrations_and_their_lists(demo):
    registrations = list(UnitRegistration.objects.filter(community=demo))
    assert len(registrations) == 2
    for registration in registrations:
        registration.full_clean()
    items = UnitRegistrationItem.objects.filter(registration__community=demo)
    assert {item.item_list for item in items} == {"resource", "need", "project"}
    assert set(items.values_list("status", flat=True)) == {"open", "matched", "in_progress", "done", "dropped"}
    done = items.get(title="共建志愿服务站")
    assert list(done.steps.order_by("at", "pk").values_list("status", flat=True)) == ["matched", "in_progress", "done"]


def test_seeding_twice_changes_nothing(demo):
    counts = [model.objects.count() for model in MODELS]
    history = [model.history.count() for model in (PartyOrganisation, JointMeetingMember, UnitRegistration)]
    call_command("seed_demo", stdout=io.StringIO())
    assert [model.objects.count() for model in MODELS] == counts
    assert [model.history.count() for model in (PartyOrganisation, JointMeetingMember, UnitRegistration)] == history
