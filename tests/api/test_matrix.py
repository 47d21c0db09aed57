"""The core's endpoints in the scoping matrix (see tests/api/matrix.py): every endpoint against
every person of the test cast and the anonymous visitor."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from shanglong.models import ApiToken, Community, Department, DepartmentLevel, Notification, Subdistrict
from tests.api import matrix
from tests.api.matrix import ANONYMOUS, USERS, Cast, EndpointCase, Rows, api_client, fresh_throttle_cache

# People who work in the first subdistrict (both communities are in it).
IN_SUBDISTRICT = (
    "staff",
    "other_staff",
    "community_admin",
    "grid_worker",
    "other_grid_worker",
    "department_user",
    "subdistrict_user",
)
IN_COMMUNITY = ("staff", "community_admin", "grid_worker", "other_grid_worker", "department_user")


def subdistrict_rows(cast: Cast) -> Rows:
    return {
        "sd": cast.subdistrict,
        "other_sd": cast.other_subdistrict,
        "third_sd": Subdistrict.objects.create(name="胜园街道", district="东营区", code="t-shengyuan"),
    }


def community_rows(cast: Cast) -> Rows:
    return {
        "a": cast.community,
        "b": cast.other_community,
        "c": Community.objects.create(subdistrict=cast.other_subdistrict, name="黄河社区", code="t-huanghe-c"),
    }


def department_rows(cast: Cast) -> Rows:
    third = Community.objects.create(subdistrict=cast.other_subdistrict, name="黄河社区", code="t-huanghe-c")
    return {
        "sd_dept": cast.department,
        "a_dept": Department.objects.create(
            name="社区卫生服务站", level=DepartmentLevel.COMMUNITY, community=cast.community, phone="13800001111"
        ),
        "b_dept": Department.objects.create(
            name="社区卫生服务站", level=DepartmentLevel.COMMUNITY, community=cast.other_community
        ),
        "district_dept": Department.objects.create(name="区人社局", level=DepartmentLevel.DISTRICT),
        "other_sd_dept": Department.objects.create(
            name="派出所", level=DepartmentLevel.SUBDISTRICT, subdistrict=cast.other_subdistrict
        ),
        "c_dept": Department.objects.create(name="调解室", level=DepartmentLevel.COMMUNITY, community=third),
    }


def department_payload(cast: Cast, rows: Rows, user_name: str) -> dict:
    return {
        "name": f"新部门 {user_name}",
        "level": DepartmentLevel.COMMUNITY,
        "community": cast.users[user_name].community_id,
        "contact": "王老师",
        "phone": "13912345678",
    }


def department_foreign_payloads(cast: Cast, rows: Rows, user_name: str) -> list[dict]:
    own = cast.users[user_name].community_id
    other = cast.other_community if own == cast.community.pk else cast.community
    return [
        # Another community of the same subdistrict.
        {"level": DepartmentLevel.COMMUNITY, "community": other.pk},
        # A community of another subdistrict.
        {"level": DepartmentLevel.COMMUNITY, "community": rows["c_dept"].community_id},
        # Another subdistrict.
        {"level": DepartmentLevel.SUBDISTRICT, "subdistrict": cast.other_subdistrict.pk},
    ]


def notification_rows(cast: Cast) -> Rows:
    return {
        f"{name}_note": Notification.objects.create(
            recipient=cast.users[name], kind="test", dedupe_key=f"matrix:{name}", title=f"For {name}"
        )
        for name in ("staff", "other_staff", "grid_worker", "merchant_user", "subdistrict_user", "outsider")
    }


def token_rows(cast: Cast) -> Rows:
    return {
        f"{name}_token": ApiToken.objects.issue(user=cast.users[name], name=f"{name}'s app", days=30)[0]
        for name in ("staff", "other_staff", "merchant_user", "volunteer_user", "outsider")
    }


CASES = [
    EndpointCase(
        id="subdistricts",
        route="api:subdistrict",
        build_rows=subdistrict_rows,
        visible={**{name: {"sd"} for name in IN_SUBDISTRICT}, "outsider": {"other_sd"}},
    ),
    EndpointCase(
        id="communities",
        route="api:community",
        build_rows=community_rows,
        visible={**{name: {"a"} for name in IN_COMMUNITY}, "other_staff": {"b"}, "subdistrict_user": {"a", "b"}},
    ),
    EndpointCase(
        id="departments",
        route="api:department",
        build_rows=department_rows,
        visible={
            **{name: {"sd_dept", "a_dept", "b_dept", "district_dept"} for name in IN_SUBDISTRICT},
            "outsider": {"district_dept", "other_sd_dept", "c_dept"},
        },
        writers={"staff", "other_staff", "community_admin"},
        create_payload=department_payload,
        foreign_payloads=department_foreign_payloads,
        writable={"staff": {"a_dept"}, "community_admin": {"a_dept"}, "other_staff": {"b_dept"}},
        update_payload=lambda cast, rows, user_name: {"contact": f"changed by {user_name}"},
    ),
    EndpointCase(
        id="notifications",
        route="api:notification",
        build_rows=notification_rows,
        visible={
            name: {f"{name}_note"}
            for name in ("staff", "other_staff", "grid_worker", "merchant_user", "subdistrict_user", "outsider")
        },
    ),
    EndpointCase(
        id="tokens",
        route="api:apitoken",
        build_rows=token_rows,
        visible={
            name: {f"{name}_token"} for name in ("staff", "other_staff", "merchant_user", "volunteer_user", "outsider")
        },
        writers=set(matrix.CAST),
        create_payload=lambda cast, rows, user_name: {"name": f"{user_name}'s phone", "days": 30},
    ),
]

test_list_shows_exactly_the_visible_rows = matrix.list_test(CASES)
test_detail_outside_scope_is_404 = matrix.detail_test(CASES)
test_create_is_for_writers_only = matrix.create_test(CASES)
test_foreign_keys_outside_scope_are_400 = matrix.foreign_key_test(CASES)
test_update_is_for_writers_of_their_rows = matrix.update_test(CASES)


# --- The endpoints outside the table ------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("user_name", USERS)
def test_me_is_the_caller(user_name, request):
    cast = matrix.build_cast(request)
    with fresh_throttle_cache():
        response = api_client(cast.user(user_name)).get(reverse("api:me"))
    if user_name == ANONYMOUS:
        assert response.status_code == 401
        return
    person = cast.users[user_name]
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == person.pk
    assert body["username"] == person.username
    assert body["role"] == person.role
    assert (body["community"] or {}).get("id") == person.community_id
    assert (body["subdistrict"] or {}).get("id") == person.subdistrict_id
    assert (body["department"] or {}).get("id") == person.department_id


@pytest.mark.django_db
@pytest.mark.parametrize("user_name", USERS)
def test_marking_anothers_notification_read_is_404(user_name, request):
    cast = matrix.build_cast(request)
    rows = notification_rows(cast)
    with fresh_throttle_cache():
        client = api_client(cast.user(user_name))
        for label, note in rows.items():
            response = client.post(reverse("api:notification-read", args=[note.pk]))
            if user_name == ANONYMOUS:
                assert response.status_code == 401
            elif label == f"{user_name}_note":
                assert response.status_code == 200
                assert response.json()["read_at"] is not None
            else:
                assert response.status_code == 404
        response = client.post(reverse("api:notification-read-all"))
    own = {f"{user_name}_note"}
    for label, note in rows.items():
        note.refresh_from_db()
        assert (note.read_at is not None) == (label in own), label
    if user_name != ANONYMOUS:
        assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("user_name", USERS)
def test_revoking_anothers_token_is_404(user_name, request):
    cast = matrix.build_cast(request)
    rows = token_rows(cast)
    with fresh_throttle_cache():
        client = api_client(cast.user(user_name))
        for label, token in rows.items():
            response = client.post(reverse("api:apitoken-revoke", args=[token.pk]))
            own = label == f"{user_name}_token"
            expected = 401 if user_name == ANONYMOUS else 200 if own else 404
            assert response.status_code == expected, label
            token.refresh_from_db()
            assert (token.revoked_at is not None) == (own and user_name != ANONYMOUS)


@pytest.mark.django_db
def test_filter_choices_are_bounded_by_scope(request):
    """Filtering by a community outside one's scope is refused like pointing at it."""
    cast = matrix.build_cast(request)
    rows = department_rows(cast)
    with fresh_throttle_cache():
        client = api_client(cast.users["staff"])
        own = client.get(reverse("api:department-list"), {"community": cast.community.pk})
        assert own.status_code == 200
        assert matrix.listed_ids(own) == [rows["a_dept"].pk]
        other = client.get(reverse("api:department-list"), {"community": cast.other_community.pk})
        assert other.status_code == 400
        assert "community" in other.json()
        # Subdistrict staff choose among the subdistrict's communities.
        street = api_client(cast.users["subdistrict_user"])
        response = street.get(reverse("api:department-list"), {"community": cast.other_community.pk})
        assert matrix.listed_ids(response) == [rows["b_dept"].pk]


