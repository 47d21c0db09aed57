from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.urls import reverse
from rest_framework.test import APIClient

from shanglong.actions import record_access
from shanglong.models import AccessAction, AccessLog, Department, DepartmentLevel

pytestmark = pytest.mark.django_db


def test_deleting_a_person_cannot_rewrite_their_access_log(staff):
    record_access(action=AccessAction.LOGIN, user=staff)
    with pytest.raises(ProtectedError):
        staff.delete()
    assert AccessLog.objects.get().user == staff


def test_a_department_name_is_unique_per_owner_even_where_links_are_empty(subdistrict, community):
    Department.objects.create(name="消防救援站", level=DepartmentLevel.DISTRICT)
    with pytest.raises(IntegrityError), transaction.atomic():
        Department.objects.create(name="消防救援站", level=DepartmentLevel.DISTRICT)
    Department.objects.create(name="派出所", level=DepartmentLevel.SUBDISTRICT, subdistrict=subdistrict)
    with pytest.raises(IntegrityError), transaction.atomic():
        Department.objects.create(name="派出所", level=DepartmentLevel.SUBDISTRICT, subdistrict=subdistrict)
    Department.objects.create(name="卫生站", level=DepartmentLevel.COMMUNITY, community=community)
    with pytest.raises(IntegrityError), transaction.atomic():
        Department.objects.create(name="卫生站", level=DepartmentLevel.COMMUNITY, community=community)
    # The same name under another owner is fine.
    Department.objects.create(name="派出所", level=DepartmentLevel.COMMUNITY, community=community)


def test_creating_and_revoking_an_api_token_is_in_the_access_log(staff):
    client = APIClient()
    client.force_login(staff)
    response = client.post(reverse("api:apitoken-list"), {"name": "phone", "days": 30}, format="json")
    assert response.status_code == 201, response.content
    prefix = response.json()["key"].split(".")[0]
    created = AccessLog.objects.get(action=AccessAction.TOKEN_CREATED)
    assert created.user == staff
    assert created.target == f"api-token:{prefix}"
    token_id = response.json()["id"]
    assert client.post(reverse("api:apitoken-revoke", args=[token_id])).status_code == 200
    assert AccessLog.objects.filter(action=AccessAction.TOKEN_REVOKED, user=staff).exists()
