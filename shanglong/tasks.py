"""The core's Celery tasks. Each is safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from shanglong import notifications
from shanglong.models import AccessLog, FormSubmission, Heartbeat


@shared_task
def deliver_notifications_task() -> int:
    return notifications.deliver_pending()


@shared_task
def purge_access_log_task() -> int:
    return AccessLog.objects.purge_expired()


@shared_task
def purge_form_tokens_task() -> int:
    """Forget the create forms' one-time tokens older than FORM_TOKEN_DAYS (one DELETE)."""
    return FormSubmission.objects.purge_expired()


@shared_task
def record_heartbeat_task(name: str = "beat") -> str:
    """Ticks once a minute from beat, so /healthz can say the scheduler is alive."""
    now = timezone.now()
    Heartbeat.objects.update_or_create(name=name, defaults={"at": now})
    return now.isoformat()
