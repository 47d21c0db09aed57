"""Every list endpoint answers in the same number of queries for 5 rows as for 50."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.urls import reverse

from shanglong.models import ApiToken, Community, Department, DepartmentLevel, Notification, Subdistrict, User
from tests.api.matrix import api_client, bearer_client, listed_ids
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

# A session-authenticated list: 1 the session, 2 the user, 3 the page's COUNT, 4 the page's rows.
SESSION_LIST_QUERIES = 4


def make_subdistricts(n: int, viewer: User) -> None:
    Subdistrict.objects.bulk_create(
        Subdistrict(name=f"街道{i}", district="东营区", code=f"q-{i}") for i in range(n - 1)
    )  # and the viewer's own subdistrict


def make_communities(n: int, viewer: User) -> None:
    Community.objects.bulk_create(
        Community(subdistrict_id=viewer.subdistrict_id, name=f"社区{i}", code=f"q-{i}") for i in range(n)
    )


def make_departments(n: int, viewer: User) -> None:
    Department.objects.bulk_create(
        Department(
            name=f"部门{i}", level=DepartmentLevel.COMMUNITY, community_id=viewer.community_id, phone="13800001111"
        )
        for i in range(n)
    )


def make_notifications(n: int, viewer: User) -> None:
    Notification.objects.bulk_create(
        Notification(recipient=viewer, kind="test", dedupe_key=f"q:{i}", title=f"消息{i}") for i in range(n)
    )


def make_tokens(n: int, viewer: User) -> None:
    for i in range(n):
        ApiToken.objects.issue(user=viewer, name=f"app {i}")


@pytest.fixture
def superuser(subdistrict) -> User:
    return make_user("root", "subdistrict_staff", subdistrict=subdistrict, is_superuser=True)


LISTS: list[tuple[str, str, Callable[[int, User], None]]] = [
    ("api:subdistrict-list", "superuser", make_subdistricts),
    ("api:community-list", "subdistrict_user", make_communities),
    ("api:department-list", "staff", make_departments),
    ("api:notification-list", "staff", make_notifications),
    ("api:apitoken-list", "staff", make_tokens),
]


@pytest.mark.parametrize("rows", [5, 50])
@pytest.mark.parametrize(("url_name", "viewer_name", "make_rows"), LISTS, ids=[name for name, _, _ in LISTS])
def test_list_endpoint_query_count_does_not_grow_with_rows(
    url_name, viewer_name, make_rows, rows, request, django_assert_num_queries
):
    viewer = request.getfixturevalue(viewer_name)
    make_rows(rows, viewer)
    client = api_client(viewer)
    # 1 session, 2 user, 3 COUNT for the paginator, 4 the rows of the page.
    with django_assert_num_queries(SESSION_LIST_QUERIES):
        response = client.get(reverse(url_name))
    assert response.status_code == 200
    assert len(listed_ids(response)) == rows


@pytest.mark.parametrize("rows", [5, 50])
def test_filtered_list_query_count(rows, staff, django_assert_num_queries):
    make_departments(rows, staff)
    client = api_client(staff)
    # 1 session, 2 user, 3 the community filter's choice (visible_to), 4 COUNT, 5 rows.
    with django_assert_num_queries(5):
        response = client.get(reverse("api:department-list"), {"community": staff.community_id})
    assert len(listed_ids(response)) == rows


@pytest.mark.parametrize("rows", [5, 50])
def test_token_authenticated_list_query_count(rows, grid_worker, django_assert_num_queries):
    make_notifications(rows, grid_worker)
    _, key = ApiToken.objects.issue(user=grid_worker, name="app")
    client = bearer_client(key)
    # 1 the token with its user, 2 last_used_at (at most every five minutes), 3 COUNT, 4 rows.
    with django_assert_num_queries(4):
        response = client.get(reverse("api:notification-list"))
    assert len(listed_ids(response)) == rows
    # 1 the token with its user, 2 COUNT, 3 rows: last use was just written.
    with django_assert_num_queries(3):
        client.get(reverse("api:notification-list"))


def test_me_query_count(department_user, django_assert_num_queries):
    client = api_client(department_user)
    # 1 session, 2 user, 3 the caller with community, subdistrict and department.
    with django_assert_num_queries(3):
        response = client.get(reverse("api:me"))
    assert response.json()["department"]["name"] == "司法所"
