from __future__ import annotations

import datetime
import hashlib
import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from shanglong.models import ApiToken
from tests.api.matrix import api_client, bearer_client
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def create_token(client: Client, **data) -> dict:
    response = client.post(reverse("api:apitoken-list"), {"name": "phone app", **data}, content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_logged_in_person_creates_a_token_and_sees_the_key_once(staff):
    client = api_client(staff)
    issued = create_token(client)
    prefix, secret = issued["key"].split(".")
    assert prefix == issued["prefix"]
    assert len(secret) >= 40
    token = ApiToken.objects.get(pk=issued["id"])
    assert token.user == staff
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    # The secret itself is stored nowhere.
    assert secret not in str(ApiToken.objects.filter(pk=token.pk).values().get())
    # Neither the list nor the detail shows the key again.
    assert "key" not in client.get(reverse("api:apitoken-detail", args=[token.pk])).json()
    assert secret not in client.get(reverse("api:apitoken-list")).content.decode()


def test_the_key_authenticates_api_calls_for_its_owner(grid_worker):
    key = create_token(api_client(grid_worker))["key"]
    response = bearer_client(key).get(reverse("api:me"))
    assert response.status_code == 200
    assert response.json()["username"] == "grid1"
    assert ApiToken.objects.get(user=grid_worker).last_used_at is not None


def test_a_token_lives_90_days_by_default_and_at_most_365(staff):
    client = api_client(staff)
    issued = create_token(client)
    token = ApiToken.objects.get(pk=issued["id"])
    assert token.expires_at - token.created_at == datetime.timedelta(days=90)
    year = ApiToken.objects.get(pk=create_token(client, days=365)["id"])
    assert year.expires_at - year.created_at == datetime.timedelta(days=365)
    for days in (0, 366, -5):
        response = client.post(
            reverse("api:apitoken-list"), {"name": "x", "days": days}, content_type="application/json"
        )
        assert response.status_code == 400
        assert "days" in response.json()
    assert ApiToken.objects.count() == 2


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        ("unknown", "Invalid API token."),
        ("wrong_secret", "Invalid API token."),
        ("expired", "This API token has expired."),
        ("revoked", "This API token has been revoked."),
        ("disabled_user", "The account of this API token is disabled."),
        ("no_dot", "Invalid API token: expected <prefix>.<secret>."),
    ],
)
def test_refused_tokens_are_401_with_a_clear_message(staff, spoil, message):
    token, key = ApiToken.objects.issue(user=staff, name="app")
    if spoil == "unknown":
        key = "000000000000." + key.split(".")[1]
    elif spoil == "wrong_secret":
        key = key[:-2] + ("AA" if not key.endswith("AA") else "BB")
    elif spoil == "expired":
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    elif spoil == "revoked":
        token.revoke()
    elif spoil == "disabled_user":
        staff.is_active = False
        staff.save()
    elif spoil == "no_dot":
        key = key.replace(".", "")
    response = bearer_client(key).get(reverse("api:me"))
    assert response.status_code == 401
    assert response.json() == {"detail": message}
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_malformed_authorization_header_is_401():
    response = Client(headers={"authorization": "Bearer two words", "accept-language": "en"}).get(reverse("api:me"))
    assert response.status_code == 401
    assert "Bearer <prefix>.<secret>" in response.json()["detail"]


def test_anonymous_calls_are_401_with_a_bearer_challenge():
    response = api_client(None).get(reverse("api:department-list"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_revoked_token_stops_working_at_once(staff):
    client = api_client(staff)
    issued = create_token(client)
    assert bearer_client(issued["key"]).get(reverse("api:me")).status_code == 200
    response = client.post(reverse("api:apitoken-revoke", args=[issued["id"]]))
    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None
    assert response.json()["is_active"] is False
    assert bearer_client(issued["key"]).get(reverse("api:me")).status_code == 401


def test_a_token_can_revoke_itself_but_cannot_create_tokens(staff):
    issued = create_token(api_client(staff))
    client = bearer_client(issued["key"])
    response = client.post(reverse("api:apitoken-list"), {"name": "more"}, content_type="application/json")
    assert response.status_code == 403
    assert ApiToken.objects.count() == 1
    assert client.post(reverse("api:apitoken-revoke", args=[issued["id"]])).status_code == 200


def test_token_calls_need_no_csrf_token_but_session_writes_do(staff, grid_worker):
    _, key = ApiToken.objects.issue(user=grid_worker, name="app")
    bearer = Client(enforce_csrf_checks=True, headers={"authorization": f"Bearer {key}"})
    assert bearer.post(reverse("api:notification-read-all")).status_code == 200
    session = Client(enforce_csrf_checks=True, headers={"accept-language": "en"})
    session.force_login(staff)
    response = session.post(reverse("api:apitoken-list"), {"name": "x"}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_token_creation_is_throttled_per_person(staff, other_staff):
    client = api_client(staff)
    for _ in range(10):
        create_token(client)
    response = client.post(reverse("api:apitoken-list"), {"name": "eleventh"}, content_type="application/json")
    assert response.status_code == 429
    # Listing is not limited by the creation scope, and another person is not affected.
    assert client.get(reverse("api:apitoken-list")).status_code == 200
    create_token(api_client(other_staff))


def test_last_use_is_recorded_at_most_every_five_minutes(staff):
    token, key = ApiToken.objects.issue(user=staff, name="app")
    earlier = timezone.now() - datetime.timedelta(minutes=2)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=earlier)
    bearer_client(key).get(reverse("api:me"))
    token.refresh_from_db()
    assert token.last_used_at == earlier
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=earlier - datetime.timedelta(minutes=4))
    bearer_client(key).get(reverse("api:me"))
    token.refresh_from_db()
    assert token.last_used_at > earlier


def test_create_api_token_command_prints_a_working_key(staff):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", "staff1", "--days", "7", "--name", "sync script", stdout=out, stderr=err)
    key = out.getvalue().strip()
    token = ApiToken.objects.get(user=staff)
    assert token.name == "sync script"
    assert token.expires_at - token.created_at == datetime.timedelta(days=7)
    assert key.startswith(token.prefix + ".")
    assert token.prefix in err.getvalue()
    assert bearer_client(key).get(reverse("api:me")).json()["username"] == "staff1"


def test_create_api_token_command_refuses_bad_input(staff):
    with pytest.raises(CommandError, match="no user"):
        call_command("create_api_token", "nobody", stdout=io.StringIO())
    with pytest.raises(CommandError, match="between 1 and 365"):
        call_command("create_api_token", "staff1", "--days", "400", stdout=io.StringIO())
    assert not ApiToken.objects.exists()


def test_the_admin_shows_tokens_and_revokes_them_but_never_adds(staff, community):
    root = make_user("root", "community_admin", community=community, is_superuser=True, is_staff=True)
    token, _ = ApiToken.objects.issue(user=staff, name="app")
    client = Client()
    client.force_login(root)
    changelist = reverse("admin:shanglong_apitoken_changelist")
    assert client.get(changelist).status_code == 200
    assert client.get(reverse("admin:shanglong_apitoken_add")).status_code == 403
    response = client.post(changelist, {"action": "revoke_tokens", "_selected_action": [token.pk]})
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
