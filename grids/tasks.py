"""The grids app's Celery tasks. Each is a set-based sweep, safe to run twice (or twice at once)."""

from __future__ import annotations

import datetime

from celery import shared_task


@shared_task
def send_visit_reminders_task(on: str | None = None) -> int:
    """The morning visit reminders (beat runs it each morning; see CELERY_BEAT_SCHEDULE).

    `on` is an ISO date (YYYY-MM-DD) to send a given day's reminders again, today by default.
    The rows are read afresh; the dedupe key (kind and date per recipient) makes a rerun or a
    concurrent run insert nothing twice."""
    from grids.actions import send_visit_reminders

    day = datetime.date.fromisoformat(on) if on else None
    return send_visit_reminders(on=day)
