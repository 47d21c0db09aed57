"""党小组: a party group sits under a grid party branch, nowhere else; the organisation tree and
the API show it, and a grid's people see the groups of its branch."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from grids.models import OrganisationKind, PartyOrganisation
from tests.api import matrix
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(settings):
    """The model's messages are compared in English (the source language), whatever language an
    earlier test left active."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


BRANCH_ONLY = "A party group belongs to a grid party branch: choose the branch."


def group(branch, name="鲁园小区党小组", **changes):
    values = {"community": branch.community, "name": name, "kind": OrganisationKind.PARTY_GROUP, "parent": branch}
    return PartyOrganisation(**{**values, **changes})


def test_a_party_group_belongs_to_a_grid_branch(branches):
    group(branches[0]).full_clean()
    committee = branches[0].parent
    with pytest.raises(ValidationError) as raised:
        group(branches[0], parent=committee).full_clean()
    assert raised.value.message_dict["parent"] == [BRANCH_ONLY]
    with pytest.raises(ValidationError) as raised:
        group(branches[0], parent=None).full_clean()
    assert raised.value.message_dict["parent"] == [BRANCH_ONLY]


def test_nothing_sits_under_a_party_group(branches):
    first = group(branches[0])
    first.save()
    below = PartyOrganisation(
        community=first.community, name="下级", kind=OrganisationKind.UNIT_ORGANISATION, parent=first
    )
    with pytest.raises(ValidationError) as raised:
        below.full_clean()
    assert raised.value.message_dict["parent"] == ["A party group has no organisations under it."]


def test_the_api_refuses_a_party_group_outside_a_branch(staff, branches):
    client = matrix.api_client(staff)
    payload = {"community": branches[0].community_id, "name": "鲁园小区党小组", "kind": "party_group"}
    refused = client.post(
        reverse("api:partyorganisation-list"), {**payload, "parent": branches[0].parent_id}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["parent"] == [BRANCH_ONLY]
    created = client.post(reverse("api:partyorganisation-list"), {**payload, "parent": branches[0].pk}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["kind"] == "party_group"


def test_the_tree_shows_the_group_under_its_branch_to_the_grids_people(grid_worker, on_duty, branches):
    # grid1 is on duty in grid A, of branch 1.
    group(branches[0]).save()
    group(branches[1], name="第二支部党小组").save()
    page = client_for(grid_worker).get(reverse("grids:organisation_tree"))
    (branch_node,) = [node for node in page.context["tree"] if node["organisation"] == branches[0]]
    assert [child["organisation"].name for child in branch_node["children"]] == ["鲁园小区党小组"]
    assert "第二支部党小组" not in page.content.decode()


def test_the_demo_has_party_groups_under_the_first_branch():
    call_command("seed_demo", stdout=io.StringIO())
    groups = PartyOrganisation.objects.filter(kind=OrganisationKind.PARTY_GROUP).select_related("parent")
    assert {group.name: group.parent.name for group in groups} == {
        "鲁园小区党小组": "第一网格党支部",
        "商河小区党小组": "第一网格党支部",
    }
    for party_group in groups:
        party_group.full_clean()
