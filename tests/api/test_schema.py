"""The OpenAPI schema (/api/schema/) and its Swagger UI (/api/docs/), served offline under the CSP."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import pytest
import yaml
from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import ConsoleMessage, Page, expect

from shanglong.models import ApiToken
from tests.api.matrix import api_client, bearer_client
from tests.conftest import PASSWORD, screenshot

CORE_PATHS = {
    "/api/v1/me/",
    "/api/v1/subdistricts/",
    "/api/v1/communities/",
    "/api/v1/departments/",
    "/api/v1/departments/{id}/",
    "/api/v1/notifications/",
    "/api/v1/notifications/{id}/read/",
    "/api/v1/notifications/read-all/",
    "/api/v1/tokens/",
    "/api/v1/tokens/{id}/revoke/",
}


def test_spectacular_validate_fail_on_warn_is_clean(tmp_path):
    """`manage.py spectacular --validate --fail-on-warn` exits 0 without a warning or error."""
    target = tmp_path / "schema.yaml"
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--lang", "en", "--file", target],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert not re.search(r"warning|error", result.stderr, re.IGNORECASE), result.stderr
    schema = yaml.safe_load(target.read_text())
    assert set(schema["paths"]) >= CORE_PATHS
    assert schema["components"]["securitySchemes"]["apiToken"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "<prefix>.<secret>",
        "description": "An API token from POST /api/v1/tokens/ or `manage.py create_api_token`.",
    }


@pytest.mark.django_db
def test_the_schema_is_for_people_who_are_logged_in_or_hold_a_token(staff):
    assert Client().get(reverse("api-schema")).status_code == 401
    response = api_client(staff).get(reverse("api-schema"), {"format": "json"})
    assert response.status_code == 200
    assert set(response.json()["paths"]) >= CORE_PATHS
    _, key = ApiToken.objects.issue(user=staff, name="codegen")
    assert bearer_client(key).get(reverse("api-schema")).status_code == 200


@pytest.mark.django_db
def test_anonymous_visitors_of_the_docs_go_to_the_login_page():
    response = Client().get(reverse("api-docs"))
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={reverse('api-docs')}"


@pytest.mark.django_db
def test_the_docs_page_has_no_inline_script_and_only_local_assets(staff):
    client = api_client(staff)
    response = client.get(reverse("api-docs"))
    assert response.status_code == 200
    html = response.content.decode()
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.DOTALL)
    assert len(scripts) == 3
    for attributes, body in scripts:
        assert 'src="/' in attributes  # served from here, nothing from a CDN
        assert body.strip() == ""  # no inline code
        assert f'nonce="{nonce}"' in attributes
    assert f'<style nonce="{nonce}">' in html
    assert "cdn" not in html.lower()
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    # The start script is a file of its own, pointing at the schema.
    script_url = re.search(r'<script src="([^"]*script=[^"]*)"', html).group(1).replace("&amp;", "&")
    script = client.get(script_url)
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
    assert reverse("api-schema") in script.content.decode()


def scroll_to(page: Page, locator: Any) -> None:
    """Scroll down Swagger UI's (possibly virtualized) list of operations until the element is
    rendered, then into view."""
    for _ in range(80):
        if locator.count():
            break
        page.mouse.wheel(0, 600)
        page.wait_for_timeout(50)
    locator.scroll_into_view_if_needed()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_swagger_ui_renders_the_operations_under_the_csp(live_server, desktop: Page, staff):
    messages: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        messages.append(f"{message.type}: {message.text}")

    desktop.on("console", keep)
    desktop.on("pageerror", lambda error: messages.append(f"pageerror: {error}"))
    external: list[str] = []
    desktop.on("request", lambda req: None if req.url.startswith(live_server.url) else external.append(req.url))

    desktop.goto(f"{live_server.url}/login/?next=/api/docs/")
    desktop.fill("#id_username", "staff1")
    desktop.fill("#id_password", PASSWORD)
    desktop.click("main form button[type=submit]")
    desktop.wait_for_url(f"{live_server.url}/api/docs/")

    operations = desktop.locator(".opblock")
    expect(operations.first).to_be_visible(timeout=15000)
    # From 150 tags and operations on, Swagger UI renders only about a screenful of them at a
    # time (a virtualized list): scroll to reach the others.
    assert operations.count() >= 10
    departments = desktop.locator(".opblock-summary-path", has_text="/api/v1/departments/").first
    scroll_to(desktop, departments)
    expect(departments).to_be_visible()

    # Try the caller's own record with the session the page runs in.
    me = desktop.locator("#operations-me-me_retrieve")
    scroll_to(desktop, me)
    me.locator(".opblock-summary").click()
    me.locator("button.try-out__btn").click()
    me.locator("button.execute").click()
    response = me.locator(".live-responses-table tbody .response-col_status").first
    expect(response).to_contain_text("200", timeout=10000)
    expect(me.locator(".live-responses-table")).to_contain_text('"username": "staff1"')
    screenshot(desktop, "api-docs-desktop")

    # A write from the page carries the CSRF token: create an API token, whose key shows once.
    create = desktop.locator("#operations-tokens-tokens_create")
    scroll_to(desktop, create)
    create.locator(".opblock-summary").click()
    create.locator("button.try-out__btn").click()
    create.locator("textarea.body-param__text").fill('{"name": "swagger", "days": 7}')
    create.locator("button.execute").click()
    expect(create.locator(".live-responses-table tbody .response-col_status").first).to_contain_text(
        "201", timeout=10000
    )
    expect(create.locator(".live-responses-table")).to_contain_text('"key": "')
    assert ApiToken.objects.get(user=staff).name == "swagger"

    violations = [message for message in messages if "Content Security Policy" in message]
    assert violations == [], violations
    assert [message for message in messages if message.startswith("pageerror")] == []
    assert external == []


@pytest.mark.django_db
def test_every_operation_documents_its_error_answers_with_the_one_error_schema(staff):
    """shanglong.openapi: 401 and 429 everywhere, 400 with a body or query parameters and on
    writes, 403 on writes, 404 on records and paginated lists, 409 on writes to a record, 413
    and 415 with a body; every error answer is the Error component."""
    schema = api_client(staff).get(reverse("api-schema"), {"format": "json"}).json()
    error = {"$ref": "#/components/schemas/Error"}
    assert {"detail", "code"} <= set(schema["components"]["schemas"]["Error"]["properties"])
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            where = f"{method.upper()} {path}"
            errors = {code for code in responses if code.startswith("4")}
            for code in errors:
                assert responses[code]["content"] == {"application/json": {"schema": error}}, where
            expected = {"401", "429"}
            on_record = "{" in path
            writes = method in ("post", "put", "patch", "delete")
            if "requestBody" in operation:
                expected |= {"400", "413", "415"}
            if any(parameter["in"] == "query" for parameter in operation.get("parameters", ())):
                expected.add("400")
            if writes:
                expected |= {"400", "403"}
            if on_record:
                expected.add("404")
            if writes and on_record:
                expected.add("409")
            assert errors >= expected, f"{where}: {sorted(expected - errors)} missing"
    departments = schema["paths"]["/api/v1/departments/"]
    assert set(departments["get"]["responses"]) == {"200", "400", "401", "404", "429"}
    assert set(departments["post"]["responses"]) == {"201", "400", "401", "403", "413", "415", "429"}
    assert "409" in schema["paths"]["/api/v1/residents/{id}/move-out/"]["post"]["responses"]
