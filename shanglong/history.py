"""Who made a change, in the change history of registries (django-simple-history)."""

from __future__ import annotations

from django.db import models

from shanglong.models import User


def set_history_author(record: models.Model, user: User | None) -> None:
    """Make `user` the author of the history row that the next save of `record` writes.

    django-simple-history reads the author from this attribute when there is no request to take
    it from (its documented way for actions, tasks and imports); the type stubs cannot know it.
    """
    record._history_user = user  # type: ignore[attr-defined]
