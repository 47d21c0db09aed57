"""The access table in grids.access's docstring is what its functions do: each row is played by
people of the test cast, each cell is compared with the function of its column."""

from __future__ import annotations

import datetime

import pytest
from django.db.models import Q
from django.urls import reverse

from grids import access
from grids.models import Duty, Grid, GridAssignment
from shanglong.models import Community
from shanglong.roles import Role
from tests.conftest import client_for, make_user


def parse_table(doc: str) -> tuple[list[str], dict[str, dict[str, str]]]:
    """The columns and the rows ({role or duty: {column: cell}}) of the docstring's table."""
    lines = [line.strip() for line in doc.splitlines() if line.strip().startswith("|")]
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    header, body = cells[0], [row for row in cells[1:] if not set("".join(row)) <= set("-: ")]
    columns = header[1:]
    return columns, {row[0]: dict(zip(columns, row[1:], strict=True)) for row in body}


COLUMNS, TABLE = parse_table(access.__doc__ or "")

# Who plays each row: fixture names (the cast of tests/conftest.py and tests/grids/conftest.py,
# and the few people made below).
PLAYERS = {
    "community admin": ["community_admin"],
    "staff": ["staff", "other_staff"],
    "branch secretary": ["merchant_secretary"],
    "on duty": ["grid_worker", "other_grid_worker"],
    "department liaison": ["department_user"],
    "subdistrict staff": ["subdistrict_user"],
    "merchant": ["merchant_user"],
    "volunteer": ["volunteer_user"],
    "superuser": ["superuser"],
}

GRID_COLUMNS = {
    "see grids": access.visible_grid_ids,
    "edit registry": lambda user: Grid.objects.editable_by(user).values("pk"),
    "edit people": access.editable_grid_ids,
    "patrol": access.patrollable_grid_ids,
    "keep checklist": access.checklist_editable_grid_ids,
}
PAGES = "grid work pages"


@pytest.fixture
def superuser(subdistrict):
    return make_user("root", Role.SUBDISTRICT_STAFF, subdistrict=subdistrict, is_superuser=True)


@pytest.fixture
def merchant_secretary(bounded_community, branches):
    """A merchant who is secretary of branch 2 (grids C and D): the branch is all they have."""
    secretary = make_user("merchant-secretary", Role.MERCHANT, community=bounded_community)
    branches[1].secretary = secretary
    branches[1].save()
    return secretary


@pytest.fixture
def world(grids, on_duty, other_community, other_subdistrict):
    """The four grids of the cast's community, one of the other community in the same
    subdistrict and one of a community in another subdistrict."""
    square = grids["A"].boundary
    far = Community.objects.create(subdistrict=other_subdistrict, name="黄河社区", code="t-huanghe-c")
    return {
        **grids,
        "E": Grid.objects.create(community=other_community, code="01", name="网格E", boundary=square),
        "F": Grid.objects.create(community=far, code="01", name="网格F", boundary=square),
    }


def expected_grids(cell: str, user) -> set[int]:
    """The grids a cell of the table names, for this person."""
    rule = {
        "all": Q(),
        "community": Q(community_id=user.community_id) if user.community_id else None,
        "subdistrict": Q(community__subdistrict_id=user.subdistrict_id),
        "branch": Q(branch__secretary_id=user.pk),
        "duty": Q(pk__in=GridAssignment.objects.current().filter(user_id=user.pk).values("grid_id")),
        "-": None,
    }[cell]
    return set() if rule is None else set(Grid.objects.filter(rule).values_list("pk", flat=True))


def granted(function, user) -> set[int]:
    return set(Grid.objects.filter(pk__in=function(user)).values_list("pk", flat=True))


def test_the_table_has_a_row_for_every_role_and_the_columns_of_the_functions():
    assert list(COLUMNS) == [*GRID_COLUMNS, PAGES]
    assert set(TABLE) == set(PLAYERS)
    for row in TABLE.values():
        assert row[PAGES] in {"yes", "-"}
        assert all(row[column] in {"all", "community", "subdistrict", "branch", "duty", "-"} for column in GRID_COLUMNS)


