"""The API's rate limits, which fail open: when the cache that counts the requests (Redis in
production) cannot be reached, requests are let through and a warning is logged, instead of
every API request failing. After a failure the cache is not asked again for
CACHE_RETRY_SECONDS, so an outage costs one short timeout per process and interval, not one
per request."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from rest_framework import throttling
from rest_framework.request import Request

logger = logging.getLogger(__name__)

CACHE_RETRY_SECONDS = 30.0

try:
    from redis.exceptions import RedisError

    CACHE_ERRORS: tuple[type[Exception], ...] = (RedisError, OSError)
except ImportError:  # pragma: no cover - redis is in requirements.txt
    CACHE_ERRORS = (OSError,)


class _CacheOutage:
    """Until when this process leaves the throttle cache alone after it failed."""

    def __init__(self) -> None:
        self._until = 0.0
        self._lock = threading.Lock()

    def active(self) -> bool:
        return time.monotonic() < self._until

    def begin(self, error: Exception) -> None:
        with self._lock:
            if self.active():
                return
            self._until = time.monotonic() + CACHE_RETRY_SECONDS
        logger.warning(
            "The throttle cache is unreachable (%s: %s); API requests go unthrottled for %d s.",
            type(error).__name__,
            error,
            CACHE_RETRY_SECONDS,
        )

    def end(self) -> None:
        self._until = 0.0


cache_outage = _CacheOutage()


class FailOpenThrottleMixin:
    """A DRF throttle that lets the request through when its cache cannot be reached."""

    def allow_request(self, request: Request, view: Any) -> bool:
        if cache_outage.active():
            return True
        try:
            return super().allow_request(request, view)  # type: ignore[misc]
        except CACHE_ERRORS as error:
            cache_outage.begin(error)
            return True


class AnonRateThrottle(FailOpenThrottleMixin, throttling.AnonRateThrottle):
    """DRF's limit for anonymous callers (rate `anon`), failing open."""


class UserRateThrottle(FailOpenThrottleMixin, throttling.UserRateThrottle):
    """DRF's limit per user (rate `user`), failing open."""
