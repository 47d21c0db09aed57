"""Who sees which grids, compounds, assignments and organisations, through the pages."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse

from grids.models import Duty, Grid, GridAssignment, OrganisationKind, PartyOrganisation
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def listed_grids(user) -> set[str]:
    response = client_for(user).get(reverse("grids:grid_list"))
    assert response.status_code == 200
    return set(re.findall(r'data-grid="([^"]+)"', response.content.decode()))


def listed_compounds(user) -> set[str]:
    response = client_for(user).get(reverse("grids:compound_list"))
    assert response.status_code == 200
    return {compound.name for compound in response.context["page"]}


def test_staff_see_every_grid_of_their_community(staff, grids, on_duty):
    assert listed_grids(staff) == {"01", "02", "03", "04"}


def test_branch_secretary_sees_exactly_the_grids_of_their_branch(branch_secretary, grids, compounds):
    assert listed_grids(branch_secretary) == {"01", "02"}
    assert listed_compounds(branch_secretary) == {"小区A", "小区B"}
    client = client_for(branch_secretary)
    assert client.get(reverse("grids:grid_detail", args=[grids["A"].pk])).status_code == 200
    assert client.get(reverse("grids:grid_detail", args=[grids["C"].pk])).status_code == 404


def test_branch_secretary_of_another_role_gets_the_branch_on_top_of_the_role(grid_worker, grids, on_duty, branches):
    # grid1 is on duty in A; leading branch 2 adds C and D.
    branches[1].secretary = grid_worker
    branches[1].save()
    assert listed_grids(grid_worker) == {"01", "03", "04"}


def test_grid_worker_sees_only_the_grid_they_are_assigned_to(grid_worker, grids, on_duty, compounds):
    assert listed_grids(grid_worker) == {"01"}
    assert listed_compounds(grid_worker) == {"小区A"}
    client = client_for(grid_worker)
    detail = client.get(reverse("grids:grid_detail", args=[grids["A"].pk]))
    assert detail.status_code == 200
    assert {a.user.username for a in detail.context["grid"].people_on_duty} == {"grid1"}
    assert client.get(reverse("grids:grid_detail", args=[grids["B"].pk])).status_code == 404


def test_the_grid_page_leads_to_the_grids_patrols_checklist_and_ledger(grid_worker, staff, grids, on_duty):
    from grids.models import LedgerSubject
    from tests.grids.ledger_world import enterprise

    enterprise(grids["A"], "乐活城")
    enterprise(grids["B"], "供销商场")
    client = client_for(grid_worker)
    page = client.get(reverse("grids:grid_detail", args=[grids["A"].pk])).content.decode()
    links = re.findall(r'<a class="button" href="([^"]+)"', page.split('data-testid="grid-work"')[1].split("</nav>")[0])
    assert links == [
        reverse("grids:patrol_history", args=[grids["A"].pk]),
        reverse("grids:checklist", args=[grids["A"].pk]),
        f"{reverse('grids:ledger_list')}?grid={grids['A'].pk}",
    ]
    responses = [client.get(link) for link in links]
    assert [response.status_code for response in responses] == [200, 200, 200]
    assert "乐活城" in responses[2].content.decode()
    # The ledger link keeps to the grid: staff, who see B's line too, get only A's there.
    ledger = client_for(staff).get(links[2]).content.decode()
    assert LedgerSubject.objects.visible_to(staff).filter(name="供销商场").exists()
    assert "乐活城" in ledger
    assert "供销商场" not in ledger


def test_grid_worker_whose_assignment_ended_sees_nothing(grid_worker, grids, on_duty, compounds):
    assignment = on_duty[0]
    assignment.until = datetime.date.today() - datetime.timedelta(days=1)
    assignment.save()
    assert listed_grids(grid_worker) == set()
    assert listed_compounds(grid_worker) == set()
    assert client_for(grid_worker).get(reverse("grids:grid_detail", args=[grids["A"].pk])).status_code == 404


def test_grid_worker_whose_assignment_starts_tomorrow_sees_nothing_yet(grid_worker, grids):
    GridAssignment.objects.create(
        user=grid_worker, grid=grids["A"], duty=Duty.PART_TIME, since=datetime.date.today() + datetime.timedelta(days=1)
    )
    assert listed_grids(grid_worker) == set()


def test_grid_worker_sees_only_their_grids_assignments(grid_worker, grids, on_duty):
    response = client_for(grid_worker).get(reverse("grids:grid_list"))
    people = {a.user.username for grid in response.context["page"] for a in grid.people_on_duty}
    assert people == {"grid1"}


def test_staff_of_another_community_see_nothing(other_staff, grids, on_duty, compounds):
    assert listed_grids(other_staff) == set()
    assert listed_compounds(other_staff) == set()
    assert client_for(other_staff).get(reverse("grids:grid_detail", args=[grids["A"].pk])).status_code == 404
    tree = client_for(other_staff).get(reverse("grids:organisation_tree"))
    assert tree.context["tree"] == []


def test_outsider_sees_nothing(outsider, grids):
    assert listed_grids(outsider) == set()


@pytest.mark.parametrize("fixture", ["merchant_user", "volunteer_user"])
def test_merchants_and_volunteers_are_refused(request, fixture, grids, compounds):
    user = request.getfixturevalue(fixture)
    client = client_for(user)
    for name in ["grids:grid_list", "grids:compound_list", "grids:organisation_tree", "grids:map"]:
        assert client.get(reverse(name)).status_code == 403, name
    assert client.get(reverse("grids:grid_detail", args=[grids["A"].pk])).status_code == 403


def test_department_liaison_reads_the_community_but_cannot_edit(department_user, grids, compounds):
    assert listed_grids(department_user) == {"01", "02", "03", "04"}
    client = client_for(department_user)
    assert 'data-testid="new-grid"' not in client.get(reverse("grids:grid_list")).content.decode()
    assert client.get(reverse("grids:grid_create")).status_code == 403
    assert client.get(reverse("grids:grid_edit", args=[grids["A"].pk])).status_code == 403
    assert client.get(reverse("grids:compound_create")).status_code == 403


def test_subdistrict_staff_see_every_community_of_the_subdistrict(subdistrict_user, grids, other_community):
    Grid.objects.create(community=other_community, code="01", name="文汇网格01", boundary=grids["A"].boundary)
    response = client_for(subdistrict_user).get(reverse("grids:grid_list"))
    assert {grid.name for grid in response.context["page"]} == {"网格A", "网格B", "网格C", "网格D", "文汇网格01"}


def test_organisation_tree_nests_committee_branches_and_grids(staff, grids, branches):
    committee = branches[0].parent
    joint = PartyOrganisation.objects.create(
        community=committee.community,
        name="商河路商圈综合党委",
        kind=OrganisationKind.DISTRICT_JOINT_COMMITTEE,
        parent=committee,
    )
    PartyOrganisation.objects.create(
        community=committee.community, name="商业大厦联合党支部", kind=OrganisationKind.UNIT_ORGANISATION, parent=joint
    )
    response = client_for(staff).get(reverse("grids:organisation_tree"))
    [root] = response.context["tree"]
    assert root["organisation"] == committee
    assert [child["organisation"].name for child in root["children"]] == [
        "商河路商圈综合党委",
        "第一网格党支部",
        "第二网格党支部",
    ]
    assert [child["organisation"].name for child in root["children"][0]["children"]] == ["商业大厦联合党支部"]
    assert [grid.code for grid in root["children"][1]["grids"]] == ["01", "02"]


def test_grid_worker_sees_only_their_branch_in_the_organisation_tree(grid_worker, on_duty, branches):
    response = client_for(grid_worker).get(reverse("grids:organisation_tree"))
    assert [node["organisation"] for node in response.context["tree"]] == [branches[0]]
    assert [grid.code for grid in response.context["tree"][0]["grids"]] == ["01"]


def test_map_draws_every_boundary_but_people_only_for_own_grids(grid_worker, grids, on_duty, compounds):
    response = client_for(grid_worker).get(reverse("grids:map"))
    assert response.status_code == 200
    data = response.context["map_data"]
    assert [grid["code"] for grid in data["grids"]] == ["01", "02", "03", "04"]
    by_code = {grid["code"]: grid for grid in data["grids"]}
    assert by_code["01"]["people_visible"] is True
    assert [person["name"] for person in by_code["01"]["on_duty"]] == ["grid1"]
    for code in ["02", "03", "04"]:
        assert by_code[code]["people_visible"] is False
        assert by_code[code]["on_duty"] is None
        assert by_code[code]["url"] is None
    # grid2, on duty in B, is named nowhere on grid1's map.
    assert "grid2" not in response.content.decode()
    assert [compound["name"] for compound in data["compounds"]] == ["小区A"]


def test_map_of_staff_shows_everyone_on_duty(staff, grids, on_duty):
    data = client_for(staff).get(reverse("grids:map")).context["map_data"]
    assert {p["name"] for grid in data["grids"] for p in grid["on_duty"] or []} == {"grid1", "grid2"}
    assert data["tiles"] is None


def test_map_of_another_community_is_not_found_for_community_staff(other_staff, grids, bounded_community):
    response = client_for(other_staff).get(reverse("grids:community_map", args=[bounded_community.pk]))
    assert response.status_code == 404


def test_subdistrict_staff_choose_a_community_for_the_map(subdistrict_user, grids, bounded_community, other_community):
    client = client_for(subdistrict_user)
    listing = client.get(reverse("grids:map"))
    assert listing.status_code == 200
    assert set(listing.context["communities"]) == {bounded_community, other_community}
    map_page = client.get(reverse("grids:community_map", args=[bounded_community.pk]))
    assert len(map_page.context["map_data"]["grids"]) == 4


def test_nav_shows_grids_and_map_to_community_workers_only(grid_worker, merchant_user, on_duty):
    page = client_for(grid_worker).get(reverse("home"), follow=True).content.decode()
    assert 'data-nav="grids"' in page
    assert 'data-nav="grid_map"' in page
    merchant_page = client_for(merchant_user).get(reverse("home")).content.decode()
    assert 'data-nav="grids"' not in merchant_page
