"""Queueing Celery tasks from a write: the one place a task is sent to the workers after commit.

A write that committed is never reported as a failure because its task could not be queued
(the broker is down, or slow): `enqueue` logs the failure and returns False. So only work that
a periodic sweep of the beat schedule also does is queued this way (notifications: the
`deliver-notifications` sweep sends what is still pending a minute later); a task that must
run exactly once belongs in an outbox row written in the same transaction.

Every task of the portal is a `PortalTask` (the Celery app's task class), whose
`delay_on_commit` and `apply_async_on_commit` go through `enqueue`; call those, or
`enqueue_on_commit(task, ...)`, never `delay` from a request.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from celery import Task
from celery.contrib.django.task import DjangoTask
from django.db import transaction

logger = logging.getLogger(__name__)


def _send(task: Task, send: Callable[[], Any]) -> bool:
    try:
        send()
    except Exception as error:  # any broker or connection failure: the write stands
        logger.warning(
            "Could not queue %s (%s: %s); its periodic sweep will do the work.",
            task.name,
            type(error).__name__,
            error,
        )
        return False
    return True


def enqueue(task: Task, *args: Any, **kwargs: Any) -> bool:
    """Send the task to the workers now (`task.delay`); False, and a warning in the log, when
    the broker cannot take it. (Publishing retries once, quickly: CELERY_TASK_PUBLISH_RETRY_POLICY.)"""
    return _send(task, functools.partial(task.delay, *args, **kwargs))


def enqueue_on_commit(task: Task, *args: Any, **kwargs: Any) -> None:
    """Queue the task once the current transaction commits (at once outside one)."""
    transaction.on_commit(functools.partial(enqueue, task, *args, **kwargs))


class PortalTask(DjangoTask):
    """The portal's tasks: queued after commit through `enqueue`, so a broker outage never
    turns a committed write into an error."""

    def delay_on_commit(self, *args: Any, **kwargs: Any) -> None:
        enqueue_on_commit(self, *args, **kwargs)

    def apply_async_on_commit(
        self, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None, **options: Any
    ) -> None:
        send = functools.partial(self.apply_async, tuple(args or ()), kwargs, **options)
        transaction.on_commit(functools.partial(_send, self, send))
