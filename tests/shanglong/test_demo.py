"""The demo data set: `manage.py seed_demo` builds 商隆社区 and its people, and changes nothing
when run again."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from shanglong import roles
from shanglong.demo import DEMO_PASSWORD, DEPARTMENTS
from shanglong.models import Community, Department, Role, Subdistrict, User

pytestmark = pytest.mark.django_db


def row_counts() -> dict[str, int]:
    """How many rows every model of every installed app holds (the apps' seeders included)."""
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def core_history_counts() -> dict[str, int]:
    return {
        "subdistrict": Subdistrict.history.filter(code="370502-wenhui").count(),
        "community": Community.history.filter(code="370502-wenhui-shanglong").count(),
        "departments": Department.history.filter(name__in=[name for name, _level in DEPARTMENTS]).count(),
    }


def is_history(label: str) -> bool:
    return label.split(".", 1)[1].startswith("Historical")


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_twice_leaves_the_same_counts():
    seed()
    first = row_counts()
    first_history = core_history_counts()
    seed()
    second = row_counts()
    # Every app's records...
    assert {label: n for label, n in second.items() if not is_history(label)} == {
        label: n for label, n in first.items() if not is_history(label)
    }
    # ...and the change history of what the core seeds: a second run changes nothing, so it
    # records no change. (Apps' seeders should use shanglong.demo.upsert for the same reason.)
    assert core_history_counts() == first_history
    assert first["shanglong.User"] >= len(Role.values)


def test_seed_demo_builds_shanglong_in_wenhui():
    seed()
    community = Community.objects.select_related("subdistrict").get(name="商隆社区")
    assert community.area_km2 == Decimal("0.86")
    assert community.subdistrict.name == "文汇街道"
    assert community.subdistrict.district == "东营区"
    assert community.facts["residential_compounds"] == 13
    assert community.facts["enterprises"] == 550
    assert community.boundary["type"] == "Polygon"
    assert Subdistrict.objects.filter(name="文汇街道").count() == 1
    assert Department.objects.filter(name="司法所", subdistrict=community.subdistrict).exists()


def test_seed_demo_creates_a_user_for_every_role():
    output = seed()
    for role in Role.values:
        person = User.objects.filter(role=role).select_related("community", "subdistrict").first()
        assert person is not None, f"no demo user for {role}"
        assert person.subdistrict.name == "文汇街道"
        if role == Role.SUBDISTRICT_STAFF:
            assert person.community is None
        else:
            assert person.community.name == "商隆社区"
        assert person.username in output  # the logins are printed
    assert User.objects.filter(role=Role.DEPARTMENT, department__name="司法所").exists()


def test_demo_users_can_log_in_and_reach_their_start_page():
    seed()
    for person in User.objects.all():
        client = Client()
        assert client.login(username=person.username, password=DEMO_PASSWORD), person.username
        response = client.get("/", follow=True)
        assert response.status_code == 200
        start_page = reverse(roles.START_PAGES[person.role])
        assert response.request["PATH_INFO"] == start_page
        if start_page == reverse("home"):
            assert f'data-start-page="{person.role}"' in response.content.decode()


def test_seed_demo_does_not_reset_a_changed_password():
    seed()
    person = User.objects.get(username="grid")  # the core's demo grid worker
    person.set_password("Changed-by-the-owner-1")
    person.save()
    seed()
    person.refresh_from_db()
    assert person.check_password("Changed-by-the-owner-1")
