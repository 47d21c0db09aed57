"""The Celery application, as in Celery's "First steps with Django" recipe.

The schedule (beat) lives in settings.CELERY_BEAT_SCHEDULE, in code.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shanglong.settings")

# Every task is a PortalTask: queued after commit, never failing the write (shanglong.queueing).
app = Celery("shanglong", task_cls="shanglong.queueing:PortalTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
