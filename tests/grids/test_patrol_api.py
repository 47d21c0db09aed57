"""The patrol API: its endpoints in the scoping matrix over the test cast, and a patrol through
the API (start, mark, photos, end, follow-up) with the same rules as the pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from grids.actions import add_checklist_item, mark_patrol_item, start_patrol
from grids.models import (
    Checklist,
    ChecklistItem,
    Finding,
    FindingFollowUp,
    Grid,
    Outcome,
    Patrol,
    PatrolResult,
    PatrolStatus,
)
from tests.api import matrix
from tests.grids.patrol_world import gas_checklist, has_location, item, photo_upload
from tests.grids.test_api import _visible, build_world

# --- The world: grid A (grid1 on duty), B (grid2), X (other community, staff2 on duty) ----------


def patrol_world(cast: matrix.Cast) -> dict:
    """build_world's grids with a checklist item each, an ended patrol each with a failed item
    and its finding; and a grid without a checklist in each community (A2, X2)."""
    world = build_world(cast)
    grids = world["grids"]
    users = cast.users
    walkers = {"A": users["grid_worker"], "B": users["other_grid_worker"], "X": users["other_staff"]}
    rows: dict[str, dict] = {"checklists": {}, "items": {}, "patrols": {}, "results": {}, "findings": {}}
    for letter, grid in grids.items():
        entry = add_checklist_item(grid=grid, text=f"检查项{letter}", by=walkers[letter])
        patrol, _created = start_patrol(grid=grid, by=walkers[letter])
        result, finding = mark_patrol_item(patrol=patrol, item=entry, outcome=Outcome.FAIL, by=walkers[letter])
        Patrol.objects.filter(pk=patrol.pk).update(status=PatrolStatus.ENDED)
        rows["checklists"][f"c{letter}"] = entry.checklist
        rows["items"][f"i{letter}"] = entry
        rows["patrols"][f"p{letter}"] = patrol
        rows["results"][f"r{letter}"] = result
        rows["findings"][f"f{letter}"] = finding
    extra = {
        "A2": Grid.objects.create(community=cast.community, code="09", name="网格A2", boundary=grids["A"].boundary),
        "X2": Grid.objects.create(
            community=cast.other_community, code="09", name="网格X2", boundary=grids["X"].boundary
        ),
    }
    return {**world, **rows, "extra_grids": extra}


def rows_of(kind: str):
    return lambda cast: patrol_world(cast)[kind]


def _is_other(person: str) -> bool:
    return person == "other_staff"


# Each writer's own grid, and the grids outside their scope (not visible to them).
OWN_GRID = {"staff": "A", "community_admin": "A", "grid_worker": "A", "other_grid_worker": "B", "other_staff": "X"}
FOREIGN_GRIDS = {
    "staff": "X",
    "community_admin": "X",
    "grid_worker": "BX",
    "other_grid_worker": "AX",
    "other_staff": "AB",
}
EDITORS = ("staff", "community_admin", "other_staff")
PATROLLERS = (*EDITORS, "grid_worker", "other_grid_worker")


def checklist_payload(cast, rows, person):
    community = cast.other_community if _is_other(person) else cast.community
    return {"grid": Grid.objects.get(community=community, code="09").pk}


def checklist_foreign(cast, rows, person):
    return [{"grid": rows[f"c{letter}"].grid_id} for letter in FOREIGN_GRIDS[person]]


def item_payload(cast, rows, person):
    return {"checklist": rows[f"i{OWN_GRID[person]}"].checklist_id, "text": "新检查项", "site_type": "other"}


def item_foreign(cast, rows, person):
    return [{"checklist": rows[f"i{letter}"].checklist_id} for letter in FOREIGN_GRIDS[person]]


def patrol_payload(cast, rows, person):
    return {"grid": rows[f"p{OWN_GRID[person]}"].grid_id}


def patrol_foreign(cast, rows, person):
    return [{"grid": rows[f"p{letter}"].grid_id} for letter in FOREIGN_GRIDS[person]]


def finding_payload(cast, rows, person):
    return {"grid": rows[f"f{OWN_GRID[person]}"].grid_id, "description": "楼道堆放杂物"}


def finding_foreign(cast, rows, person):
    return [{"grid": rows[f"f{letter}"].grid_id} for letter in FOREIGN_GRIDS[person]]


def _visible_labels(prefix: str) -> dict[str, set[str]]:
    return _visible(
        {f"{prefix}A", f"{prefix}B"},
        {"grid_worker": {f"{prefix}A"}, "other_grid_worker": {f"{prefix}B"}},
        {f"{prefix}X"},
    )


CASES = [
    matrix.EndpointCase(
        id="checklists",
        route="api:checklist",
        build_rows=rows_of("checklists"),
        visible=_visible_labels("c"),
        writers=EDITORS,
        create_payload=checklist_payload,
        foreign_payloads=checklist_foreign,
    ),
    matrix.EndpointCase(
        id="checklist-items",
        route="api:checklistitem",
        build_rows=rows_of("items"),
        visible=_visible_labels("i"),
        writers=EDITORS,
        create_payload=item_payload,
        foreign_payloads=item_foreign,
        writable={"staff": {"iA", "iB"}, "community_admin": {"iA", "iB"}, "other_staff": {"iX"}},
        update_payload=lambda cast, rows, person: {"text": "改写的检查项"},
    ),
    matrix.EndpointCase(
        id="patrols",
        route="api:patrol",
        build_rows=rows_of("patrols"),
        visible=_visible_labels("p"),
        writers=PATROLLERS,
        create_payload=patrol_payload,
        foreign_payloads=patrol_foreign,
    ),
    matrix.EndpointCase(
        id="patrol-results",
        route="api:patrolresult",
        build_rows=rows_of("results"),
        visible=_visible_labels("r"),
    ),
    matrix.EndpointCase(
        id="findings",
        route="api:finding",
        build_rows=rows_of("findings"),
        visible=_visible_labels("f"),
        writers=PATROLLERS,
        create_payload=finding_payload,
        foreign_payloads=finding_foreign,
    ),
]

test_list_shows_exactly_the_visible_rows = matrix.list_test(CASES)
test_detail_outside_scope_is_404 = matrix.detail_test(CASES)
test_create_is_for_writers_only = matrix.create_test(CASES)
test_foreign_keys_outside_scope_are_400 = matrix.foreign_key_test(CASES)
test_update_is_for_writers_of_their_rows = matrix.update_test(CASES)


# --- A patrol through the API ------------------------------------------------------------------


def post(user, url, payload=None, **extra):
    with matrix.fresh_throttle_cache():
        return matrix.api_client(user).post(url, payload or {}, content_type="application/json", **extra)


def get(user, url, **params):
    with matrix.fresh_throttle_cache():
        return matrix.api_client(user).get(url, params)


@pytest.fixture
def gas(grids, staff):
    gas_checklist(grids["B"], staff)
    return gas_checklist(grids["A"], staff)


@pytest.mark.django_db
def test_a_patrol_through_the_api(grid_worker, grids, on_duty, gas, media_root):
    response = post(grid_worker, reverse("api:patrol-list"), {"grid": grids["A"].pk})
    assert response.status_code == 201, response.content
    body = response.json()
    assert [entry["id"] for entry in body["items"]] == [entry.pk for entry in gas]
    patrol_url = reverse("api:patrol-detail", args=[body["id"]])
    again = post(grid_worker, reverse("api:patrol-list"), {"grid": grids["A"].pk})
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]

    hose = item(grids["A"], "restaurant_gas.metal_hose")
    mark_url = f"{patrol_url}mark/"
    response = post(grid_worker, mark_url, {"item": hose.pk, "outcome": "fail", "description": "橡胶软管,约3米"})
    assert response.status_code == 200, response.content
    finding = Finding.objects.get(pk=response.json()["finding"])
    assert finding.description == "橡胶软管,约3米"
    assert not finding.has_position
    assert finding.attachments.count() == 0
    # The same mark again, and from a second device: still one result.
    post(grid_worker, mark_url, {"item": hose.pk, "outcome": "fail"})
    post(grid_worker, mark_url, {"item": hose.pk, "outcome": "fail"})
    assert PatrolResult.objects.filter(item=hose).count() == 1
    assert Finding.objects.count() == 1

    with matrix.fresh_throttle_cache():
        response = matrix.api_client(grid_worker).post(
            reverse("api:finding-photos", args=[finding.pk]), {"photos": [photo_upload(), photo_upload("b.jpg")]}
        )
    assert response.status_code == 201, response.content
    photos = response.json()["photos"]
    assert len(photos) == 2
    for attachment in finding.attachments.all():
        with attachment.file.open("rb") as stored:
            assert not has_location(stored.read())

    detail = get(grid_worker, patrol_url).json()
    assert [(result["item"], result["outcome"]) for result in detail["results"]] == [(hose.pk, "fail")]
    response = post(grid_worker, f"{patrol_url}end/")
    assert response.status_code == 200
    assert response.json()["status"] == "ended"
    response = post(grid_worker, f"{patrol_url}end/")
    assert response.status_code == 409
    assert response.json()["detail"] == "This patrol has already ended; nothing was changed."
    assert post(grid_worker, mark_url, {"item": gas[0].pk, "outcome": "pass"}).status_code == 409


@pytest.mark.django_db
def test_a_grid_worker_cannot_patrol_another_grid_through_the_api(grid_worker, other_grid_worker, grids, on_duty, gas):
    for letter in "BC":
        response = post(grid_worker, reverse("api:patrol-list"), {"grid": grids[letter].pk})
        assert response.status_code == 400
        assert "does not exist" in response.json()["grid"][0]
    assert not Patrol.objects.exists()
    theirs, _created = start_patrol(grid=grids["B"], by=other_grid_worker)
    url = reverse("api:patrol-mark", args=[theirs.pk])
    assert post(grid_worker, url, {"item": gas[0].pk, "outcome": "fail"}).status_code == 404
    # An item of another grid's checklist is not an item of my patrol.
    mine = post(grid_worker, reverse("api:patrol-list"), {"grid": grids["A"].pk}).json()
    b_item = item(grids["B"], "restaurant_gas.metal_hose")
    response = post(grid_worker, reverse("api:patrol-mark", args=[mine["id"]]), {"item": b_item.pk, "outcome": "fail"})
    assert response.status_code == 400
    assert "item" in response.json()
    assert not PatrolResult.objects.exists()


@pytest.mark.django_db
def test_staff_see_a_workers_patrol_but_cannot_mark_it(staff, grid_worker, grids, on_duty, gas):
    patrol, _created = start_patrol(grid=grids["A"], by=grid_worker)
    assert get(staff, reverse("api:patrol-detail", args=[patrol.pk])).status_code == 200
    response = post(staff, reverse("api:patrol-mark", args=[patrol.pk]), {"item": gas[0].pk, "outcome": "pass"})
    assert response.status_code == 403


@pytest.mark.django_db
def test_a_template_is_applied_once_through_the_api(staff, grid_worker, grids, on_duty):
    response = post(staff, reverse("api:checklist-list"), {"grid": grids["A"].pk})
    assert response.status_code == 201, response.content
    url = reverse("api:checklist-apply-template", args=[response.json()["id"]])
    assert post(staff, url, {"site_type": "small_venue"}).json()["added"] == 5
    assert post(staff, url, {"site_type": "small_venue"}).json() == {"added": 0, "items": []}
    assert ChecklistItem.objects.count() == 5
    assert post(grid_worker, url, {"site_type": "parking"}).status_code == 403
    assert ChecklistItem.objects.count() == 5


@pytest.mark.django_db
def test_follow_ups_through_the_api(grid_worker, staff, grids, on_duty, gas):
    patrol, _created = start_patrol(grid=grids["A"], by=grid_worker)
    _result, finding = mark_patrol_item(patrol=patrol, item=gas[0], outcome=Outcome.FAIL, by=grid_worker)
    url = reverse("api:finding-follow-up", args=[finding.pk])
    response = post(grid_worker, url, {"note": "已告知店主", "version": 1})
    assert response.status_code == 200
    assert response.json()["status"] == "followed_up"
    stale = post(staff, url, {"note": "复查", "close": True, "version": 1})
    assert stale.status_code == 409
    response = post(staff, url, {"note": "已整改", "close": True, "version": 2})
    assert response.status_code == 200
    assert response.json()["status"] == "closed"
    assert [step["note"] for step in response.json()["follow_ups"]] == ["已告知店主", "已整改"]
    assert post(grid_worker, url, {"note": "再补充"}).status_code == 409
    assert FindingFollowUp.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [5, 50])
@pytest.mark.parametrize("route", ["patrol", "finding", "checklist", "checklistitem", "patrolresult"])
def test_api_list_queries(staff, grids, rows, route, django_assert_num_queries):
    for number in range(rows):
        entry = add_checklist_item(grid=grids["A"], text=f"检查项{number}", by=staff)
        patrol, _created = start_patrol(grid=grids["A"], by=staff)
        mark_patrol_item(patrol=patrol, item=entry, outcome=Outcome.FAIL, by=staff)
        Patrol.objects.filter(pk=patrol.pk).update(status=PatrolStatus.ENDED)
    expected = {
        # session, user, page count, rows (+ the prefetches: photos and follow-ups; items)
        "patrol": 4,
        "finding": 6,
        "checklist": 5,
        "checklistitem": 4,
        "patrolresult": 4,
    }[route]
    client = matrix.api_client(staff)
    with matrix.fresh_throttle_cache(), django_assert_num_queries(expected):
        response = client.get(reverse(f"api:{route}-list"))
    assert response.status_code == 200
    assert response.json()["count"] == (1 if route == "checklist" else rows)
    assert Checklist.objects.count() == 1
