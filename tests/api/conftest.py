from __future__ import annotations

import pytest

from tests.api.matrix import fresh_throttle_cache


@pytest.fixture(autouse=True)
def private_throttle_counters():
    """Throttle counters never carry over from other tests (or a shared Redis cache)."""
    with fresh_throttle_cache():
        yield
