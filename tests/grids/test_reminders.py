"""The morning sweep: one reminder per grid worker with their due and overdue subjects, one
overdue summary per branch secretary; set-based and idempotent (rerun, concurrent run); nobody
is told of a group they may not see."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from grids.actions import OVERDUE_SUMMARY_KIND, VISIT_REMINDER_KIND, send_visit_reminders
from grids.models import Duty, GridAssignment, GroupAccessRule, GroupKind, LedgerSubject, VisitPeriod, VisitWay
from grids.tasks import send_visit_reminders_task
from shanglong import tasks as core_tasks
from shanglong.models import Notification, Role
from tests.conftest import make_user
from tests.grids.ledger_world import civil_affairs, enterprise, line_for, member, visit

TODAY = timezone.localdate()
LONG_AGO = TODAY - datetime.timedelta(days=120)


@pytest.fixture(autouse=True)
def no_delivery(monkeypatch):
    """Delivery through the channels is the core's business (and its own tests')."""
    monkeypatch.setattr(core_tasks.deliver_notifications_task, "delay_on_commit", lambda *a, **kw: None)


@pytest.fixture
def ledger(grids, compounds, on_duty, branch_secretary, grid_worker, other_grid_worker, department, subdistrict):
    """Grid A (grid1 on duty): an enterprise and a community-correction member, both overdue and
    with no team; an enterprise visited this month; one that left. Grid B (grid2 on duty): an
    overdue enterprise, and an elderly person living alone whose team is grid2 and grid1 (grid1 is
    not on duty in B, so may not see that group)."""
    return {
        "entA": enterprise(grids["A"], "乐活城", entered_on=LONG_AGO),
        "keyA": line_for(
            member(compounds["A"], "周志强", GroupKind.COMMUNITY_CORRECTION, department=department, level="strict"),
            entered_on=LONG_AGO,
        ),
        "doneA": _visited(enterprise(grids["A"], "已走访企业", entered_on=LONG_AGO)),
        "leftA": _left(enterprise(grids["A"], "已迁出企业", entered_on=LONG_AGO)),
        "entB": enterprise(grids["B"], "供销商场", entered_on=LONG_AGO),
        "oldB": line_for(
            member(compounds["B"], "刘桂英", GroupKind.ELDERLY_ALONE, department=civil_affairs(subdistrict)),
            team=(other_grid_worker, grid_worker),
            entered_on=LONG_AGO,
        ),
    }


def _visited(subject: LedgerSubject) -> LedgerSubject:
    visit(subject, timezone.now() - datetime.timedelta(minutes=5), VisitWay.FACE_TO_FACE)
    return subject


def _left(subject: LedgerSubject) -> LedgerSubject:
    LedgerSubject.objects.filter(pk=subject.pk).update(left_on=TODAY)
    return subject


def inbox(user) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user).order_by("kind"))


@pytest.mark.django_db
def test_each_worker_gets_one_reminder_with_their_due_and_overdue_subjects(
    ledger, grid_worker, other_grid_worker, staff
):
    sent = send_visit_reminders(on=TODAY)
    [reminder] = inbox(grid_worker)
    assert reminder.kind == VISIT_REMINDER_KIND
    assert reminder.dedupe_key == f"visit-reminder:{TODAY.isoformat()}"
    assert reminder.url == reverse("grids:my_day")
    assert "乐活城" in reminder.body
    assert "周志强" in reminder.body
    assert "已走访企业" not in reminder.body
    assert "已迁出企业" not in reminder.body
    assert "供销商场" not in reminder.body  # grid B's, not in grid1's care
    [theirs] = inbox(other_grid_worker)
    assert "供销商场" in theirs.body
    assert "刘桂英" in theirs.body
    assert inbox(staff) == []  # answers for nothing
    assert sent == Notification.objects.count()


@pytest.mark.django_db
def test_nobody_is_told_of_a_group_they_may_not_see(ledger, grid_worker, community):
    send_visit_reminders(on=TODAY)
    [reminder] = inbox(grid_worker)
    # grid1 is on 刘桂英's team but not on duty in grid B: the group rule hides her.
    assert "刘桂英" not in reminder.body
    # The community stops showing community correction to grid workers: nor is 周志强 named.
    GroupAccessRule.objects.ensure_for(community)
    GroupAccessRule.objects.filter(community=community, kind=GroupKind.COMMUNITY_CORRECTION).update(grid_workers=False)
    send_visit_reminders(on=TODAY + datetime.timedelta(days=1))
    latest = Notification.objects.filter(recipient=grid_worker).order_by("-created_at", "-pk").first()
    assert "乐活城" in latest.body
    assert "周志强" not in latest.body
    assert len(latest.body.splitlines()) == 1  # 乐活城 alone


@pytest.mark.django_db
def test_the_branch_secretary_gets_overdue_counts_per_grid_of_what_they_may_see(ledger, branch_secretary):
    send_visit_reminders(on=TODAY)
    [summary] = inbox(branch_secretary)
    assert summary.kind == OVERDUE_SUMMARY_KIND
    # Grid A: 乐活城 (周志强 is a group the secretary, on duty nowhere, may not see); grid B: 供销商场.
    assert summary.body.splitlines() == ["· 网格A: 1", "· 网格B: 1"]
    assert "2" in summary.title
    assert "周志强" not in summary.body
    assert "刘桂英" not in summary.body


@pytest.mark.django_db
def test_a_rerun_sends_nothing_twice(ledger, grid_worker, branch_secretary):
    send_visit_reminders(on=TODAY)
    before = sorted(Notification.objects.values_list("recipient_id", "dedupe_key"))
    send_visit_reminders(on=TODAY)
    send_visit_reminders_task(TODAY.isoformat())
    assert sorted(Notification.objects.values_list("recipient_id", "dedupe_key")) == before
    assert len(before) == 3  # grid1, grid2, the secretary
    # The next day is a new occasion.
    send_visit_reminders(on=TODAY + datetime.timedelta(days=1))
    assert Notification.objects.filter(recipient=grid_worker).count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_the_same_moment_send_nothing_twice(ledger):
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def sweep() -> None:
        try:
            barrier.wait(timeout=10)
            send_visit_reminders(on=TODAY)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    keys = list(Notification.objects.values_list("recipient_id", "dedupe_key"))
    assert len(keys) == len(set(keys)) == 3


@pytest.mark.django_db
def test_a_subject_that_left_ends_its_reminders(ledger, other_grid_worker):
    for label in ("entB", "oldB"):
        LedgerSubject.objects.filter(pk=ledger[label].pk).update(left_on=TODAY)
    send_visit_reminders(on=TODAY)
    assert inbox(other_grid_worker) == []


@pytest.mark.django_db
def test_the_task_takes_a_date_and_is_in_the_beat_schedule(ledger, grid_worker):
    assert send_visit_reminders_task(TODAY.isoformat()) == 3
    assert Notification.objects.filter(recipient=grid_worker, dedupe_key=f"visit-reminder:{TODAY}").exists()
    entries = [entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"].endswith("reminders_task")]
    assert [entry["task"] for entry in entries] == ["grids.tasks.send_visit_reminders_task"]
    assert entries[0]["schedule"].hour == {7}


def _sweep_queries(day: datetime.date) -> int:
    with CaptureQueriesContext(connection) as queries:
        send_visit_reminders(on=day)
    return len(queries)


@pytest.mark.django_db
def test_the_sweep_is_a_fixed_number_of_queries_whatever_the_people_and_subjects(
    ledger, grids, compounds, on_duty, grid_worker, other_grid_worker, department, bounded_community
):
    # the due set, the teams, the people on duty where a line has no team, the people, the
    # branches' grids, their secretaries, the memberships, the access tables, today's duties,
    # the insert.
    first = _sweep_queries(TODAY)
    assert first == 10
    # Ten times the subjects (half of them group lines) and eight more workers on duty.
    for number in range(8):
        worker = make_user(f"extra{number}", Role.GRID_WORKER, community=bounded_community)
        # Half by duty, half helpers (who see no group: more people, not more queries).
        duty = Duty.FULL_TIME if number % 4 < 2 else Duty.PART_TIME
        GridAssignment.objects.create(user=worker, grid=grids["CD"[number % 2]], duty=duty, since=LONG_AGO)
    for number in range(30):
        enterprise(grids["ABCD"[number % 4]], f"企业{number}", entered_on=LONG_AGO, period=VisitPeriod.WEEK)
        line_for(
            member(compounds["ABCD"[number % 4]], f"居民{number}", GroupKind.DISABILITY, department=department),
            team=(grid_worker,) if number % 3 == 0 else (),
            entered_on=LONG_AGO,
        )
    tomorrow = TODAY + datetime.timedelta(days=1)
    assert _sweep_queries(tomorrow) == first
    recipients = Notification.objects.filter(dedupe_key=f"visit-reminder:{tomorrow}").count()
    assert recipients == 10  # grid1, grid2 and the eight extra workers
    # The set form of the group rule at work: a worker on duty in C is told of C's group lines.
    [reminder] = Notification.objects.filter(recipient__username="extra0", dedupe_key=f"visit-reminder:{tomorrow}")
    assert "居民2 " in reminder.body
    assert "居民3 " not in reminder.body  # in D
    # A part-time worker in C is told of its enterprises, not of its group lines.
    [helper] = Notification.objects.filter(recipient__username="extra2", dedupe_key=f"visit-reminder:{tomorrow}")
    assert "企业2 " in helper.body
    assert "居民2 " not in helper.body


@pytest.mark.django_db
def test_a_long_reminder_names_thirty_lines_and_counts_the_rest(grids, on_duty, grid_worker):
    for number in range(40):
        enterprise(grids["A"], f"企业{number}", entered_on=LONG_AGO, period=VisitPeriod.WEEK)
    send_visit_reminders(on=TODAY)
    [reminder] = inbox(grid_worker)
    assert reminder.body.count("\n") == 30  # 30 named lines and "… and 10 more"
