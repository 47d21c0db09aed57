"""The subdistrict's party organisations, the joint meeting's roster and the units' registration
with the community (单位双报到): the owner rules, the seat rules, the steps of a list item (with
their conflicts, which change nothing) and the agreement file's checks (nothing stored when
refused)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction

from grids.actions import AgreementFileRefused, attach_agreement, move_unit_registration_item
from grids.models import (
    ItemChanged,
    ItemFinished,
    ItemStatus,
    JointMeetingMember,
    NotYourUnitRegistration,
    OrganisationKind,
    PartyMember,
    PartyOrganisation,
    SeatKind,
    UnitRegistration,
    UnitRegistrationItem,
    UnitRegistrationItemStep,
)
from shanglong.models import Attachment
from shanglong.workflow import NotFromThisState

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def party(subdistrict, community, other_community):
    """文汇街道党工委 (the subdistrict's) leads the joint committee (the subdistrict's, spanning
    both communities); each community has its committee and a unit organisation."""
    working = PartyOrganisation.objects.create(
        subdistrict=subdistrict, name="文汇街道党工委", kind=OrganisationKind.SUBDISTRICT_COMMITTEE
    )
    joint = PartyOrganisation.objects.create(
        subdistrict=subdistrict,
        name="商河路商圈综合党委",
        kind=OrganisationKind.DISTRICT_JOINT_COMMITTEE,
        parent=working,
    )
    joint.communities.set([community, other_community])
    committee = PartyOrganisation.objects.create(
        community=community, name="商隆社区党委", kind=OrganisationKind.COMMUNITY_COMMITTEE
    )
    other_committee = PartyOrganisation.objects.create(
        community=other_community, name="文汇社区党委", kind=OrganisationKind.COMMUNITY_COMMITTEE
    )
    bank = PartyOrganisation.objects.create(
        community=community, name="东营银行商河路支行党支部", kind=OrganisationKind.UNIT_ORGANISATION, parent=joint
    )
    other_unit = PartyOrganisation.objects.create(
        community=other_community, name="文汇供电所党支部", kind=OrganisationKind.UNIT_ORGANISATION
    )
    return {
        "working": working,
        "joint": joint,
        "committee": committee,
        "other_committee": other_committee,
        "bank": bank,
        "other_unit": other_unit,
    }


@pytest.fixture
def registration(party, community):
    return UnitRegistration.objects.create(
        unit_organisation=party["bank"],
        community=community,
        contact_name="刘志远",
        registered_on=datetime.date(2025, 3, 1),
    )


@pytest.fixture
def item(registration):
    return UnitRegistrationItem.objects.create(registration=registration, item_list="resource", title="会议室")


# --- Owners --------------------------------------------------------------------------------


def test_an_organisation_has_exactly_one_owner(party, subdistrict, community):
    both = PartyOrganisation(
        community=community, subdistrict=subdistrict, name="两头", kind=OrganisationKind.DISTRICT_JOINT_COMMITTEE
    )
    with pytest.raises(ValidationError):
        both.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        PartyOrganisation.objects.create(name="无主", kind=OrganisationKind.DISTRICT_JOINT_COMMITTEE)


def test_a_subdistrict_owns_only_its_working_committee_and_joint_committees(party, subdistrict, community):
    branch = PartyOrganisation(subdistrict=subdistrict, name="街道支部", kind=OrganisationKind.GRID_BRANCH)
    with pytest.raises(ValidationError) as refused:
        branch.full_clean()
    assert "kind" in refused.value.message_dict
    working = PartyOrganisation(community=community, name="社区党工委", kind=OrganisationKind.SUBDISTRICT_COMMITTEE)
    with pytest.raises(ValidationError) as refused:
        working.full_clean()
    assert "kind" in refused.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        PartyOrganisation.objects.create(subdistrict=subdistrict, name="街道支部", kind=OrganisationKind.GRID_BRANCH)


def test_the_joint_committee_is_seen_by_the_communities_it_spans_and_not_beyond(
    party, staff, other_staff, subdistrict_user, outsider
):
    for person in (staff, other_staff, subdistrict_user):
        seen = set(PartyOrganisation.objects.visible_to(person).values_list("name", flat=True))
        assert {"文汇街道党工委", "商河路商圈综合党委"} <= seen
    assert "东营银行商河路支行党支部" not in set(
        PartyOrganisation.objects.visible_to(other_staff).values_list("name", flat=True)
    )
    assert not PartyOrganisation.objects.visible_to(outsider).exists()
    for organisation in PartyOrganisation.objects.all():
        organisation.full_clean()
    assert [c.name for c in party["joint"].spanned_communities()] == ["商隆社区", "文汇社区"]


def test_no_member_is_organised_in_the_subdistricts_organisations(party):
    member = PartyMember(name="王志刚", organisation=party["joint"], joined_on=datetime.date(2000, 7, 1))
    with pytest.raises(ValidationError) as refused:
        member.full_clean()
    assert "organisation" in refused.value.message_dict


# --- The joint meeting's roster --------------------------------------------------------------


def seat(party, **values):
    return JointMeetingMember(
        committee=party["joint"], representative="张建国", since=datetime.date(2025, 1, 1), **values
    )


def test_a_seat_names_an_organisation_of_its_kind_or_a_department(party, department):
    seat(party, seat_kind=SeatKind.SUBDISTRICT_COMMITTEE, organisation=party["working"]).full_clean()
    seat(party, seat_kind=SeatKind.DEPARTMENT, department=department).full_clean()
    wrong_kind = seat(party, seat_kind=SeatKind.COMMUNITY_COMMITTEE, organisation=party["bank"])
    with pytest.raises(ValidationError) as refused:
        wrong_kind.full_clean()
    assert "organisation" in refused.value.message_dict
    both = seat(party, seat_kind=SeatKind.DEPARTMENT, department=department, organisation=party["working"])
    with pytest.raises(ValidationError):
        both.full_clean()


def test_a_holder_has_one_seat_at_a_time_and_only_a_joint_committee_meets(party, other_subdistrict):
    seat(party, seat_kind=SeatKind.COMMUNITY_COMMITTEE, organisation=party["committee"]).save()
    again = seat(party, seat_kind=SeatKind.COMMUNITY_COMMITTEE, organisation=party["committee"])
    with pytest.raises(ValidationError) as refused:
        again.full_clean()
    assert "organisation" in refused.value.message_dict
    on_committee = JointMeetingMember(
        committee=party["committee"],
        seat_kind=SeatKind.UNIT_ORGANISATION,
        organisation=party["bank"],
        representative="刘志远",
    )
    with pytest.raises(ValidationError) as refused:
        on_committee.full_clean()
    assert "committee" in refused.value.message_dict
    elsewhere = PartyOrganisation.objects.create(
        subdistrict=other_subdistrict, name="黄河路街道党工委", kind=OrganisationKind.SUBDISTRICT_COMMITTEE
    )
    with pytest.raises(ValidationError) as refused:
        seat(party, seat_kind=SeatKind.SUBDISTRICT_COMMITTEE, organisation=elsewhere).full_clean()
    assert "organisation" in refused.value.message_dict


# --- Unit registrations ----------------------------------------------------------------------


def test_a_unit_reports_to_the_community_it_is_in(party, other_community):
    elsewhere = UnitRegistration(unit_organisation=party["bank"], community=other_community, contact_name="刘志远")
    with pytest.raises(ValidationError) as refused:
        elsewhere.full_clean()
    assert "unit_organisation" in refused.value.message_dict
    not_a_unit = UnitRegistration(
        unit_organisation=party["other_committee"], community=other_community, contact_name="周"
    )
    with pytest.raises(ValidationError) as refused:
        not_a_unit.full_clean()
    assert "unit_organisation" in refused.value.message_dict


def test_the_contact_mobile_is_checked(registration):
    registration.contact_phone = "12345"
    with pytest.raises(ValidationError) as refused:
        registration.full_clean()
    assert "contact_phone" in refused.value.message_dict


# --- The item's steps ------------------------------------------------------------------------


def test_an_item_goes_from_open_to_done_with_a_timeline(item, staff):
    for action in ("match", "start", "complete"):
        move_unit_registration_item(item=item, action=action, by=staff, note=f"{action}")
    item.refresh_from_db()
    assert item.status == ItemStatus.DONE
    assert item.version == 4
    assert item.finished_at is not None
    steps = list(UnitRegistrationItemStep.objects.filter(item=item).order_by("at", "pk"))
    assert [(step.from_status, step.status) for step in steps] == [
        ("open", "matched"),
        ("matched", "in_progress"),
        ("in_progress", "done"),
    ]
    assert steps[0].note == "match"


def test_a_stale_version_is_a_conflict_and_changes_nothing(item, staff):
    seen = item.version
    move_unit_registration_item(item=item, action="match", by=staff)
    stale = UnitRegistrationItem.objects.get(pk=item.pk)
    stale.status = ItemStatus.OPEN  # as the other person read it
    with pytest.raises(ItemChanged):
        move_unit_registration_item(item=stale, action="drop", by=staff, version=seen)
    item.refresh_from_db()
    assert (item.status, item.version) == (ItemStatus.MATCHED, seen + 1)
    assert UnitRegistrationItemStep.objects.filter(item=item).count() == 1


def test_a_finished_item_takes_no_more_steps(item, staff):
    move_unit_registration_item(item=item, action="drop", by=staff)
    item.refresh_from_db()
    with pytest.raises(ItemFinished):
        move_unit_registration_item(item=item, action="match", by=staff)
    with pytest.raises(NotFromThisState):
        move_unit_registration_item(
            item=UnitRegistrationItem.objects.create(registration=item.registration, item_list="need", title="助餐"),
            action="complete",
            by=staff,
        )
    assert UnitRegistrationItemStep.objects.filter(item=item).count() == 1


def test_only_the_communitys_staff_move_its_items(item, other_staff, subdistrict_user):
    for person in (other_staff, subdistrict_user):
        with pytest.raises(NotYourUnitRegistration):
            move_unit_registration_item(item=item, action="match", by=person)
    item.refresh_from_db()
    assert (item.status, item.version) == (ItemStatus.OPEN, 1)


# --- The agreement file -------------------------------------------------------------------


def test_the_agreement_is_a_pdf_or_a_photo(registration, staff, media_root):
    stored = attach_agreement(
        registration=registration,
        uploaded=SimpleUploadedFile("协议.pdf", PDF, content_type="application/pdf"),
        by=staff,
    )
    assert stored.content_type_header == "application/pdf"
    assert list(registration.attachments.all()) == [stored]


@pytest.mark.parametrize(
    ("name", "content"),
    [("协议.docx", b"PK\x03\x04 not a spreadsheet"), ("协议.xlsx", b"PK\x03\x04\x14\x00"), ("协议.txt", b"hello")],
)
def test_any_other_agreement_file_is_refused_and_nothing_is_stored(registration, staff, media_root, name, content):
    with pytest.raises(AgreementFileRefused):
        attach_agreement(registration=registration, uploaded=SimpleUploadedFile(name, content), by=staff)
    assert not Attachment.objects.exists()
    assert not [path for path in media_root.rglob("*") if path.is_file()]
