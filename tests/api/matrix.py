"""A table-driven scoping matrix for API endpoints: every endpoint against every member of the
test cast (tests/conftest.py) and the anonymous visitor.

An app adds its endpoints by describing them in `EndpointCase` entries and binding the test
builders in its own test module:

    from tests.api import matrix

    CASES = [matrix.EndpointCase(id="grids", route="api:grid", build_rows=..., visible={...}), ...]

    test_list_shows_exactly_the_visible_rows = matrix.list_test(CASES)
    test_detail_outside_scope_is_404 = matrix.detail_test(CASES)
    test_create_is_for_writers_only = matrix.create_test(CASES)
    test_foreign_keys_outside_scope_are_400 = matrix.foreign_key_test(CASES)
    test_update_is_for_writers_of_their_rows = matrix.update_test(CASES)

A case names its rows with labels (`build_rows` returns {label: row}) and says which labels each
person sees, which people may create, and which labels each writer may update. Every row the
endpoint could list must be labelled: the list test compares the exact set of ids.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.db import models
from django.test import Client
from django.urls import reverse
from rest_framework.throttling import SimpleRateThrottle

from shanglong.models import Community, Department, Subdistrict, User

ANONYMOUS = "anonymous"

# The test cast, by fixture name, and the anonymous visitor.
CAST = (
    "staff",
    "other_staff",
    "community_admin",
    "grid_worker",
    "other_grid_worker",
    "merchant_user",
    "volunteer_user",
    "department_user",
    "subdistrict_user",
    "outsider",
)
USERS = (*CAST, ANONYMOUS)


@dataclass
class Cast:
    """The people and places of tests/conftest.py: two communities (community, other_community)
    in one subdistrict, another subdistrict, and the subdistrict's department."""

    users: dict[str, User]
    subdistrict: Subdistrict
    other_subdistrict: Subdistrict
    community: Community
    other_community: Community
    department: Department

    def user(self, name: str) -> User | None:
        return None if name == ANONYMOUS else self.users[name]


def build_cast(request: pytest.FixtureRequest) -> Cast:
    return Cast(
        users={name: request.getfixturevalue(name) for name in CAST},
        subdistrict=request.getfixturevalue("subdistrict"),
        other_subdistrict=request.getfixturevalue("other_subdistrict"),
        community=request.getfixturevalue("community"),
        other_community=request.getfixturevalue("other_community"),
        department=request.getfixturevalue("department"),
    )


Rows = dict[str, models.Model]
PayloadBuilder = Callable[[Cast, Rows, str], dict[str, Any]]


@dataclass(frozen=True)
class EndpointCase:
    """One endpoint in the matrix.

    id: the test id. route: the router's name without the suffix ("api:department" for
    "api:department-list" / "api:department-detail"). build_rows(cast) -> {label: row}.
    visible: person -> labels they see (people left out see nothing). writers: people whose
    POST of create_payload(cast, rows, person) gives 201. foreign_payloads(cast, rows, person):
    payloads for a writer that point outside their scope (each must be 400). writable: writer ->
    labels they may PATCH with update_payload(cast, rows, person).
    """

    id: str
    route: str
    build_rows: Callable[[Cast], Rows]
    visible: Mapping[str, Collection[str]]
    writers: Collection[str] = ()
    create_payload: PayloadBuilder | None = None
    foreign_payloads: Callable[[Cast, Rows, str], list[dict[str, Any]]] | None = None
    writable: Mapping[str, Collection[str]] = field(default_factory=dict)
    update_payload: PayloadBuilder | None = None

    def list_url(self) -> str:
        return reverse(f"{self.route}-list")

    def detail_url(self, pk: Any) -> str:
        return reverse(f"{self.route}-detail", args=[pk])

    def visible_labels(self, user_name: str) -> set[str]:
        return set(self.visible.get(user_name, ()))


def api_client(user: User | None) -> Client:
    """A test client logged in as the person (or anonymous), answering in English."""
    client = Client(headers={"accept-language": "en"})
    if user is not None:
        client.force_login(user)
    return client


