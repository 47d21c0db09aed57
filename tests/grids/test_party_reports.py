"""The in-work members' yearly reports: the hours of a year are summed in the database, the
report lists that year's tasks, marking it sent records who and when (once), and the year's
.xlsx export holds every registration in the viewer's scope."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from grids.models import ClaimedTask, InWorkRegistration, InWorkReport, ServiceHours
from shanglong.models import AccessAction, AccessLog
from tests.api import matrix
from tests.conftest import client_for
from tests.grids.test_party_api import build_party_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(request):
    """The party world, and on m1's registration (since 2024): a task claimed in 2024 served in
    2024 only, one claimed in 2024 served in both years, one claimed in 2025 with no hours yet
    (and the world's own task 1, claimed and served in 2025)."""
    world = build_party_world(matrix.build_cast(request))
    registration = world["registrations"]["reg1"]
    old = ClaimedTask.objects.create(registration=registration, title="旧任务", claimed_on=datetime.date(2024, 3, 1))
    lasting = ClaimedTask.objects.create(
        registration=registration, title="长期任务", claimed_on=datetime.date(2024, 6, 1)
    )
    fresh = ClaimedTask.objects.create(registration=registration, title="新任务", claimed_on=datetime.date(2025, 11, 1))
    for task, served_on, hours in [
        (old, datetime.date(2024, 3, 2), "3.0"),
        (old, datetime.date(2024, 12, 31), "1.5"),
        (lasting, datetime.date(2024, 7, 1), "2.0"),
        (lasting, datetime.date(2025, 1, 1), "4.5"),
        (lasting, datetime.date(2025, 12, 31), "0.5"),
    ]:
        ServiceHours.objects.create(task=task, served_on=served_on, hours=Decimal(hours))
    world["year_tasks"] = {"old": old, "lasting": lasting, "fresh": fresh}
    return world


def test_hours_are_summed_per_year_in_the_database(world, django_assert_num_queries):
    registration = world["registrations"]["reg1"]
    by_year = {}
    for year in (2023, 2024, 2025):
        with django_assert_num_queries(1):  # one SELECT ... SUM(hours) ... GROUP BY
            by_year[year] = InWorkRegistration.objects.with_hours(year).get(pk=registration.pk).hours_total
    # 2024: 3.0 + 1.5 + 2.0; 2025: task 1's 2.0 + 4.5 + 0.5; none in 2023.
    assert by_year == {2024: Decimal("6.5"), 2025: Decimal("7.0"), 2023: Decimal("0")}
    with django_assert_num_queries(1):
        total = ServiceHours.objects.filter(task__registration=registration).in_year(2025).total()
    assert total == Decimal("7.0")


def test_the_yearly_report_lists_the_tasks_of_the_year_with_their_hours(staff, world):
    registration = world["registrations"]["reg1"]
    response = client_for(staff).get(reverse("grids:in_work_report", args=[registration.pk, 2025]))
    assert response.status_code == 200
    tasks = {task.title: task.hours_total for task in response.context["tasks"]}
    # The old task had no hours in 2025 and was claimed before: it is not in the 2025 report.
    assert tasks == {"任务1": Decimal("2.0"), "长期任务": Decimal("5.0"), "新任务": Decimal("0")}
    assert response.context["total"] == Decimal("7.0")
    assert 'data-testid="report-total">7.0<' in response.content.decode()
    earlier = client_for(staff).get(reverse("grids:in_work_report", args=[registration.pk, 2024]))
    assert {task.title for task in earlier.context["tasks"]} == {"旧任务", "长期任务"}
    assert earlier.context["total"] == Decimal("6.5")


def test_a_report_of_another_registration_does_not_list_these_tasks(staff, world):
    response = client_for(staff).get(reverse("grids:in_work_report", args=[world["registrations"]["reg2"].pk, 2025]))
    assert [task.title for task in response.context["tasks"]] == ["任务2"]


def test_marking_the_report_sent_records_who_and_when_once(staff, community_admin, world):
    registration = world["registrations"]["reg1"]
    url = reverse("grids:in_work_report_sent", args=[registration.pk, 2025])
    before = timezone.now()
    response = client_for(staff).post(url, {"note": "年初联席会议当面送达"})
    assert response.status_code == 302
    report = InWorkReport.objects.get(registration=registration, year=2025)
    assert report.sent_by == staff
    assert before <= report.sent_at <= timezone.now()
    assert report.hours_reported == Decimal("7.0")
    assert report.note == "年初联席会议当面送达"
    page = client_for(staff).get(reverse("grids:in_work_report", args=[registration.pk, 2025]))
    assert page.context["report"] == report
    assert 'data-testid="mark-sent"' not in page.content.decode()
    # Marking again (someone else, later) changes nothing and says so.
    again = client_for(community_admin).post(url, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "already marked sent" in again.content.decode()
    assert InWorkReport.objects.get().sent_by == staff


def test_a_report_of_a_year_to_come_is_not_found(staff, world):
    next_year = timezone.localdate().year + 1
    registration = world["registrations"]["reg1"]
    client = client_for(staff)
    assert client.get(reverse("grids:in_work_report", args=[registration.pk, next_year])).status_code == 404
    assert client.post(reverse("grids:in_work_report_sent", args=[registration.pk, next_year])).status_code == 404
    assert not InWorkReport.objects.exists()


def test_the_years_reports_list_sums_hours_for_the_registrations_in_scope(grid_worker, staff, world):
    response = client_for(grid_worker).get(reverse("grids:in_work_report_list", args=[2025]))
    rows = {registration.member.name: registration.hours_total for registration in response.context["registrations"]}
    assert rows == {"王志刚": Decimal("7.0")}
    everyone = client_for(staff).get(reverse("grids:in_work_report_list", args=[2025]))
    assert {r.member.name for r in everyone.context["registrations"]} == {"王志刚", "grid2", "许国庆"}


def test_the_years_export_holds_every_registration_in_scope(staff, world):
    InWorkReport.objects.create(
        registration=world["registrations"]["reg2"], year=2025, sent_by=staff, hours_reported=Decimal("2.0")
    )
    response = client_for(staff).get(reverse("grids:in_work_report_export", args=[2025]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0].startswith("Exported by staff1")
    header = rows[1]
    assert header[0] == "Party member"
    by_name = {row[0]: dict(zip(header, row, strict=True)) for row in rows[2:]}
    assert set(by_name) == {"王志刚", "grid2", "许国庆"}
    assert by_name["王志刚"]["Hours served"] == 7
    assert "长期任务 (5.0)" in by_name["王志刚"]["Tasks"]
    assert "旧任务" not in by_name["王志刚"]["Tasks"]
    assert by_name["grid2"]["Sent by"] == "staff1"
    assert by_name["许国庆"]["Report sent"] is None
    assert AccessLog.objects.filter(
        action=AccessAction.EXPORT, user=staff, target="party:in-work-reports:2025"
    ).exists()


def test_the_export_of_a_branch_secretary_holds_their_branch_only(grid_worker, world):
    response = client_for(grid_worker).get(reverse("grids:in_work_report_export", args=[2025]))
    sheet = load_workbook(io.BytesIO(response.content)).active
    names = [row[0] for row in sheet.iter_rows(min_row=3, values_only=True)]
    assert names == ["王志刚"]
