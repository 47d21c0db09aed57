"""schemathesis over the served OpenAPI schema: every operation, called by a staff member with an
API token on the Shanglong demo data, answers only with statuses the schema documents, with
bodies that match the schema, and never with a server error (its not_a_server_error,
status_code_conformance and response_schema_conformance checks).

Every operation of the schema is tested; nothing is filtered out. Phases: examples, coverage
(valid boundary values) and fuzzing (valid and invalid data), at most MAX_EXAMPLES generated
cases per operation in fuzzing; then every list and the records of its first page are read, so
the answers about real rows are checked too (generated ids are nearly always 404). The WSGI
application is called in-process, inside the test's transaction. The user throttle is lifted
for the run (429 is documented everywhere; hundreds of them would only hide the other answers),
and a token the run revokes (`POST /tokens/{id}/revoke/`) is replaced by a fresh one, so later
calls are still made as staff. The figures of the run are printed at its end.
"""

from __future__ import annotations

import collections
import io
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.throttling import SimpleRateThrottle
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from shanglong.models import ApiToken, User

MAX_EXAMPLES = 10
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]

# What the run did (run_figures prints it).
calls: collections.Counter[str] = collections.Counter()


@pytest.fixture(autouse=True)
def node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """schemathesis 4.32 names each operation's subtest through the test node's `_nodeid`,
    which pytest 9.2 no longer has."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


@pytest.fixture
def run_figures(capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    """Print what the run did: operations, generated cases by phase, answers by status."""
    calls.clear()
    started = time.monotonic()
    yield
    operations = sum(1 for name in calls if name.startswith("operation "))
    summary = ", ".join(
        f"{name}: {count}" for name, count in sorted(calls.items()) if not name.startswith("operation ")
    )
    seconds = time.monotonic() - started
    with capsys.disabled():
        print(f"\nschemathesis: {operations} operations, {calls['examples']} cases in {seconds:.0f}s; {summary}")


@pytest.fixture
def in_process_requests() -> Iterator[None]:
    """Django closes the database connection at the start and end of each WSGI request; inside
    the test's transaction it must stay open (Django's test client does the same)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def staff_key(db) -> Callable[[], str]:
    """The demo staff member's API key: a fresh one whenever the run revoked the last one."""
    call_command("seed_demo", stdout=io.StringIO())
    staff = User.objects.get(username="staff")
    current: dict[str, object] = {}

    def key() -> str:
        token = current.get("token")
        if token is None or ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).count() == 0:
            current["token"], current["key"] = ApiToken.objects.issue(user=staff, name="schemathesis")
        return str(current["key"])

    return key


@pytest.fixture
def api_schema(staff_key, in_process_requests, run_figures, monkeypatch, media_root) -> schemathesis.BaseSchema:
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {**SimpleRateThrottle.THROTTLE_RATES, "user": None})
    config = schemathesis.Config.from_dict(
        {
            "generation": {"mode": "all", "max-examples": MAX_EXAMPLES},
            "phases": {
                "examples": {"enabled": True},
                # Boundary values of valid input; its negative cases (thousands, nearly all
                # 400 and 404) and its probes of undeclared methods would take most of the run.
                "coverage": {"enabled": True, "generation": {"mode": "positive"}, "unexpected-methods": []},
                "fuzzing": {"enabled": True},
            },
            "checks": {"enabled": False, **{check.__name__: {"enabled": True} for check in CHECKS}},
        }
    )
    return schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json",
        get_wsgi_application(),
        config=config,
        headers={"Authorization": f"Bearer {staff_key()}", "Accept-Language": "en"},
    )


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_the_schema(case, staff_key):
    response = case.call_and_validate(
        headers={"Authorization": f"Bearer {staff_key()}", "Accept-Language": "en"},
        checks=CHECKS,
    )
    meta = case._meta
    calls["examples"] += 1
    calls[f"operation {case.operation.label}"] += 1
    calls[f"phase {meta.phase.name.value if meta else '?'}"] += 1
    calls[f"status {response.status_code}"] += 1


def test_every_list_and_row_of_the_demo_matches_the_schema(api_schema, staff_key):
    """The generated cases above mostly name rows that do not exist (404); here every list is
    read (once per value of each of its enumerated query parameters) and so is every record of
    the first page of each list, and each answer is checked against the schema."""
    headers = {"Authorization": f"Bearer {staff_key()}", "Accept-Language": "en"}
    paths = api_schema.raw_schema["paths"]
    failures: list[str] = []
    reads = 0

    def read(path: str, **kwargs: Any) -> Any:
        nonlocal reads
        reads += 1
        calls["examples"] += 1
        calls[f"operation GET {path}"] += 1
        calls["phase rows of the demo"] += 1
        try:
            response = api_schema[path]["GET"].Case(**kwargs).call_and_validate(headers=headers, checks=CHECKS)
        except FailureGroup as error:
            failures.append(f"GET {path} {kwargs}: {error}")
            return None
        calls[f"status {response.status_code}"] += 1
        return response

    for path, operations in paths.items():
        if "get" not in operations or "{" in path:
            continue
        queries: list[dict[str, Any]] = [{}]
        for parameter in operations["get"].get("parameters", ()):
            values = parameter.get("schema", {}).get("enum") or ()
            queries += [{parameter["name"]: value} for value in values if parameter["in"] == "query"]
        rows: list[Any] = []
        for query in queries:
            response = read(path, query=query)
            if response is not None and response.status_code == 200:
                body = response.json()
                rows += body.get("results", []) if isinstance(body, dict) else body
        ids = sorted({row["id"] for row in rows if isinstance(row, dict) and "id" in row})[:10]
        for detail in (candidate for candidate in paths if candidate.startswith(f"{path}{{id}}/")):
            if "get" in paths[detail]:
                for pk in ids:
                    read(detail, path_parameters={"id": pk})
    assert reads > 100
    assert failures == [], "\n\n".join(failures)