def bearer_client(key: str) -> Client:
    """A client that authenticates with an API token only (no session)."""
    return Client(headers={"accept-language": "en", "authorization": f"Bearer {key}"})


@contextlib.contextmanager
def fresh_throttle_cache() -> Iterator[None]:
    """Throttle counters in a private cache for the duration: requests of earlier tests (or a
    shared Redis) never make a test's request a 429."""
    original = SimpleRateThrottle.cache
    SimpleRateThrottle.cache = LocMemCache(f"throttle-{uuid.uuid4()}", {})
    try:
        yield
    finally:
        SimpleRateThrottle.cache = original


def listed_ids(response: Any) -> list[Any]:
    body = response.json()
    results = body["results"] if isinstance(body, dict) and "results" in body else body
    return [item["id"] for item in results]


def _params(cases: list[EndpointCase], users: Callable[[EndpointCase], Collection[str]]) -> list[Any]:
    return [pytest.param(case, user, id=f"{case.id}-{user}") for case in cases for user in users(case)]


def _matrix_test(params: list[Any], body: Callable[[EndpointCase, str, Cast, Rows], None]) -> Callable[..., None]:
    @pytest.mark.django_db
    @pytest.mark.parametrize(("case", "user_name"), params)
    def test(case: EndpointCase, user_name: str, request: pytest.FixtureRequest) -> None:
        cast = build_cast(request)
        rows = case.build_rows(cast)
        with fresh_throttle_cache():
            body(case, user_name, cast, rows)

    return test


def _model(rows: Rows) -> type[models.Model]:
    return type(next(iter(rows.values())))


# --- The tests ----------------------------------------------------------------------------


def list_test(cases: list[EndpointCase]) -> Callable[..., None]:
    """The list shows exactly the rows the person may see; anonymous: 401."""

    def body(case: EndpointCase, user_name: str, cast: Cast, rows: Rows) -> None:
        response = api_client(cast.user(user_name)).get(case.list_url())
        if user_name == ANONYMOUS:
            assert response.status_code == 401, response.content
            return
        assert response.status_code == 200, response.content
        expected = {rows[label].pk for label in case.visible_labels(user_name)}
        ids = listed_ids(response)
        assert len(ids) == len(set(ids)), f"duplicates in {ids}"
        labels_by_pk = {row.pk: label for label, row in rows.items()}
        shown = {labels_by_pk.get(pk, f"unlabelled pk {pk}") for pk in ids}
        wanted = sorted(case.visible_labels(user_name))
        assert set(ids) == expected, f"{user_name} sees {sorted(shown)}, expected {wanted}"

    return _matrix_test(_params(cases, lambda case: USERS), body)


def detail_test(cases: list[EndpointCase]) -> Callable[..., None]:
    """Each row the person may see opens (200); every other row is 404; anonymous: 401."""

    def body(case: EndpointCase, user_name: str, cast: Cast, rows: Rows) -> None:
        client = api_client(cast.user(user_name))
        visible = case.visible_labels(user_name)
        for label, row in rows.items():
            response = client.get(case.detail_url(row.pk))
            expected = 401 if user_name == ANONYMOUS else 200 if label in visible else 404
            assert response.status_code == expected, f"{user_name} GET {label}: {response.status_code}"
            if expected == 200:
                assert response.json()["id"] == row.pk

    return _matrix_test(_params(cases, lambda case: USERS), body)


