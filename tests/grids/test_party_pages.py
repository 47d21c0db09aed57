"""The party-member pages: who sees which member, who may keep them, the forms' checks, the
list's filters and its query count. The world is tests.grids.test_party_api's."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse

from grids.models import (
    ClaimedTask,
    Duty,
    GridAssignment,
    MobileMembership,
    OrganisationalLifeAttendance,
    OrganisationKind,
    PartyMember,
    PartyOrganisation,
    ServiceHours,
)
from shanglong.models import Role
from tests.api import matrix
from tests.conftest import client_for, make_user
from tests.grids.test_party_api import build_party_world, make_resident

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(request):
    return build_party_world(matrix.build_cast(request))


def listed(user, **params) -> set[str]:
    response = client_for(user).get(reverse("grids:party_member_list"), params)
    assert response.status_code == 200
    return {member.name for member in response.context["page"]}


def detail_status(user, member) -> int:
    return client_for(user).get(reverse("grids:party_member_detail", args=[member.pk])).status_code


OURS = {"王志刚", "grid2", "许国庆"}


# --- Scoping -------------------------------------------------------------------------------------


@pytest.mark.parametrize("person", ["staff", "community_admin"])
def test_community_staff_see_their_communitys_members(request, world, person):
    user = request.getfixturevalue(person)
    assert listed(user) == OURS
    assert detail_status(user, world["members"]["m3"]) == 200
    assert detail_status(user, world["members"]["mX"]) == 404


def test_branch_secretary_sees_only_the_members_of_their_branch(grid_worker, world):
    assert listed(grid_worker) == {"王志刚"}
    members = world["members"]
    assert detail_status(grid_worker, members["m1"]) == 200
    assert [detail_status(grid_worker, members[key]) for key in ("m2", "m3", "mX")] == [404, 404, 404]
    client = client_for(grid_worker)
    assert client.get(reverse("grids:party_member_edit", args=[members["m1"].pk])).status_code == 200
    assert client.get(reverse("grids:party_member_edit", args=[members["m2"].pk])).status_code == 404


def test_staff_of_another_community_see_none_of_its_members(other_staff, world):
    assert listed(other_staff) == {"周文"}
    for key in ("m1", "m2", "m3"):
        assert detail_status(other_staff, world["members"][key]) == 404
    report = reverse("grids:in_work_report", args=[world["registrations"]["reg1"].pk, 2025])
    assert client_for(other_staff).get(report).status_code == 404


@pytest.mark.parametrize("person", ["merchant_user", "volunteer_user", "department_user", "outsider", "plain_worker"])
def test_people_without_a_party_role_see_no_member(request, world, person):
    if person == "plain_worker":
        # A grid worker on duty in branch 1's grid, who leads no branch.
        user = make_user("grid3", Role.GRID_WORKER, community=world["grids"]["A"].community)
        GridAssignment.objects.create(user=user, grid=world["grids"]["A"], duty=Duty.FULL_TIME)
    else:
        user = request.getfixturevalue(person)
    assert listed(user) == set()
    client = client_for(user)
    for key in ("m1", "m2", "m3", "mX"):
        assert detail_status(user, world["members"][key]) == 404
    assert client.get(reverse("grids:mobile_membership_edit", args=[world["mobiles"]["mob1"].pk])).status_code == 404
    assert (
        client.get(reverse("grids:in_work_report", args=[world["registrations"]["reg1"].pk, 2025])).status_code == 404
    )
    assert client.get(reverse("grids:party_member_create")).status_code == 403
    report_list = client.get(reverse("grids:in_work_report_list", args=[2025]))
    assert list(report_list.context["registrations"]) == []


def test_the_member_sees_their_own_record_tasks_and_hours_and_nothing_else(other_grid_worker, world):
    assert listed(other_grid_worker) == {"grid2"}
    client = client_for(other_grid_worker)
    page = client.get(reverse("grids:party_member_detail", args=[world["members"]["m2"].pk]))
    assert page.status_code == 200
    content = page.content.decode()
    assert "任务2" in content
    assert re.search(r"data-hours>2\.0<", content)
    assert 'data-testid="edit-member"' not in content
    assert detail_status(other_grid_worker, world["members"]["m1"]) == 404
    assert client.get(reverse("grids:party_member_edit", args=[world["members"]["m2"].pk])).status_code == 403
    registration = world["registrations"]["reg2"]
    assert client.get(reverse("grids:in_work_report", args=[registration.pk, 2025])).status_code == 200
    sent = client.post(reverse("grids:in_work_report_sent", args=[registration.pk, 2025]))
    assert sent.status_code == 403
    assert not registration.reports.exists()
    hours = client.post(
        reverse("grids:hours_create", args=[world["tasks"]["t2"].pk]), {"served_on": "2025-03-01", "hours": "8"}
    )
    assert hours.status_code == 403
    assert ServiceHours.objects.filter(task=world["tasks"]["t2"]).count() == 1


def test_the_member_finds_their_record_from_the_start_page(volunteer_user, merchant_user, world):
    member = world["members"]["m3"]
    member.user = volunteer_user
    member.save()
    page = client_for(volunteer_user).get(reverse("home")).content.decode()
    assert reverse("grids:party_member_detail", args=[member.pk]) in page
    assert "my-party-membership" not in client_for(merchant_user).get(reverse("home")).content.decode()


def test_subdistrict_staff_read_every_community_but_keep_nothing(subdistrict_user, world):
    assert listed(subdistrict_user) == OURS | {"周文"}
    client = client_for(subdistrict_user)
    assert client.get(reverse("grids:party_member_edit", args=[world["members"]["m1"].pk])).status_code == 403
    assert client.get(reverse("grids:party_member_create")).status_code == 403
    response = client.post(
        reverse("grids:attendance_create", args=[world["mobiles"]["mob1"].pk]),
        {"date": "2025-03-01", "kind": "party_lesson", "way": "online"},
    )
    assert response.status_code == 403
    assert OrganisationalLifeAttendance.objects.count() == 4


def test_the_phone_is_shown_masked(staff, world):
    content = client_for(staff).get(reverse("grids:party_member_list")).content.decode()
    assert "138****1111" in content
    assert "13800001111" not in content
    detail = client_for(staff).get(reverse("grids:party_member_detail", args=[world["members"]["m1"].pk]))
    assert "138****1111" in detail.content.decode()
    assert "13800001111" not in detail.content.decode()


# --- Keeping the registry --------------------------------------------------------------------------


def member_data(world, **changes) -> dict:
    data = {
        "name": "",
        "resident": world["residents"]["spare"].pk,
        "organisation": world["organisations"]["branch1"].pk,
        "status": "probationary",
        "joined_on": "2025-07-01",
        "phone": "139-1234-5678",
        "note": "",
    }
    data.update(changes)
    return data


def test_staff_add_a_member_taking_the_residents_name(staff, world):
    response = client_for(staff).post(reverse("grids:party_member_create"), member_data(world))
    member = PartyMember.objects.get(resident=world["residents"]["spare"])
    assert response.status_code == 302
    assert response.url == reverse("grids:party_member_detail", args=[member.pk])
    assert (member.name, member.phone, member.status) == ("李新", "13912345678", "probationary")
    assert member.history.get().history_user == staff


def test_branch_secretary_adds_a_member_to_their_branch(grid_worker, world):
    response = client_for(grid_worker).post(reverse("grids:party_member_create"), member_data(world))
    assert response.status_code == 302
    assert (
        PartyMember.objects.get(resident=world["residents"]["spare"]).organisation == world["organisations"]["branch1"]
    )


def test_an_invalid_phone_is_a_form_error_and_nothing_is_written(staff, world):
    before = PartyMember.objects.count()
    response = client_for(staff).post(
        reverse("grids:party_member_create"), member_data(world, phone="12345"), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    assert "mainland mobile number" in response.context["form"].errors["phone"][0]
    assert PartyMember.objects.count() == before


@pytest.mark.parametrize(
    ("person", "organisation"), [("staff", "branchX"), ("grid_worker", "branch2"), ("grid_worker", "committee")]
)
def test_an_organisation_outside_ones_scope_is_a_form_error(request, world, person, organisation):
    user = request.getfixturevalue(person)
    before = PartyMember.objects.count()
    data = member_data(world, organisation=world["organisations"][organisation].pk)
    response = client_for(user).post(reverse("grids:party_member_create"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "Select a valid choice" in response.context["form"].errors["organisation"][0]
    assert PartyMember.objects.count() == before


def test_a_member_needs_a_resident_or_an_account_on_the_page_too(staff, world):
    data = member_data(world, resident="", name="无名")
    response = client_for(staff).post(reverse("grids:party_member_create"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "a resident, a portal account, or both" in str(response.context["form"].non_field_errors())
    assert not PartyMember.objects.filter(name="无名").exists()


def test_a_resident_of_another_community_cannot_be_picked(staff, world):
    data = member_data(world, resident=world["residents"]["rx"].pk)
    response = client_for(staff).post(reverse("grids:party_member_create"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert "resident" in response.context["form"].errors


def test_a_mobile_record_ending_before_it_starts_is_a_form_error_and_nothing_is_written(staff, world):
    member = world["members"]["m3"]
    data = {
        "direction": "outflow",
        "place": "深圳市",
        "since": "2020-05-01",
        "until": "2020-04-30",
        "contact_method": "phone",
    }
    response = client_for(staff).post(
        reverse("grids:mobile_membership_create", args=[member.pk]), data, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    assert response.context["form"].errors["until"] == ["The end cannot be before the start."]
    assert MobileMembership.objects.filter(member=member).count() == 1


def test_staff_end_a_mobile_record_and_start_another(staff, world):
    record = world["mobiles"]["mob3"]
    client = client_for(staff)
    data = {
        "direction": "outflow",
        "place": "青岛市",
        "since": "2025-01-01",
        "until": "2025-06-30",
        "contact_method": "wechat",
        "membership_kept_at": "",
    }
    assert client.post(reverse("grids:mobile_membership_edit", args=[record.pk]), data).status_code == 302
    data = {
        "direction": "inflow",
        "place": "滨州",
        "since": "2025-07-01",
        "contact_method": "phone",
        "membership_kept_at": "博兴县",
    }
    response = client.post(reverse("grids:mobile_membership_create", args=[record.member_id]), data)
    assert response.status_code == 302
    assert list(record.member.mobile_memberships.order_by("since").values_list("direction", flat=True)) == [
        "outflow",
        "inflow",
    ]


def test_staff_record_organisational_life_once_per_session(staff, world):
    record = world["mobiles"]["mob1"]
    url = reverse("grids:attendance_create", args=[record.pk])
    data = {"date": "2025-03-01", "kind": "party_lesson", "way": "online", "held_by": "青岛流入地党支部"}
    client = client_for(staff)
    assert client.post(url, data).status_code == 302
    attendance = record.attendances.get(kind="party_lesson")
    assert (attendance.way, attendance.recorded_by) == ("online", staff)
    again = client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    assert again.status_code == 200
    assert "already recorded" in again.context["form"].errors["kind"][0]
    page = client.get(reverse("grids:party_member_detail", args=[record.member_id])).content.decode()
    assert "青岛流入地党支部" in page


def test_attendance_in_the_future_is_refused(staff, world):
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    url = reverse("grids:attendance_create", args=[world["mobiles"]["mob1"].pk])
    response = client_for(staff).post(url, {"date": tomorrow.isoformat(), "kind": "party_lesson", "way": "online"})
    assert "date" in response.context["form"].errors


def test_secretary_registers_a_member_claims_a_task_and_records_hours(grid_worker, world):
    client = client_for(grid_worker)
    member = world["members"]["m1"]
    registration = world["registrations"]["reg1"]
    # The open registration must end before another can start.
    refused = client.post(
        reverse("grids:registration_create", args=[member.pk]),
        {"employer_name": "区财政局党支部", "registered_on": "2025-09-01"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "another registration" in refused.context["form"].errors["registered_on"][0]
    response = client.post(
        reverse("grids:task_create", args=[registration.pk]), {"title": "岗亭普法", "claimed_on": "2025-05-01"}
    )
    assert response.status_code == 302
    task = ClaimedTask.objects.get(title="岗亭普法")
    response = client.post(reverse("grids:hours_create", args=[task.pk]), {"served_on": "2025-05-03", "hours": "2.5"})
    assert response.status_code == 302
    hours = task.service_hours.get()
    assert (hours.hours, hours.recorded_by) == (pytest.approx(2.5), grid_worker)
    response = client.post(
        reverse("grids:task_edit", args=[task.pk]),
        {"title": "岗亭普法", "claimed_on": "2025-05-01", "status": "completed", "completed_on": ""},
    )
    task.refresh_from_db()
    assert (task.status, task.completed_on) == ("completed", datetime.date.today())
    page = client.get(reverse("grids:party_member_detail", args=[member.pk])).content.decode()
    assert re.search(rf'data-task="{task.pk}">.*?data-hours>2\.5<', page, re.S)


def test_hours_before_the_task_was_claimed_are_refused(staff, world):
    task = world["tasks"]["t1"]
    url = reverse("grids:hours_create", args=[task.pk])
    response = client_for(staff).post(url, {"served_on": "2025-01-01", "hours": "2"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "before the task was claimed" in response.context["form"].errors["served_on"][0]
    assert task.service_hours.count() == 1


# --- The list --------------------------------------------------------------------------------------


def test_the_list_filters_by_organisation_status_mobile_direction_and_search(staff, world):
    members = world["members"]
    members["m3"].status = "probationary"
    members["m3"].save()
    assert listed(staff, organisation=world["organisations"]["branch1"].pk) == {"王志刚"}
    assert listed(staff, status="probationary") == {"许国庆"}
    assert listed(staff, mobile="inflow") == {"grid2"}
    assert listed(staff, mobile="outflow") == {"王志刚", "许国庆"}
    assert listed(staff, q="志刚") == {"王志刚"}
    assert listed(staff, q="1111") == {"王志刚"}
    # Only the viewer's organisations are offered: another community's is not a valid filter.
    assert listed(staff, organisation=world["organisations"]["branchX"].pk) == OURS


def test_members_who_left_are_listed_apart(staff, world):
    member = world["members"]["m3"]
    member.left_on = datetime.date(2025, 6, 30)
    member.save()
    assert listed(staff) == {"王志刚", "grid2"}
    assert listed(staff, former="on") == {"许国庆"}


def test_an_ended_mobile_record_no_longer_counts_as_mobile(staff, world):
    record = world["mobiles"]["mob1"]
    record.until = datetime.date(2025, 6, 30)
    record.save()
    assert listed(staff, mobile="outflow") == {"许国庆"}


@pytest.mark.parametrize("rows", [5, 50])
def test_member_list_queries(staff, django_assert_num_queries, rows):
    branch = PartyOrganisation.objects.create(community=staff.community, name="支部", kind=OrganisationKind.GRID_BRANCH)
    from grids.models import Grid
    from tests.grids.test_party_api import BOX

    grid = Grid.objects.create(community=staff.community, code="01", name="网格", branch=branch, boundary=BOX)
    for number in range(rows):
        member = PartyMember.objects.create(
            resident=make_resident(grid, f"党员{number}", number + 10),
            name=f"党员{number:02d}",
            organisation=branch,
            joined_on=datetime.date(2000, 7, 1),
            phone="13800001111",
        )
        MobileMembership.objects.create(
            member=member, direction="outflow", place="青岛", since=datetime.date(2025, 1, 1), contact_method="wechat"
        )
    client = client_for(staff)
    # session, user, unread messages, organisations of the filter, page count,
    # members (with organisation and community, the mobile direction and in-work subqueries)
    with django_assert_num_queries(6):
        response = client.get(reverse("grids:party_member_list"))
    assert len(response.context["page"].object_list) == rows
    assert all(member.mobile_direction == "outflow" for member in response.context["page"])
