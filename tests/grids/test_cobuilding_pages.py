"""The pages and the API of party building together: the organisation page with the joint
meeting's roster and its seat forms; the units' registrations, their lists and the steps of
their items. Scoping (another community's people neither see, change nor point at what is not
theirs: 404/403/400 and nothing changed), staff writing and subdistrict staff reading, a double
submit creating once, a stale version told plainly; and the endpoints in the scoping matrix."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from grids.models import (
    ItemChanged,
    ItemStatus,
    JointMeetingMember,
    OrganisationKind,
    PartyOrganisation,
    SeatKind,
    UnitRegistration,
    UnitRegistrationItem,
    UnitRegistrationItemStep,
)
from shanglong.models import Attachment
from tests.api import matrix
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TOKEN = re.compile(r'name="form_token" value="([A-Za-z0-9_-]+)"')


def build_world(cast: matrix.Cast) -> dict:
    """The subdistrict's working committee and joint committee (spanning the cast's two
    communities); each community's committee and a unit organisation; one registration per
    community with one item; a seat of each community committee at the joint meeting."""
    community, other = cast.community, cast.other_community
    working = PartyOrganisation.objects.create(
        subdistrict=cast.subdistrict, name="文汇街道党工委", kind=OrganisationKind.SUBDISTRICT_COMMITTEE
    )
    joint = PartyOrganisation.objects.create(
        subdistrict=cast.subdistrict,
        name="商河路商圈综合党委",
        kind=OrganisationKind.DISTRICT_JOINT_COMMITTEE,
        parent=working,
    )
    joint.communities.set([community, other])
    committee = PartyOrganisation.objects.create(
        community=community, name="商隆社区党委", kind=OrganisationKind.COMMUNITY_COMMITTEE
    )
    committee_x = PartyOrganisation.objects.create(
        community=other, name="文汇社区党委", kind=OrganisationKind.COMMUNITY_COMMITTEE
    )
    bank = PartyOrganisation.objects.create(
        community=community, name="东营银行商河路支行党支部", kind=OrganisationKind.UNIT_ORGANISATION, parent=joint
    )
    spare = PartyOrganisation.objects.create(
        community=community, name="供销商场党支部", kind=OrganisationKind.UNIT_ORGANISATION, parent=joint
    )
    unit_x = PartyOrganisation.objects.create(
        community=other, name="文汇供电所党支部", kind=OrganisationKind.UNIT_ORGANISATION
    )
    spare_x = PartyOrganisation.objects.create(
        community=other, name="文汇银行党支部", kind=OrganisationKind.UNIT_ORGANISATION
    )
    since = datetime.date(2025, 1, 1)
    reg = UnitRegistration.objects.create(
        unit_organisation=bank, community=community, contact_name="刘志远", registered_on=since
    )
    reg_x = UnitRegistration.objects.create(
        unit_organisation=unit_x, community=other, contact_name="周敏", registered_on=since
    )
    item = UnitRegistrationItem.objects.create(registration=reg, item_list="resource", title="会议室")
    item_x = UnitRegistrationItem.objects.create(registration=reg_x, item_list="need", title="老年人助餐")
    seats = {
        "seat": JointMeetingMember.objects.create(
            committee=joint,
            seat_kind=SeatKind.COMMUNITY_COMMITTEE,
            organisation=committee,
            representative="李红",
            since=since,
        ),
        "seatX": JointMeetingMember.objects.create(
            committee=joint,
            seat_kind=SeatKind.COMMUNITY_COMMITTEE,
            organisation=committee_x,
            representative="周敏",
            since=since,
        ),
    }
    return {
        "organisations": {
            "working": working,
            "joint": joint,
            "committee": committee,
            "committeeX": committee_x,
            "bank": bank,
            "spare": spare,
            "unitX": unit_x,
            "spareX": spare_x,
        },
        "registrations": {"reg": reg, "regX": reg_x},
        "items": {"item": item, "itemX": item_x},
        "seats": seats,
    }


@pytest.fixture
def world(request) -> dict:
    return build_world(matrix.build_cast(request))


def form_token(client, url: str) -> str:
    match = TOKEN.search(client.get(url).content.decode())
    assert match, "the form carries a one-time token"
    return match.group(1)


# --- Organisation page and the roster -------------------------------------------------------


def test_the_organisation_tree_links_the_subdistricts_joint_committee_and_its_roster(world, staff):
    client = client_for(staff)
    tree = client.get(reverse("grids:organisation_tree")).content.decode()
    joint = world["organisations"]["joint"]
    assert reverse("grids:organisation_detail", args=[joint.pk]) in tree
    page = client.get(reverse("grids:organisation_detail", args=[joint.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "商隆社区" in text
    assert "文汇社区" in text
    assert [seat.representative for seat in page.context["current_seats"]] == ["李红", "周敏"]
    assert page.context["can_keep_roster"] is False  # staff read the roster; the admin keeps it


def test_the_community_admin_gives_a_seat_once_even_when_sent_twice(world, community_admin, department):
    client = client_for(community_admin)
    joint = world["organisations"]["joint"]
    url = reverse("grids:seat_create", args=[joint.pk])
    data = {
        "seat_kind": SeatKind.DEPARTMENT,
        "department": department.pk,
        "representative": "赵鹏",
        "position": "副所长",
        "since": "2025-02-01",
        "order": 5,
        "form_token": form_token(client, url),
    }
    first = client.post(url, data)
    assert first.status_code == 302
    again = client.post(url, data)
    assert again.status_code == 302
    assert JointMeetingMember.objects.filter(committee=joint, department=department).count() == 1
    seat = JointMeetingMember.objects.get(committee=joint, department=department)
    edit = client.post(reverse("grids:seat_edit", args=[seat.pk]), {**data, "until": "2025-12-31"})
    assert edit.status_code == 302
    seat.refresh_from_db()
    assert seat.until == datetime.date(2025, 12, 31)


def test_a_seat_cannot_name_an_organisation_the_admin_does_not_see(world, community_admin):
    client = client_for(community_admin)
    joint = world["organisations"]["joint"]
    response = client.post(
        reverse("grids:seat_create", args=[joint.pk]),
        {
            "seat_kind": SeatKind.UNIT_ORGANISATION,
            "organisation": world["organisations"]["unitX"].pk,
            "representative": "某人",
            "since": "2025-02-01",
            "order": 1,
        },
    )
    assert response.status_code == 200
    assert "organisation" in response.context["form"].errors
    assert JointMeetingMember.objects.count() == 2


def test_staff_and_outsiders_cannot_keep_the_roster(world, staff, outsider):
    joint = world["organisations"]["joint"]
    assert client_for(staff).get(reverse("grids:seat_create", args=[joint.pk])).status_code == 403
    assert client_for(outsider).get(reverse("grids:organisation_detail", args=[joint.pk])).status_code == 404
    seat = world["seats"]["seat"]
    assert client_for(outsider).post(reverse("grids:seat_edit", args=[seat.pk]), {}).status_code == 404


# --- Unit registration pages -------------------------------------------------------------------


def test_the_list_shows_the_communitys_registrations_only(world, staff, other_staff, subdistrict_user):
    def listed(person):
        response = client_for(person).get(reverse("grids:unit_registration_list"))
        assert response.status_code == 200
        return {registration.contact_name for registration in response.context["page"]}

    assert listed(staff) == {"刘志远"}
    assert listed(other_staff) == {"周敏"}
    assert listed(subdistrict_user) == {"刘志远", "周敏"}


def test_the_list_counts_its_queries(world, staff, django_assert_num_queries):
    for number in range(6):
        unit = PartyOrganisation.objects.create(
            community=staff.community, name=f"单位{number}", kind=OrganisationKind.UNIT_ORGANISATION
        )
        registration = UnitRegistration.objects.create(
            unit_organisation=unit, community=staff.community, contact_name="联"
        )
        UnitRegistrationItem.objects.create(registration=registration, item_list="need", title="需")
    client = client_for(staff)
    # session, user, unread messages, page count, the registrations (with unit, community and
    # the counts of each list)
    with django_assert_num_queries(5):
        response = client.get(reverse("grids:unit_registration_list"))
    assert len(response.context["page"].object_list) == 7
    assert {row.need_active for row in response.context["page"] if row.contact_name == "联"} == {1}


def test_staff_register_a_unit_once_with_its_agreement(world, staff, media_root):
    client = client_for(staff)
    url = reverse("grids:unit_registration_create")
    data = {
        "unit_organisation": world["organisations"]["spare"].pk,
        "registered_on": "2025-05-10",
        "contact_name": "何春燕",
        "contact_phone": "138 0546 1118",
        "agreement_signed_on": "2025-05-10",
        "agreement_summary": "商场提供中庭场地。",
        "form_token": form_token(client, url),
    }
    first = client.post(url, {**data, "agreement_file": SimpleUploadedFile("协议.pdf", PDF)})
    assert first.status_code == 302, first.context["form"].errors
    again = client.post(url, {**data, "agreement_file": SimpleUploadedFile("协议.pdf", PDF)})
    assert again.status_code == 302
    registration = UnitRegistration.objects.get(unit_organisation=world["organisations"]["spare"])
    assert registration.contact_phone == "13805461118"
    assert registration.community == staff.community
    [agreement] = registration.attachments.all()
    page = client.get(reverse("grids:unit_registration_detail", args=[registration.pk]))
    assert reverse("attachment", args=[agreement.pk]) in page.content.decode()
    assert client.get(reverse("attachment", args=[agreement.pk])).status_code == 200


def test_another_communitys_staff_cannot_download_the_agreement(world, staff, other_staff, media_root):
    client = client_for(staff)
    registration = world["registrations"]["reg"]
    response = client.post(
        reverse("grids:unit_registration_edit", args=[registration.pk]),
        {
            "registered_on": "2025-01-01",
            "contact_name": "刘志远",
            "agreement_file": SimpleUploadedFile("协议.pdf", PDF),
        },
    )
    assert response.status_code == 302
    [agreement] = registration.attachments.all()
    assert client_for(other_staff).get(reverse("attachment", args=[agreement.pk])).status_code == 404


def test_a_bad_agreement_file_or_mobile_saves_nothing(world, staff, media_root):
    client = client_for(staff)
    url = reverse("grids:unit_registration_create")
    data = {
        "unit_organisation": world["organisations"]["spare"].pk,
        "registered_on": "2025-05-10",
        "contact_name": "何春燕",
    }
    refused = client.post(url, {**data, "agreement_file": SimpleUploadedFile("协议.xlsx", b"PK\x03\x04\x14\x00")})
    assert refused.status_code == 400
    assert refused.context["form"].errors
    bad_phone = client.post(url, {**data, "contact_phone": "12345"})
    assert bad_phone.status_code == 400
    assert "contact_phone" in bad_phone.context["form"].errors
    assert not UnitRegistration.objects.filter(unit_organisation=world["organisations"]["spare"]).exists()
    assert not Attachment.objects.exists()


def test_staff_cannot_point_a_registration_at_another_communitys_unit(world, staff):
    response = client_for(staff).post(
        reverse("grids:unit_registration_create"),
        {"unit_organisation": world["organisations"]["spareX"].pk, "registered_on": "2025-05-10", "contact_name": "某"},
    )
    assert response.status_code == 400
    assert "unit_organisation" in response.context["form"].errors
    assert not UnitRegistration.objects.filter(unit_organisation=world["organisations"]["spareX"]).exists()


def test_another_community_neither_sees_nor_changes_a_registration(world, other_staff, outsider):
    registration, item = world["registrations"]["reg"], world["items"]["item"]
    for person in (other_staff, outsider):
        client = client_for(person)
        assert client.get(reverse("grids:unit_registration_detail", args=[registration.pk])).status_code in (403, 404)
        assert client.get(reverse("grids:unit_registration_edit", args=[registration.pk])).status_code in (403, 404)
        assert client.post(reverse("grids:unit_item_create", args=[registration.pk]), {}).status_code in (403, 404)
        step = client.post(
            reverse("grids:unit_item_step", args=[item.pk]),
            {f"item{item.pk}-action": "match", f"item{item.pk}-version": item.version},
        )
        assert step.status_code in (403, 404)
    item.refresh_from_db()
    assert (item.status, item.version) == (ItemStatus.OPEN, 1)
    assert UnitRegistrationItem.objects.filter(registration=registration).count() == 1


def test_subdistrict_staff_read_but_do_not_write(world, subdistrict_user):
    client = client_for(subdistrict_user)
    registration, item = world["registrations"]["reg"], world["items"]["item"]
    page = client.get(reverse("grids:unit_registration_detail", args=[registration.pk]))
    assert page.status_code == 200
    assert page.context["can_keep"] is False
    assert "item-step-form" not in page.content.decode()
    assert client.get(reverse("grids:unit_registration_create")).status_code == 403
    assert client.get(reverse("grids:unit_item_create", args=[registration.pk])).status_code == 403
    step = client.post(
        reverse("grids:unit_item_step", args=[item.pk]),
        {f"item{item.pk}-action": "match", f"item{item.pk}-version": item.version},
    )
    assert step.status_code == 403
    item.refresh_from_db()
    assert item.status == ItemStatus.OPEN


def test_staff_add_an_item_once_and_move_it(world, staff):
    client = client_for(staff)
    registration = world["registrations"]["reg"]
    url = reverse("grids:unit_item_create", args=[registration.pk])
    data = {"item_list": "project", "title": "共建志愿服务站", "description": "双方党员轮流值守", "form_token": ""}
    data["form_token"] = form_token(client, url + "?list=project")
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302
    [item] = UnitRegistrationItem.objects.filter(registration=registration, title="共建志愿服务站")
    step_url = reverse("grids:unit_item_step", args=[item.pk])
    moved = client.post(step_url, {f"item{item.pk}-action": "match", f"item{item.pk}-version": 1})
    assert moved.status_code == 302
    item.refresh_from_db()
    assert item.status == ItemStatus.MATCHED
    page = client.get(reverse("grids:unit_registration_detail", args=[registration.pk]))
    [project] = [entry for entry in page.context["lists"] if entry["code"] == "project"]
    assert [line["item"].title for line in project["items"]] == ["共建志愿服务站"]
    assert [step.status for step in project["items"][0]["timeline"]] == ["matched"]


def test_a_stale_version_gets_a_clear_message_and_changes_nothing(world, staff):
    client = client_for(staff)
    item = world["items"]["item"]
    step_url = reverse("grids:unit_item_step", args=[item.pk])
    assert client.post(step_url, {f"item{item.pk}-action": "match", f"item{item.pk}-version": 1}).status_code == 302
    # Someone who read the item before that step drops it.
    stale = client.post(
        step_url, {f"item{item.pk}-action": "drop", f"item{item.pk}-version": 1, f"item{item.pk}-note": "不需要了"}
    )
    assert stale.status_code == 409
    assert [str(message) for message in stale.context["messages"]][-1] == str(ItemChanged.message)
    item.refresh_from_db()
    assert (item.status, item.version) == (ItemStatus.MATCHED, 2)
    assert UnitRegistrationItemStep.objects.filter(item=item).count() == 1
    # The form shown again keeps the note and carries the version just read.
    [resource] = [entry for entry in stale.context["lists"] if entry["code"] == "resource"]
    form = resource["items"][0]["form"]
    assert form.initial["version"] == 2
    assert form.initial["note"] == "不需要了"


# --- API ---------------------------------------------------------------------------------------


def test_api_step_moves_an_item_and_a_stale_version_is_409(world, staff):
    client = matrix.api_client(staff)
    item = world["items"]["item"]
    url = reverse("api:unitregistrationitem-step", args=[item.pk])
    moved = client.post(url, {"action": "match", "version": 1, "note": "已对接"}, content_type="application/json")
    assert moved.status_code == 200, moved.content
    assert moved.json()["status"] == "matched"
    assert [step["to_status"] for step in moved.json()["timeline"]] == ["matched"]
    stale = client.post(url, {"action": "drop", "version": 1}, content_type="application/json")
    assert stale.status_code == 409
    assert stale.json()["code"] == "item_changed"
    item.refresh_from_db()
    assert (item.status, item.version) == (ItemStatus.MATCHED, 2)


def test_api_step_is_for_the_communitys_staff(world, other_staff, subdistrict_user):
    item = world["items"]["item"]
    url = reverse("api:unitregistrationitem-step", args=[item.pk])
    payload = {"action": "match", "version": 1}
    assert matrix.api_client(other_staff).post(url, payload, content_type="application/json").status_code == 404
    assert matrix.api_client(subdistrict_user).post(url, payload, content_type="application/json").status_code == 403
    item.refresh_from_db()
    assert item.status == ItemStatus.OPEN


def test_api_agreement_refuses_other_files(world, staff, media_root):
    client = matrix.api_client(staff)
    registration = world["registrations"]["reg"]
    url = reverse("api:unitregistration-agreement", args=[registration.pk])
    refused = client.post(url, {"agreement_file": SimpleUploadedFile("协议.txt", b"hello")})
    assert refused.status_code == 400
    assert not Attachment.objects.exists()
    stored = client.post(url, {"agreement_file": SimpleUploadedFile("协议.pdf", PDF)})
    assert stored.status_code == 201
    assert [file["name"] for file in stored.json()["agreement_files"]] == ["协议.pdf"]


def test_api_party_organisations_show_their_owner(world, staff):
    response = matrix.api_client(staff).get(
        reverse("api:partyorganisation-detail", args=[world["organisations"]["joint"].pk])
    )
    assert response.status_code == 200
    body = response.json()
    assert body["community"] is None
    assert body["subdistrict"] == world["organisations"]["joint"].subdistrict_id
    assert len(body["communities"]) == 2


# --- The scoping matrix -----------------------------------------------------------------------


def _rows(key: str):
    return lambda cast: build_world(cast)[key]


def _registration_payload(cast, rows, person):
    name = "文汇银行党支部" if person == "other_staff" else "供销商场党支部"
    community = cast.other_community if person == "other_staff" else cast.community
    return {
        "unit_organisation": PartyOrganisation.objects.get(name=name).pk,
        "community": community.pk,
        "registered_on": "2025-06-01",
        "contact_name": "何春燕",
        "contact_phone": "13805461118",
    }


def _registration_foreign(cast, rows, person):
    if person == "other_staff":
        return [{"unit_organisation": PartyOrganisation.objects.get(name="供销商场党支部").pk}]
    return [{"unit_organisation": PartyOrganisation.objects.get(name="文汇银行党支部").pk}]


def _item_payload(cast, rows, person):
    mine = "regX" if person == "other_staff" else "reg"
    registration = UnitRegistration.objects.get(contact_name={"reg": "刘志远", "regX": "周敏"}[mine])
    return {"registration": registration.pk, "item_list": "need", "title": "青少年暑期托管"}


def _item_foreign(cast, rows, person):
    theirs = "刘志远" if person == "other_staff" else "周敏"
    return [{"registration": UnitRegistration.objects.get(contact_name=theirs).pk}]


def _seat_payload(cast, rows, person):
    return {
        "committee": PartyOrganisation.objects.get(name="商河路商圈综合党委").pk,
        "seat_kind": "unit_organisation",
        "organisation": PartyOrganisation.objects.get(name="东营银行商河路支行党支部").pk,
        "representative": "刘志远",
        "since": "2025-02-01",
    }


def _seat_foreign(cast, rows, person):
    return [
        {
            **_seat_payload(cast, rows, person),
            "organisation": PartyOrganisation.objects.get(name="文汇供电所党支部").pk,
        }
    ]


# Who sees what: the community's staff, admin and department liaisons their community's, the
# subdistrict's staff both, the other community's staff theirs.
OWN_SEEING = ("staff", "community_admin", "department_user")

CASES = [
    matrix.EndpointCase(
        id="unit-registrations",
        route="api:unitregistration",
        build_rows=_rows("registrations"),
        visible={
            **{person: {"reg"} for person in OWN_SEEING},
            "other_staff": {"regX"},
            "subdistrict_user": {"reg", "regX"},
        },
        writers=("staff", "community_admin", "other_staff"),
        create_payload=_registration_payload,
        foreign_payloads=_registration_foreign,
        writable={"staff": {"reg"}, "community_admin": {"reg"}, "other_staff": {"regX"}},
        update_payload=lambda cast, rows, person: {"agreement_summary": "改"},
    ),
    matrix.EndpointCase(
        id="unit-registration-items",
        route="api:unitregistrationitem",
        build_rows=_rows("items"),
        visible={
            **{person: {"item"} for person in OWN_SEEING},
            "other_staff": {"itemX"},
            "subdistrict_user": {"item", "itemX"},
        },
        writers=("staff", "community_admin", "other_staff"),
        create_payload=_item_payload,
        foreign_payloads=_item_foreign,
        writable={"staff": {"item"}, "community_admin": {"item"}, "other_staff": {"itemX"}},
        update_payload=lambda cast, rows, person: {"description": "改"},
    ),
    matrix.EndpointCase(
        id="joint-meeting-members",
        route="api:jointmeetingmember",
        build_rows=_rows("seats"),
        visible={
            person: {"seat", "seatX"}
            for person in ("staff", "community_admin", "department_user", "other_staff", "subdistrict_user")
        },
        writers=("community_admin",),
        create_payload=_seat_payload,
        foreign_payloads=_seat_foreign,
        writable={"community_admin": {"seat", "seatX"}},
        update_payload=lambda cast, rows, person: {"position": "党委书记"},
    ),
]

test_list_shows_exactly_the_visible_rows = matrix.list_test(CASES)
test_detail_outside_scope_is_404 = matrix.detail_test(CASES)
test_create_is_for_writers_only = matrix.create_test(CASES)
test_foreign_keys_outside_scope_are_400 = matrix.foreign_key_test(CASES)
test_update_is_for_writers_of_their_rows = matrix.update_test(CASES)
