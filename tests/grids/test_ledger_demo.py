"""The ledger's demo data: lines for the demo residents in groups and a few key enterprises; the
demo grid worker (张伟, 网格01) has subjects due and one overdue; seeding twice changes nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from grids.models import GroupMembership, LedgerSubject, SubjectKind, Visit
from shanglong.models import User
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=io.StringIO())


def test_every_group_member_and_the_key_enterprises_are_in_the_ledger(demo):
    memberships = GroupMembership.objects.filter(
        resident__dwelling__building__compound__grid__community__name="商隆社区"
    )
    assert memberships.exists()
    for membership in memberships:
        assert LedgerSubject.objects.filter(resident=membership.resident, group=membership.kind).exists()
    enterprises = set(LedgerSubject.objects.filter(kind=SubjectKind.KEY_ENTERPRISE).values_list("name", flat=True))
    assert {"乐活城", "供销商场"} <= enterprises
    assert Visit.objects.count() > 10


def test_the_demo_grid_worker_has_subjects_due_and_one_overdue(demo):
    response = client_for(User.objects.get(username="grid")).get(reverse("grids:my_day"))
    assert [item["line"].name for item in response.context["overdue"]] == ["周志强"]
    pending = {item["line"].name for item in (*response.context["due_today"], *response.context["later"])}
    assert {"刘桂英", "乐活城"} <= pending
    assert "王秀兰" not in pending  # visited this month


def test_the_demo_branch_secretary_sees_an_overdue_enterprise(demo):
    response = client_for(User.objects.get(username="staff")).get(reverse("grids:my_day"))
    overdue = {grid.code: grid.overdue for grid in response.context["grids"]}
    assert overdue["04"] == 1  # 供销商场


def test_seeding_the_ledger_twice_changes_nothing(demo):
    counts = (LedgerSubject.objects.count(), Visit.objects.count(), LedgerSubject.history.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert (LedgerSubject.objects.count(), Visit.objects.count(), LedgerSubject.history.count()) == counts
