"""The grids admin: registries are never deleted there (they end by their dates or status)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from grids.admin import RegistryAdmin
from grids.models import Grid, GridAssignment, LedgerSubject, Resident
from shanglong.models import User
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [Grid, GridAssignment, Resident, LedgerSubject])
def test_a_registry_cannot_be_deleted_in_the_admin(model):
    assert isinstance(admin.site._registry[model], RegistryAdmin)


def test_the_delete_page_and_action_are_refused_for_a_grid(grids):
    client = client_for(User.objects.create_superuser("root", password="x"))
    grid = grids["A"]
    assert client.get(reverse("admin:grids_grid_delete", args=[grid.pk])).status_code == 403
    changelist = client.get(reverse("admin:grids_grid_changelist"))
    assert changelist.status_code == 200
    assert "delete_selected" not in changelist.content.decode()  # no bulk delete offered
    assert Grid.objects.filter(pk=grid.pk).exists()