def create_test(cases: list[EndpointCase]) -> Callable[..., None]:
    """Writers create in their scope (201, and the new row is in their list); everyone else is
    refused (403, or 405 where the endpoint has no create) and nothing is written; anonymous: 401."""

    def body(case: EndpointCase, user_name: str, cast: Cast, rows: Rows) -> None:
        model = _model(rows)
        before = model._default_manager.count()
        writer = user_name in case.writers
        payload_for = user_name if writer else next(iter(sorted(case.writers)), "staff")
        payload = case.create_payload(cast, rows, payload_for) if case.create_payload else {"id": 1}
        client = api_client(cast.user(user_name))
        response = client.post(case.list_url(), payload, content_type="application/json")
        if user_name == ANONYMOUS:
            assert response.status_code == 401, response.content
        elif writer:
            assert response.status_code == 201, response.content
            created = response.json()["id"]
            assert created in listed_ids(client.get(case.list_url()))
            assert model._default_manager.count() == before + 1
            return
        elif case.create_payload is None:
            assert response.status_code in (403, 405), response.content
        else:
            assert response.status_code == 403, response.content
        assert model._default_manager.count() == before

    return _matrix_test(_params(cases, lambda case: USERS), body)


def foreign_key_test(cases: list[EndpointCase]) -> Callable[..., None]:
    """A writer pointing a new or updated row at something outside their scope gets 400 naming
    the field ("Invalid pk ... object does not exist"), and nothing is written."""

    def body(case: EndpointCase, user_name: str, cast: Cast, rows: Rows) -> None:
        assert case.foreign_payloads is not None
        model = _model(rows)
        client = api_client(cast.user(user_name))
        payloads = case.foreign_payloads(cast, rows, user_name)
        assert payloads, "a foreign-key case needs at least one payload"
        own_rows = sorted(case.writable.get(user_name, ()))
        for payload in payloads:
            before = model._default_manager.count()
            full = {**case.create_payload(cast, rows, user_name), **payload} if case.create_payload else payload
            response = client.post(case.list_url(), full, content_type="application/json")
            assert response.status_code == 400, f"POST {payload}: {response.status_code} {response.content!r}"
            assert _mentions_missing_object(response.json(), payload), response.json()
            assert model._default_manager.count() == before
            for label in own_rows:
                response = client.patch(case.detail_url(rows[label].pk), payload, content_type="application/json")
                assert response.status_code == 400, f"PATCH {label} {payload}: {response.status_code}"
                assert _mentions_missing_object(response.json(), payload), response.json()

    return _matrix_test(_params([c for c in cases if c.foreign_payloads], lambda case: sorted(case.writers)), body)


def _mentions_missing_object(errors: dict[str, Any], payload: dict[str, Any]) -> bool:
    return any(
        name in errors and any("does not exist" in str(message) for message in _flatten(errors[name]))
        for name in payload
    )


def _flatten(messages: Any) -> Iterator[Any]:
    if isinstance(messages, list | tuple):
        for message in messages:
            yield from _flatten(message)
    elif isinstance(messages, dict):
        for message in messages.values():
            yield from _flatten(message)
    else:
        yield messages


def update_test(cases: list[EndpointCase]) -> Callable[..., None]:
    """A writer updates the rows that are theirs (200); a row they see but may not change is
    403; a row outside their scope is 404. Non-writers: 403. Anonymous: 401. Refused updates
    change nothing."""

    def body(case: EndpointCase, user_name: str, cast: Cast, rows: Rows) -> None:
        assert case.update_payload is not None
        client = api_client(cast.user(user_name))
        visible = case.visible_labels(user_name)
        writable = set(case.writable.get(user_name, ()))
        payload = case.update_payload(cast, rows, user_name)
        for label, row in rows.items():
            before = _snapshot(row)
            response = client.patch(case.detail_url(row.pk), payload, content_type="application/json")
            if user_name == ANONYMOUS:
                expected = 401
            elif user_name not in case.writers:
                expected = 403
            elif label in writable:
                expected = 200
            elif label in visible:
                expected = 403
            else:
                expected = 404
            assert response.status_code == expected, f"{user_name} PATCH {label}: {response.status_code}"
            if expected != 200:
                assert _snapshot(row) == before, f"{user_name} changed {label} with a refused PATCH"

    return _matrix_test(_params([c for c in cases if c.update_payload], lambda case: USERS), body)


def _snapshot(row: models.Model) -> dict[str, Any]:
    fresh = type(row)._default_manager.filter(pk=row.pk).values().first()
    return fresh or {}
