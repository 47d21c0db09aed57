"""A reveal of a masked identity number or mobile asks why: without a reason (or "other" without
words) it is refused on the page and in the API, nothing is shown and nothing logged; with one
the access-log row carries it, and the community's audit administrator sees it on the audit page."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from shanglong.models import AccessAction, AccessLog, RevealReason, Role
from tests.api import matrix
from tests.conftest import client_for, make_user
from tests.grids.people_world import build_people

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def people(request):
    return build_people(matrix.build_cast(request))


@pytest.fixture
def resident(people):
    return people["residents"]["A"]


def api_post(user, url, payload):
    with matrix.fresh_throttle_cache():
        return matrix.api_client(user).post(url, payload, content_type="application/json")


def reveal_url(resident):
    return reverse("grids:resident_reveal", args=[resident.pk])


def test_the_reveal_form_offers_the_reasons(staff, resident):
    page = client_for(staff).get(reverse("grids:resident_detail", args=[resident.pk])).content.decode()
    assert 'name="reason"' in page
    assert all(f'value="{code}"' in page for code in RevealReason.values)


@pytest.mark.parametrize(
    ("payload", "field"),
    [({}, "reason"), ({"reason": "because"}, "reason"), ({"reason": "other", "reason_text": "  "}, "reason_text")],
)
def test_a_page_reveal_without_a_reason_is_refused_and_logs_nothing(grid_worker, resident, payload, field):
    client = client_for(grid_worker)
    response = client.post(reveal_url(resident), {"field": "mobile", **payload}, headers={"accept": "application/json"})
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert resident.mobile not in response.content.decode()
    # Without the script: the page again with a 400, the form open with the message, still masked.
    response = client.post(reveal_url(resident), {"field": "mobile", **payload})
    assert response.status_code == 400
    body = response.content.decode()
    assert resident.mobile not in body
    assert "why you need the full value" in body
    assert not AccessLog.objects.filter(action=AccessAction.REVEAL).exists()


def test_a_page_reveal_with_a_reason_logs_the_reason_and_the_words(grid_worker, resident):
    response = client_for(grid_worker).post(
        reveal_url(resident),
        {"field": "id_number", "reason": "other", "reason_text": "核对 低保  申请材料"},
        headers={"accept": "application/json"},
    )
    assert response.json() == {"field": "id_number", "value": resident.id_number}
    log = AccessLog.objects.get(action=AccessAction.REVEAL)
    assert log.target == f"resident:{resident.pk}:id_number"
    assert json.loads(log.detail) == {"reason": "other", "text": "核对 低保 申请材料"}


def test_an_api_reveal_without_a_reason_is_refused_and_logs_nothing(grid_worker, resident):
    url = reverse("api:resident-reveal", args=[resident.pk])
    response = api_post(grid_worker, url, {"field": "mobile"})
    assert response.status_code == 400
    assert response.json()["code"] == "reveal_reason_missing"
    assert resident.mobile not in response.content.decode()
    response = api_post(grid_worker, url, {"field": "mobile", "reason": "other"})
    assert response.status_code == 400
    assert not AccessLog.objects.filter(action=AccessAction.REVEAL).exists()


def test_an_api_reveal_with_a_reason_is_logged_with_it(grid_worker, resident):
    url = reverse("api:resident-reveal", args=[resident.pk])
    response = api_post(grid_worker, url, {"field": "mobile", "reason": "department_request", "reason_text": "派出所"})
    assert response.status_code == 200
    log = AccessLog.objects.get(action=AccessAction.REVEAL)
    assert json.loads(log.detail) == {"reason": "department_request", "text": "派出所"}


def test_the_audit_page_lists_the_reveal_with_its_reason(community, grid_worker, resident):
    client_for(grid_worker).post(reveal_url(resident), {"field": "mobile", "reason": "emergency"})
    auditor = make_user("auditor", Role.AUDIT_ADMIN, community=community)
    page = client_for(auditor).get(reverse("audit_log"))
    assert page.status_code == 200
    body = page.content.decode()
    assert f"resident:{resident.pk}:mobile" in body
    assert str(RevealReason.EMERGENCY.label) in body
    assert grid_worker.username in body
    assert resident.mobile not in body
