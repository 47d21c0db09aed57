"""On PostgreSQL a connection prepares the queries it repeats, so PostgreSQL plans the portal's
long scoped queries once per connection instead of on every request (bench/README.md, "Page cost")."""

from __future__ import annotations

import pytest
from django.db import connection

from shanglong.apps import PREPARED_STATEMENTS_PER_CONNECTION
from shanglong.models import Notification
from tests.conftest import require_service

pytestmark = pytest.mark.django_db


def _prepared_statements_like(pattern: str) -> list[tuple[int, int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s", [pattern]
        )
        return cursor.fetchall()


def test_a_query_run_again_on_a_connection_is_prepared_and_planned_once(staff, grid_worker):
    if connection.vendor != "postgresql":
        require_service("PostgreSQL", "DATABASE_URL is not a PostgreSQL database")
    for person in [staff, grid_worker] * 5:  # the same SQL, other parameters
        Notification.objects.visible_to(person).unread().count()

    rows = _prepared_statements_like('%COUNT(*)%"shanglong_notification"%')
    assert len(rows) == 1
    generic_plans, custom_plans = rows[0]
    assert generic_plans + custom_plans >= 8  # prepared after its second run
    assert connection.connection.prepared_max == PREPARED_STATEMENTS_PER_CONNECTION