ROW_PLAYERS = [
    pytest.param(row, player, id=f"{row}-{player}") for row, players in PLAYERS.items() for player in players
]


@pytest.mark.django_db
@pytest.mark.parametrize(("row", "player"), ROW_PLAYERS)
def test_each_row_of_the_access_table_is_what_the_functions_grant(row, player, world, request):
    user = request.getfixturevalue(player)
    cells = TABLE[row]
    for column, function in GRID_COLUMNS.items():
        expected = expected_grids(cells[column], user)
        assert granted(function, user) == expected, f"{row} ({player}): {column}"
    assert access.may_do_grid_work(user) is (cells[PAGES] == "yes"), f"{row} ({player}): {PAGES}"
    # The yes-or-no forms of the same columns agree with their rows.
    assert access.can_edit_registry(user) is (cells["edit registry"] != "-")
    assert access.can_edit_people(user) is (cells["edit people"] != "-")
    assert access.may_keep_some_checklist(user) is (cells["keep checklist"] != "-")
    assert access.may_patrol_somewhere(user) is bool(expected_grids(cells["patrol"], user))
    for grid in world.values():
        assert access.may_patrol(user, grid.pk) is (grid.pk in expected_grids(cells["patrol"], user))
        assert access.may_keep_checklist(user, grid.pk) is (grid.pk in expected_grids(cells["keep checklist"], user))


@pytest.mark.django_db
@pytest.mark.parametrize("duty", Duty.values)
def test_every_duty_is_the_on_duty_row(duty, grid_worker, world):
    since = datetime.date.today() - datetime.timedelta(days=1)
    GridAssignment.objects.filter(user=grid_worker).delete()
    GridAssignment.objects.create(user=grid_worker, grid=world["C"], duty=duty, since=since)
    cells = TABLE["on duty"]
    for column, function in GRID_COLUMNS.items():
        assert granted(function, grid_worker) == expected_grids(cells[column], grid_worker), column
    assert granted(access.visible_grid_ids, grid_worker) == {world["C"].pk}


@pytest.mark.django_db
def test_an_ended_duty_gives_nothing(grid_worker, world):
    GridAssignment.objects.filter(user=grid_worker).update(until=datetime.date.today() - datetime.timedelta(days=1))
    for column, function in GRID_COLUMNS.items():
        assert granted(function, grid_worker) == set(), column


@pytest.mark.django_db
def test_links_add_to_the_role_a_merchant_on_duty_sees_and_patrols_but_keeps_no_people(merchant_user, world):
    GridAssignment.objects.create(user=merchant_user, grid=world["D"], duty=Duty.BUILDING_HEAD)
    assert granted(access.visible_grid_ids, merchant_user) == {world["D"].pk}
    assert granted(access.patrollable_grid_ids, merchant_user) == {world["D"].pk}
    assert granted(access.editable_grid_ids, merchant_user) == set()
    assert access.may_do_grid_work(merchant_user) is False


@pytest.mark.django_db
def test_a_branch_secretary_who_is_a_grid_worker_gets_the_branch_and_the_pages(branch_secretary, world):
    branch = {world["A"].pk, world["B"].pk}
    assert granted(access.visible_grid_ids, branch_secretary) == branch
    assert granted(access.patrollable_grid_ids, branch_secretary) == branch
    assert granted(access.checklist_editable_grid_ids, branch_secretary) == branch
    assert granted(access.editable_grid_ids, branch_secretary) == set()
    assert access.can_edit_people(branch_secretary) is True  # a grid worker: the forms open, no grid to choose


@pytest.mark.django_db
def test_the_pages_ask_the_table(merchant_user, merchant_secretary, grid_worker, world):
    assert client_for(merchant_user).get(reverse("grids:grid_list")).status_code == 403
    assert client_for(merchant_secretary).get(reverse("grids:grid_list")).status_code == 200
    assert client_for(grid_worker).get(reverse("grids:grid_list")).status_code == 200
    # Edit registry: "-" for a grid worker, so the new-grid form is refused.
    assert client_for(grid_worker).get(reverse("grids:grid_create")).status_code == 403
