"""Notifications: an in-app inbox plus delivery channels behind a small interface.

`notify()` inserts in bulk and ignores rows whose (recipient, dedupe key) already exists, so a
sweep that runs twice, or twice at once, tells nobody anything twice. Delivery through the
channels runs in a Celery task that claims each row with a guarded update.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from shanglong.models import Notification

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    """What to tell one person. The dedupe key names the occasion, for example
    ``visit-reminder:2026-11-27``: the same key is never delivered twice to the same person."""

    recipient_id: int
    kind: str
    dedupe_key: str
    title: str
    body: str = ""
    url: str = ""


def notify(messages: Iterable[Message]) -> None:
    """Put messages in the recipients' inboxes and have them delivered after commit."""
    rows = [
        Notification(
            recipient_id=message.recipient_id,
            kind=message.kind,
            dedupe_key=message.dedupe_key[:200],
            title=message.title[:200],
            body=message.body,
            url=message.url[:500],
        )
        for message in messages
    ]
    if not rows:
        return
    Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    from shanglong.tasks import deliver_notifications_task

    deliver_notifications_task.delay_on_commit()


class Channel:
    """A way to reach a person outside the portal. `send` returns a short report, or ""
    when the person cannot be reached this way."""

    name = "channel"

    def send(self, notification: Notification) -> str:
        raise NotImplementedError


class EmailChannel(Channel):
    name = "email"

    def send(self, notification: Notification) -> str:
        address = notification.recipient.email
        if not address:
            return ""
        send_mail(
            subject=notification.title,
            message=notification.body or notification.title,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[address],
        )
        return "email"


class LoggingSmsChannel(Channel):
    """SMS until a provider is configured: the message is written to the log, not sent."""

    name = "sms"

    def send(self, notification: Notification) -> str:
        from shanglong.masking import mask_phone

        mobile = notification.recipient.mobile
        if not mobile:
            return ""
        logger.info("sms (not sent: no provider configured) to %s: %s", mask_phone(mobile), notification.title)
        return "sms-logged"


def channels() -> list[Channel]:
    return [import_string(path)() for path in settings.NOTIFICATION_CHANNELS]


def deliver_pending(*, limit: int = 500) -> int:
    """Deliver undelivered notifications through every channel. Each row is claimed with a
    guarded update first, so two workers never deliver the same notification."""
    pending_ids = list(Notification.objects.undelivered().order_by("pk").values_list("pk", flat=True)[:limit])
    delivered = 0
    active_channels = channels()
    for pk in pending_ids:
        with transaction.atomic():
            claimed = Notification.objects.filter(pk=pk, delivered_at__isnull=True).update(delivered_at=timezone.now())
            if not claimed:
                continue
        notification = Notification.objects.select_related("recipient").get(pk=pk)
        reports = []
        for channel in active_channels:
            try:
                report = channel.send(notification)
            except Exception:  # a channel failing must not stop the others
                logger.exception("notification %s: channel %s failed", pk, channel.name)
                report = f"{channel.name}-failed"
            if report:
                reports.append(report)
        Notification.objects.filter(pk=pk).update(delivery_report=",".join(reports) or "inbox")
        delivered += 1
    return delivered
