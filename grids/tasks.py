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


@shared_task
def end_aftercare_periods_task(on: str | None = None) -> int:
    """帮教期满 each night: released prisoners whose five years of aftercare ended move to
    past aftercare, with their ledger lines (grids.actions.end_aftercare_periods). `on` is an
    ISO date, today by default; a rerun moves nothing twice."""
    from grids.actions import end_aftercare_periods

    day = datetime.date.fromisoformat(on) if on else None
    return end_aftercare_periods(on=day)