@pytest.mark.django_db
def test_department_written_outside_ones_community_is_rolled_back(request):
    """Staff may keep their own community's departments, not the subdistrict's directory."""
    cast = matrix.build_cast(request)
    with fresh_throttle_cache():
        client = api_client(cast.users["staff"])
        response = client.post(
            reverse("api:department-list"),
            {"name": "综治中心", "level": DepartmentLevel.SUBDISTRICT, "subdistrict": cast.subdistrict.pk},
            content_type="application/json",
        )
    assert response.status_code == 400
    assert "outside your scope" in str(response.json())
    assert not Department.objects.filter(name="综治中心").exists()


@pytest.mark.django_db
def test_department_phone_is_written_in_full_and_shown_masked(request):
    cast = matrix.build_cast(request)
    with fresh_throttle_cache():
        client = api_client(cast.users["staff"])
        response = client.post(
            reverse("api:department-list"),
            department_payload(cast, {}, "staff"),
            content_type="application/json",
        )
        assert response.status_code == 201
        assert response.json()["phone"] == "139****5678"
        assert Department.objects.get(pk=response.json()["id"]).phone == "13912345678"
        listed = client.get(reverse("api:department-list")).json()["results"]
    assert "13912345678" not in str(listed)


@pytest.mark.django_db
def test_an_expired_token_is_not_listed_as_active(request):
    cast = matrix.build_cast(request)
    token, _ = ApiToken.objects.issue(user=cast.users["staff"], name="old", days=1)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    with fresh_throttle_cache():
        body = api_client(cast.users["staff"]).get(reverse("api:apitoken-list")).json()
    assert [(item["id"], item["is_active"]) for item in body["results"]] == [(token.pk, False)]
