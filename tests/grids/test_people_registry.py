"""The residents registry through its pages: access, search, create and edit, reveals (logged),
exports (masked by default, unmasked only once with the approval of the community admin or the
subdistrict, logged and watermarked), encryption at rest, moving out, and the list's fixed query
count."""

from __future__ import annotations

import datetime
import io

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from grids.models import ExportApproval, ExportStatus, GroupKind, GroupMembership, Household, Resident, Tenancy
from shanglong.crypto import keyed_hash
from shanglong.models import AccessAction, AccessLog, Notification, Role
from tests.api import matrix
from tests.conftest import client_for, make_user
from tests.grids.people_world import build_people, make_resident, resident_id

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(settings):
    """Messages are compared in English (the source language)."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def people(request):
    return build_people(matrix.build_cast(request))


@pytest.fixture
def resident(people):
    return people["residents"]["A"]


# --- Access ------------------------------------------------------------------------------------


@pytest.mark.parametrize("person", ["merchant_user", "volunteer_user"])
def test_merchants_and_volunteers_cannot_open_the_registry(request, people, resident, person):
    client = client_for(request.getfixturevalue(person))
    assert client.get(reverse("grids:resident_list")).status_code == 403
    assert client.get(reverse("grids:resident_detail", args=[resident.pk])).status_code == 403
    assert client.get(reverse("grids:resident_export")).status_code == 403


def test_a_grid_worker_of_another_grid_gets_404(other_grid_worker, resident):
    assert client_for(other_grid_worker).get(reverse("grids:resident_detail", args=[resident.pk])).status_code == 404


def test_a_department_liaison_sees_only_residents_in_their_departments_groups(department_user, people):
    response = client_for(department_user).get(reverse("grids:resident_list"))
    assert [r.name for r in response.context["page"]] == ["居民A"]
    other = people["residents"]["B"]
    assert client_for(department_user).get(reverse("grids:resident_detail", args=[other.pk])).status_code == 404


# --- Search ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["居民B", "小区cB", "cB 1号楼 102", "小区cB1号楼1单元102", "00000002", "0002", "+86 138 0000 0002"],
)
def test_staff_find_a_resident_by_name_address_or_the_last_digits_of_the_phone(staff, people, query):
    response = client_for(staff).get(reverse("grids:resident_list"), {"q": query})
    assert [r.name for r in response.context["page"]] == ["居民B"]


def test_an_exact_identity_number_finds_the_resident_and_a_part_does_not(staff, people):
    number = people["residents"]["B"].id_number
    found = client_for(staff).get(reverse("grids:resident_list"), {"q": number})
    assert [r.name for r in found.context["page"]] == ["居民B"]
    partial = client_for(staff).get(reverse("grids:resident_list"), {"q": number[:14]})
    assert list(partial.context["page"]) == []


def test_the_list_shows_masked_phones_only(staff, resident):
    response = client_for(staff).get(reverse("grids:resident_list"))
    content = response.content.decode()
    assert resident.masked_mobile in content
    assert resident.mobile not in content
    assert resident.id_number not in content


# --- Create and edit ---------------------------------------------------------------------------


def resident_form(people, **changes):
    data = {
        "name": "新居民",
        "gender": "female",
        "birth_date": "1991-04-05",
        "id_type": "resident_id",
        "id_number": resident_id("1991-04-05", 40, male=False),
        "mobile": "139-0000-7777",
        "compound": people["compounds"]["cA"].pk,
        "building": "8号楼",
        "unit": "3单元",
        "room": "902",
        "relation": "self",
        "registration_status": "resident",
        "moved_in": "2020-09-01",
    }
    data.update(changes)
    return data


def test_a_grid_worker_adds_a_resident_and_their_household_at_a_new_address(grid_worker, people):
    client = client_for(grid_worker)
    response = client.post(reverse("grids:resident_create"), resident_form(people))
    assert response.status_code == 302, response.context["form"].errors
    head = Resident.objects.get(name="新居民")
    assert head.mobile == "13900007777"
    assert head.dwelling.address == "小区cA8号楼3单元902"
    assert head.household.householder == head
    response = client.post(
        reverse("grids:resident_create"),
        resident_form(
            people, name="孩子", birth_date="2015-06-01", id_number=resident_id("2015-06-01", 41), gender="male",
            relation="child", mobile="",
        ),
    )  # fmt: skip
    assert response.status_code == 302, response.context["form"].errors
    assert Resident.objects.get(name="孩子").household == head.household


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"id_number": resident_id("1991-04-05", 40, male=False)[:-1] + "0"}, "id_number", "does not match"),
        ({"birth_date": "1991-04-06"}, "id_number", "does not match the identity number"),
        ({"gender": "male"}, "id_number", "woman"),
        ({"mobile": "1234"}, "mobile", "mainland mobile"),
    ],
)
def test_the_form_says_what_is_wrong(grid_worker, people, changes, field, words):
    response = client_for(grid_worker).post(reverse("grids:resident_create"), resident_form(people, **changes))
    assert response.status_code == 200
    assert any(words in str(error) for error in response.context["form"].errors[field]), response.context["form"].errors
    assert not Resident.objects.filter(name="新居民").exists()


def test_a_duplicate_identity_number_is_refused(staff, people):
    existing = people["residents"]["B"]
    response = client_for(staff).post(
        reverse("grids:resident_create"),
        resident_form(people, id_number=existing.id_number.lower(), birth_date="1980-05-17", gender="male"),
    )
    assert "already in the registry" in str(response.context["form"].errors["id_number"])


def test_a_grid_worker_cannot_add_a_resident_to_another_grids_compound(grid_worker, people):
    response = client_for(grid_worker).post(
        reverse("grids:resident_create"), resident_form(people, compound=people["compounds"]["cB"].pk)
    )
    assert "compound" in response.context["form"].errors


def test_editing_without_retyping_the_number_keeps_it(staff, resident):
    number = resident.id_number
    data = {
        "name": "居民A改",
        "gender": "male",
        "birth_date": "1980-05-17",
        "id_type": "resident_id",
        "id_number": "",
        "mobile": resident.mobile,
        "compound": resident.dwelling.building.compound_id,
        "building": "1号楼",
        "unit": "1单元",
        "room": "101",
        "relation": "",
        "registration_status": "resident",
    }
    response = client_for(staff).post(reverse("grids:resident_edit", args=[resident.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    resident.refresh_from_db()
    assert (resident.name, resident.id_number, resident.id_number_hash) == ("居民A改", number, keyed_hash(number))


# --- Encryption at rest ------------------------------------------------------------------------


def test_the_identity_number_is_not_in_the_database_in_clear(resident):
    number = resident.id_number
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, id_number_hash FROM grids_resident WHERE id = %s", [resident.pk])
        stored, stored_hash = cursor.fetchone()
        cursor.execute("SELECT id_number FROM grids_historicalresident WHERE id = %s", [resident.pk])
        history = [row[0] for row in cursor.fetchall()]
    assert stored.startswith("v1:")
    assert number not in stored
    assert number[6:14] not in stored  # not even the date of birth
    assert stored_hash == keyed_hash(number)
    assert number not in stored_hash
    assert history
    assert all(value.startswith("v1:") and number not in value for value in history)
    assert Resident.objects.get(pk=resident.pk).id_number == number


# --- Reveals -----------------------------------------------------------------------------------


def test_a_reveal_with_the_script_answers_json_and_is_logged(grid_worker, resident):
    response = client_for(grid_worker).post(
        reverse("grids:resident_reveal", args=[resident.pk]),
        {"field": "id_number", "reason": "home_visit"},
        headers={"accept": "application/json"},
    )
    assert response.json() == {"field": "id_number", "value": resident.id_number}
    assert "no-store" in response["Cache-Control"]
    log = AccessLog.objects.get()
    assert (log.action, log.user, log.target) == (AccessAction.REVEAL, grid_worker, f"resident:{resident.pk}:id_number")


def test_a_reveal_without_the_script_shows_the_page_again_with_the_value(staff, resident):
    client = client_for(staff)
    page = client.get(reverse("grids:resident_detail", args=[resident.pk]))
    assert resident.mobile not in page.content.decode()
    assert 'data-testid="reveal-mobile"' in page.content.decode()
    response = client.post(
        reverse("grids:resident_reveal", args=[resident.pk]), {"field": "mobile", "reason": "emergency"}
    )
    assert response.status_code == 200
    assert resident.mobile in response.content.decode()
    assert resident.id_number not in response.content.decode()
    assert AccessLog.objects.filter(action=AccessAction.REVEAL, target=f"resident:{resident.pk}:mobile").count() == 1


def test_a_reveal_needs_post(staff, resident):
    assert client_for(staff).get(reverse("grids:resident_reveal", args=[resident.pk])).status_code == 405


@pytest.mark.parametrize("person", ["subdistrict_user", "department_user"])
def test_people_who_only_read_get_no_reveal_button_and_403(request, person, resident):
    client = client_for(request.getfixturevalue(person))
    page = client.get(reverse("grids:resident_detail", args=[resident.pk]))
    assert page.status_code == 200
    assert "reveal-mobile" not in page.content.decode()
    response = client.post(reverse("grids:resident_reveal", args=[resident.pk]), {"field": "mobile"})
    assert response.status_code == 403
    assert not AccessLog.objects.exists()


def test_a_reveal_needs_a_csrf_token(staff, resident):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    response = client.post(reverse("grids:resident_reveal", args=[resident.pk]), {"field": "mobile"})
    assert response.status_code == 403
    assert not AccessLog.objects.exists()


# --- Exports -----------------------------------------------------------------------------------


def read_sheet(response):
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_an_export_is_masked_watermarked_and_logged(settings, staff, people):
    settings.LANGUAGE_CODE = "en"
    response = client_for(staff).get(reverse("grids:resident_export"))
    assert response.status_code == 200
    rows = read_sheet(response)
    assert "staff1" in rows[0][0]  # the watermark: who exported, when
    assert timezone.localdate().isoformat() in rows[0][0]
    header = rows[1]
    names = {row[header.index("Name")] for row in rows[2:]}
    assert names == {"居民A", "居民B"}
    resident = people["residents"]["A"]
    line = next(row for row in rows[2:] if row[header.index("Name")] == "居民A")
    assert line[header.index("Identity number")] == resident.masked_id_number
    assert line[header.index("Mobile")] == resident.masked_mobile
    log = AccessLog.objects.get()
    assert (log.action, log.user, log.target) == (AccessAction.EXPORT, staff, "residents")


def test_an_unmasked_export_without_approval_is_refused(staff, people):
    response = client_for(staff).get(reverse("grids:resident_export"), {"full": "1"})
    assert response.status_code == 403
    assert "approval" in response.context["message"]
    assert not AccessLog.objects.exists()


def test_an_approved_unmasked_export_works_once_and_is_logged(settings, staff, community_admin, people):
    settings.LANGUAGE_CODE = "en"
    client = client_for(staff)
    client.post(reverse("grids:export_requests"), {"reason": "民政办年度复核"})
    approval = ExportApproval.objects.get()
    assert approval.status == ExportStatus.REQUESTED
    # Not yet approved: refused.
    assert client.get(reverse("grids:resident_export"), {"full": "1"}).status_code == 403
    # Staff cannot approve; the admin does.
    client.post(reverse("grids:export_decide", args=[approval.pk]), {"decision": "approved", "hours": 2})
    approval.refresh_from_db()
    assert approval.status == ExportStatus.REQUESTED
    client_for(community_admin).post(
        reverse("grids:export_decide", args=[approval.pk]), {"decision": "approved", "hours": 2}
    )
    approval.refresh_from_db()
    assert (approval.status, approval.decided_by) == (ExportStatus.APPROVED, community_admin)
    response = client.get(reverse("grids:resident_export"), {"full": "1"})
    assert response.status_code == 200
    rows = read_sheet(response)
    header = rows[1]
    resident = people["residents"]["A"]
    line = next(row for row in rows[2:] if row[header.index("Name")] == "居民A")
    assert line[header.index("Identity number")] == resident.id_number
    assert line[header.index("Mobile")] == resident.mobile
    assert "staff1" in rows[0][0]
    log = AccessLog.objects.get()
    assert (log.action, log.user) == (AccessAction.EXPORT_UNMASKED, staff)
    assert f"approval={approval.pk}" in log.detail
    approval.refresh_from_db()
    assert approval.used_at is not None
    # Single use.
    assert client.get(reverse("grids:resident_export"), {"full": "1"}).status_code == 403


def test_an_expired_or_refused_approval_does_not_open_an_unmasked_export(staff, community_admin, people):
    now = timezone.now()
    ExportApproval.objects.create(
        community=staff.community, requested_by=staff, reason="x", status=ExportStatus.APPROVED,
        decided_by=community_admin, decided_at=now, valid_until=now - datetime.timedelta(minutes=1),
    )  # fmt: skip
    ExportApproval.objects.create(
        community=staff.community, requested_by=staff, reason="y", status=ExportStatus.REFUSED,
        decided_by=community_admin, decided_at=now,
    )  # fmt: skip
    assert client_for(staff).get(reverse("grids:resident_export"), {"full": "1"}).status_code == 403


def test_nobody_approves_their_own_request(community_admin, people):
    client = client_for(community_admin)
    client.post(reverse("grids:export_requests"), {"reason": "自己要导出"})
    approval = ExportApproval.objects.get()
    response = client.post(reverse("grids:export_decide", args=[approval.pk]), {"decision": "approved", "hours": 1})
    assert response.status_code == 403
    approval.refresh_from_db()
    assert approval.status == ExportStatus.REQUESTED


def test_a_lone_admins_request_is_decided_by_the_subdistrict(
    settings, community_admin, subdistrict_user, other_subdistrict, staff, other_staff, people
):
    """A community with one admin is not stuck: the subdistrict's staff decide (and are told of
    the request in their inbox); staff of another subdistrict or community neither see nor decide."""
    settings.LANGUAGE_CODE = "en"
    elsewhere = make_user("street2", Role.SUBDISTRICT_STAFF, subdistrict=other_subdistrict)
    client_for(community_admin).post(reverse("grids:export_requests"), {"reason": "年度复核"})
    approval = ExportApproval.objects.get()
    told = Notification.objects.filter(dedupe_key=f"export-request:{approval.pk}")
    assert set(told.values_list("recipient__username", flat=True)) == {"street1"}  # not the admin themself
    assert "asks for an unmasked export" in told.get().title
    for person in (elsewhere, staff, other_staff):
        assert client_for(person).get(reverse("grids:export_requests")).context["approvals"] == []
        response = client_for(person).post(
            reverse("grids:export_decide", args=[approval.pk]), {"decision": "approved", "hours": 1}
        )
        assert response.status_code == 404
    approval.refresh_from_db()
    assert approval.status == ExportStatus.REQUESTED
    page = client_for(subdistrict_user).get(reverse("grids:export_requests"))
    [item] = page.context["approvals"]
    assert item["can_decide"]
    assert "商隆社区" in page.content.decode()  # the requests of several communities say whose
    client_for(subdistrict_user).post(
        reverse("grids:export_decide", args=[approval.pk]), {"decision": "approved", "hours": 2}
    )
    approval.refresh_from_db()
    assert (approval.status, approval.decided_by) == (ExportStatus.APPROVED, subdistrict_user)
    [decision] = Notification.objects.filter(recipient=community_admin, dedupe_key=f"export-decision:{approval.pk}")
    assert "approved" in decision.title
    assert client_for(community_admin).get(reverse("grids:resident_export"), {"full": "1"}).status_code == 200


def test_the_deciders_told_of_a_request_are_those_who_may_decide_it(staff, community_admin, people, request):
    cast = matrix.build_cast(request)
    client_for(staff).post(reverse("grids:export_requests"), {"reason": "年度复核"})
    approval = ExportApproval.objects.get()
    told = set(
        Notification.objects.filter(dedupe_key=f"export-request:{approval.pk}").values_list("recipient_id", flat=True)
    )
    deciders = {
        person.pk
        for person in cast.users.values()
        if ExportApproval.objects.decidable_by(person).filter(pk=approval.pk).exists()
    }
    assert told == deciders == {community_admin.pk, cast.users["subdistrict_user"].pk}


def test_readers_cannot_ask_for_an_unmasked_export(subdistrict_user, department_user, people):
    for person in (subdistrict_user, department_user):
        response = client_for(person).post(reverse("grids:export_requests"), {"reason": "想要"})
        assert response.status_code == 403
    assert not ExportApproval.objects.exists()


# --- Moving out keeps the record --------------------------------------------------------------


def test_a_resident_who_moves_out_keeps_their_history(staff, resident, people):
    client = client_for(staff)
    GroupMembership.objects.filter(resident=resident).update(until=None)
    response = client.post(reverse("grids:resident_move_out", args=[resident.pk]), {"moved_out": "2025-10-01"})
    assert response.status_code == 302
    resident.refresh_from_db()
    assert str(resident.moved_out) == "2025-10-01"
    assert list(resident.history.values_list("history_type", flat=True)) == ["~", "+"]
    assert [str(m.until) for m in GroupMembership.objects.filter(resident=resident)] == ["2025-10-01"]
    assert str(Tenancy.objects.get(tenant=resident).until) == "2025-10-01"
    # Off the list by default, found with the filter, and the page still opens.
    listed = client.get(reverse("grids:resident_list"))
    assert resident not in listed.context["page"]
    listed = client.get(reverse("grids:resident_list"), {"moved_out": "on"})
    assert resident in listed.context["page"]
    page = client.get(reverse("grids:resident_detail", args=[resident.pk]))
    assert page.status_code == 200
    assert "2025-10-01" in page.content.decode()
    assert len(page.context["changes"]) == 2
    assert Resident.objects.filter(pk=resident.pk).exists()


def test_the_page_shows_the_address_history(staff, resident, people):
    new_dwelling = people["dwellings"]["B"]
    resident.dwelling = new_dwelling
    resident.save()
    page = client_for(staff).get(reverse("grids:resident_detail", args=[resident.pk]))
    assert [line["address"] for line in page.context["address_history"]] == [
        "小区cA1号楼1单元101",
        "小区cB1号楼1单元102",
    ]


def test_households_are_shown_with_their_members(staff, people):
    head = people["residents"]["A"]
    household = Household.objects.create(dwelling=head.dwelling, householder=head)
    head.household = household
    head.save()
    child = make_resident(head.dwelling, "孩子A", 77, birth="2012-02-02", household=household, relation="child")
    page = client_for(staff).get(reverse("grids:resident_detail", args=[child.pk]))
    assert [member.name for member in page.context["members"]] == ["居民A", "孩子A"]


def test_staff_record_and_end_a_rented_flat(staff, people):
    tenant = people["residents"]["B"]
    client = client_for(staff)
    response = client.post(
        reverse("grids:tenancy_create", args=[tenant.pk]), {"owner_name": "房东丙", "since": "2025-03-01"}
    )
    assert response.status_code == 302, response.context["form"].errors
    tenancy = Tenancy.objects.get(tenant=tenant)
    assert (tenancy.dwelling, tenancy.owner_display) == (tenant.dwelling, "房东丙")
    page = client.get(reverse("grids:resident_detail", args=[tenant.pk]))
    assert "房东丙" in page.content.decode()
    response = client.post(reverse("grids:tenancy_end", args=[tenancy.pk]), {"moved_out": "2025-02-01"})
    assert "moved_out" in response.context["form"].errors  # before the start
    response = client.post(reverse("grids:tenancy_end", args=[tenancy.pk]), {"moved_out": "2025-12-31"})
    assert response.status_code == 302
    tenancy.refresh_from_db()
    assert str(tenancy.until) == "2025-12-31"


def test_the_admin_sees_and_decides_requests_on_the_requests_page(staff, community_admin, people):
    client_for(staff).post(reverse("grids:export_requests"), {"reason": "年度复核"})
    page = client_for(community_admin).get(reverse("grids:export_requests"))
    [item] = page.context["approvals"]
    assert item["can_decide"]
    staff_page = client_for(staff).get(reverse("grids:export_requests"))
    [own] = staff_page.context["approvals"]
    assert not own["can_decide"]
    assert not own["usable"]


# --- Query counts ------------------------------------------------------------------------------


def populate(people, rows: int) -> None:
    dwelling = people["dwellings"]["A"]
    for number in range(rows):
        resident = make_resident(dwelling, f"批量{number:02d}", 300 + number)
        resident.group_memberships.create(
            kind=GroupKind.ELDERLY_ALONE, level="general_care", department=people["civil_affairs"], since="2025-01-01"
        )


@pytest.mark.parametrize("rows", [5, 50])
def test_resident_list_queries(grid_worker, people, django_assert_num_queries, rows):
    populate(people, rows)
    client = client_for(grid_worker)
    # session, user, unread messages, page count, residents (with address and grid),
    # their current groups the viewer may see (with department)
    with django_assert_num_queries(6):
        response = client.get(reverse("grids:resident_list"), {"q": "批量"})
    page = response.context["page"]
    assert len(page.object_list) == rows
    assert all(len(resident.visible_groups) == 1 for resident in page)
