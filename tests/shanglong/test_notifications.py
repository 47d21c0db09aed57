"""Notifications: deduplicated sweeps, delivery once per notification, the inbox page."""

from __future__ import annotations

import logging
import threading

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse

from shanglong import notifications, tasks
from shanglong.models import Notification
from shanglong.notifications import Message, deliver_pending, notify
from tests.conftest import client_for


def reminders_for(*users) -> list[Message]:
    """What a daily sweep would produce: two occasions for each person."""
    return [
        Message(recipient_id=user.pk, kind=kind, dedupe_key=f"{kind}:2026-11-27", title=f"{kind} for {user.username}")
        for user in users
        for kind in ("visit-reminder", "case-deadline")
    ]


def english(user):
    client = client_for(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


# --- Sweeps --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_sweep_run_twice_leaves_one_of_each(staff, grid_worker):
    notify(reminders_for(staff, grid_worker))
    notify(reminders_for(staff, grid_worker))
    assert Notification.objects.count() == 4
    assert sorted(Notification.objects.values_list("recipient__username", "dedupe_key")) == [
        ("grid1", "case-deadline:2026-11-27"),
        ("grid1", "visit-reminder:2026-11-27"),
        ("staff1", "case-deadline:2026-11-27"),
        ("staff1", "visit-reminder:2026-11-27"),
    ]


@pytest.mark.django_db
def test_the_same_key_for_another_day_or_person_is_a_new_notification(staff, grid_worker):
    def remind(user, day: str) -> None:
        notify([Message(recipient_id=user.pk, kind="visit-reminder", dedupe_key=f"visit-reminder:{day}", title=day)])

    remind(staff, "2026-11-27")
    remind(staff, "2026-11-28")
    remind(grid_worker, "2026-11-27")
    assert Notification.objects.count() == 3


@pytest.mark.django_db
def test_notify_schedules_delivery_after_commit(staff, django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.deliver_notifications_task, "delay", lambda *a, **kw: sent.append(a))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notify(reminders_for(staff))
        assert sent == []  # nothing reaches the broker before the rows are committed
    assert len(callbacks) == 1
    assert sent == [()]


@pytest.mark.django_db(transaction=True)
def test_a_sweep_run_twice_at_the_same_moment_leaves_one_of_each(staff, grid_worker, other_grid_worker, monkeypatch):
    monkeypatch.setattr(tasks.deliver_notifications_task, "delay_on_commit", lambda *a, **kw: None)
    messages = reminders_for(staff, grid_worker, other_grid_worker)
    rounds = 5
    errors: list[BaseException] = []

    def sweep(barrier: threading.Barrier, round_messages: list[Message]) -> None:
        try:
            barrier.wait(timeout=10)
            notify(round_messages)
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connection.close()

    for day in range(rounds):
        round_messages = [
            Message(
                recipient_id=m.recipient_id, kind=m.kind, dedupe_key=f"{m.dedupe_key}/{day}", title=m.title, body=m.body
            )
            for m in messages
        ]
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=sweep, args=(barrier, round_messages)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not any(thread.is_alive() for thread in threads)

    assert errors == []
    assert Notification.objects.count() == len(messages) * rounds
    for user in (staff, grid_worker, other_grid_worker):
        keys = list(Notification.objects.filter(recipient=user).values_list("dedupe_key", flat=True))
        assert len(keys) == len(set(keys)) == 2 * rounds


# --- Delivery ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_notification_is_delivered_once_even_when_delivery_runs_twice(staff, grid_worker, caplog):
    caplog.set_level(logging.INFO, logger="shanglong.notifications")
    notify(reminders_for(staff, grid_worker))

    assert deliver_pending() == 4
    assert deliver_pending() == 0
    assert tasks.deliver_notifications_task.apply().get() == 0

    assert Notification.objects.filter(delivered_at__isnull=True).count() == 0
    # staff1 has an email address and no mobile: two emails, one per notification.
    assert sorted(message.subject for message in mail.outbox) == [
        "case-deadline for staff1",
        "visit-reminder for staff1",
    ]
    assert all(message.to == ["staff1@example.org"] for message in mail.outbox)
    # grid1 has a mobile and no email: two SMS log lines, one per notification.
    sms_lines = [record.getMessage() for record in caplog.records if "sms" in record.getMessage()]
    assert len(sms_lines) == 2
    reports = dict(Notification.objects.values_list("recipient__username", "delivery_report").distinct())
    assert reports == {"staff1": "email", "grid1": "sms-logged"}


@pytest.mark.django_db
def test_sms_channel_logs_a_masked_number_and_never_the_full_number(grid_worker, caplog):
    caplog.set_level(logging.DEBUG)
    notify([Message(recipient_id=grid_worker.pk, kind="visit-reminder", dedupe_key="v:1", title="Visit today")])
    deliver_pending()
    assert "138****5678" in caplog.text
    assert "Visit today" in caplog.text
    assert "13812345678" not in caplog.text


@pytest.mark.django_db
def test_a_failing_channel_does_not_stop_the_others(staff, settings, monkeypatch, caplog):
    def broken(self, notification):
        raise ConnectionError("smtp down")

    monkeypatch.setattr(notifications.EmailChannel, "send", broken)
    staff.mobile = "13900001111"
    staff.save()
    notify(reminders_for(staff)[:1])
    assert deliver_pending() == 1
    assert Notification.objects.get().delivery_report == "email-failed,sms-logged"
    assert deliver_pending() == 0  # claimed: not retried in a loop


@pytest.mark.django_db
def test_a_person_without_email_or_mobile_still_gets_the_inbox(other_grid_worker):
    notify(reminders_for(other_grid_worker))
    assert deliver_pending() == 2
    assert mail.outbox == []
    assert set(Notification.objects.values_list("delivery_report", flat=True)) == {"inbox"}


# --- Inbox page ----------------------------------------------------------------------------


@pytest.fixture
def inbox(staff, grid_worker) -> dict[str, Notification]:
    notify(
        [
            Message(recipient_id=staff.pk, kind="k", dedupe_key="a", title="Staff message one"),
            Message(recipient_id=staff.pk, kind="k", dedupe_key="b", title="Staff message two", url="/accounts/"),
            Message(recipient_id=grid_worker.pk, kind="k", dedupe_key="a", title="Grid worker's own message"),
        ]
    )
    return {f"{n.recipient.username}:{n.dedupe_key}": n for n in Notification.objects.select_related("recipient")}


@pytest.mark.django_db
def test_inbox_lists_only_the_viewers_notifications(staff, inbox):
    page = english(staff).get(reverse("notification_list")).content.decode()
    assert "Staff message one" in page
    assert "Staff message two" in page
    assert "Grid worker&#x27;s own message" not in page
    assert "Grid worker's own message" not in page


@pytest.mark.django_db
def test_header_shows_the_unread_count(staff, inbox):
    client = english(staff)
    page = client.get(reverse("home")).content.decode()
    assert '<span class="badge" data-testid="unread-count">2</span>' in page


@pytest.mark.django_db
def test_mark_one_as_read(staff, inbox):
    client = english(staff)
    target = inbox["staff1:a"]
    response = client.post(reverse("notification_read", args=[target.pk]))
    assert response.status_code == 302
    assert response.url == reverse("notification_list")
    target.refresh_from_db()
    assert target.read_at is not None
    assert Notification.objects.get(pk=inbox["staff1:b"].pk).read_at is None
    page = client.get(reverse("notification_list")).content.decode()
    assert '<span class="badge" data-testid="unread-count">1</span>' in page


@pytest.mark.django_db
def test_opening_a_notification_marks_it_read_and_follows_its_link(staff, inbox):
    target = inbox["staff1:b"]
    response = english(staff).post(reverse("notification_read", args=[target.pk]), {"follow": "1"})
    assert response.status_code == 302
    assert response.url == "/accounts/"
    target.refresh_from_db()
    assert target.read_at is not None


@pytest.mark.django_db
def test_mark_all_as_read(staff, grid_worker, inbox):
    client = english(staff)
    response = client.post(reverse("notification_read_all"))
    assert response.status_code == 302
    assert Notification.objects.filter(recipient=staff, read_at__isnull=True).count() == 0
    # Another person's messages are untouched.
    assert Notification.objects.filter(recipient=grid_worker, read_at__isnull=True).count() == 1
    page = client.get(reverse("notification_list")).content.decode()
    assert 'data-testid="unread-count"' not in page
    assert "All messages are marked as read." in page


@pytest.mark.django_db
def test_marking_read_needs_post(staff, inbox):
    client = english(staff)
    assert client.get(reverse("notification_read", args=[inbox["staff1:a"].pk])).status_code == 405
    assert client.get(reverse("notification_read_all")).status_code == 405
    assert Notification.objects.filter(recipient=staff, read_at__isnull=False).count() == 0


@pytest.mark.django_db
def test_another_persons_notification_is_not_found(staff, inbox):
    theirs = inbox["grid1:a"]
    response = english(staff).post(reverse("notification_read", args=[theirs.pk]))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.django_db
@pytest.mark.parametrize("count", [5, 50])
def test_inbox_query_count_does_not_grow_with_the_notifications(staff, grid_worker, count, django_assert_num_queries):
    notify(
        [
            Message(recipient_id=staff.pk, kind="k", dedupe_key=f"n{index}", title=f"Message {index}")
            for index in range(count)
        ]
        + [Message(recipient_id=grid_worker.pk, kind="k", dedupe_key="other", title="Not staff's")]
    )
    client = english(staff)
    # 1. the session
    # 2. the user
    # 3. the paginator's count of the viewer's notifications
    # 4. the unread count (header badge and "Mark all as read", counted once)
    # 5. the page of notifications
    with django_assert_num_queries(5):
        response = client.get(reverse("notification_list"))
    assert response.status_code == 200
    assert response.content.decode().count('class="card notification unread"') == min(count, 30)
