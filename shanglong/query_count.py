"""`X-Query-Count`: how many SQL queries a request ran, for bench/page_cost.py.

Installed first in MIDDLEWARE only when SHANGLONG_QUERY_COUNT_HEADER=1 (shanglong.settings), so
it counts what the session, the user, every other middleware and the view ask, on the served
process itself (PostgreSQL, DEBUG off), which a test client's count in another process would not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connections
from django.http import HttpRequest, HttpResponseBase

HEADER = "X-Query-Count"


class QueryCountMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        count = 0

        def counted(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with connections["default"].execute_wrapper(counted):
            response = self.get_response(request)
        response[HEADER] = str(count)
        return response
