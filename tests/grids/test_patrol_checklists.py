"""Each grid's own checklist: started from templates (applied once, however often), kept by the
grid's branch secretary and community staff only, items reordered and retired (never deleted
once used), seasonal items only in their months."""

from __future__ import annotations

import datetime

import pytest
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils import timezone, translation

from grids.actions import apply_checklist_template, retire_checklist_item
from grids.models import ChecklistItem, Outcome, checklist_templates
from tests.grids.patrol_world import english_client, gas_checklist, item, walked_patrol

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def texts(grid) -> list[str]:
    return list(ChecklistItem.objects.filter(checklist__grid=grid).in_use().values_list("text", flat=True))


def test_the_templates_hold_the_issues_items():
    templates = checklist_templates()
    assert set(templates) == {"restaurant_gas", "small_venue", "frontage", "parking", "sanitation", "flood_point"}
    gas = " ".join(entry["text"] for entry in templates["restaurant_gas"]["items"])
    for words in ["报警器", "切断", "金属软管", "2米", "4瓶", "100公斤", "地下", "熄火保护", "供用气合同", "灭火毯"]:
        assert words in gas
    venues = " ".join(entry["text"] for entry in templates["small_venue"]["items"])
    for words in ["住宿", "电动自行车", "灭火器"]:
        assert words in venues
    assert templates["flood_point"]["season"] == (4, 9)  # 汛前排查 from April (issue 10)
    assert all(template["season"] is None for key, template in templates.items() if key != "flood_point")


def test_a_template_is_applied_once_however_often(staff, grids):
    client = english_client(staff)
    url = reverse("grids:checklist_apply_template", args=[grids["A"].pk])
    client.post(url, {"site_type": "restaurant_gas"})
    client.post(url, {"site_type": "restaurant_gas"})
    response = client.post(url, {"site_type": "restaurant_gas"}, follow=True)
    assert "nothing was added" in response.content.decode()
    assert len(texts(grids["A"])) == 7
    # A retired template item is not brought back by applying again.
    retire_checklist_item(item=item(grids["A"], "restaurant_gas.fire_blanket"), by=staff)
    assert apply_checklist_template(grid=grids["A"], site_type="restaurant_gas", by=staff) == []
    assert len(texts(grids["A"])) == 6
    # Another template adds after the first, in the template's order.
    added = apply_checklist_template(grid=grids["A"], site_type="small_venue", by=staff)
    assert [entry.position for entry in added] == list(range(8, 8 + len(added)))


def test_community_staff_and_the_branch_secretary_keep_the_checklist(staff, branch_secretary, grids):
    gas_checklist(grids["A"], staff)
    for person in (staff, branch_secretary):
        client = english_client(person)
        response = client.post(
            reverse("grids:checklist_item_create", args=[grids["A"].pk]),
            {"text": f"消防通道畅通 {person.username}", "site_type": "small_venue"},
        )
        assert response.status_code == 302
    assert texts(grids["A"])[-2:] == ["消防通道畅通 staff1", "消防通道畅通 secretary1"]
    # The secretary's branch is grids A and B: grid C is not theirs to see, let alone edit.
    client = english_client(branch_secretary)
    assert client.get(reverse("grids:checklist_item_create", args=[grids["C"].pk])).status_code == 404
    assert client.get(reverse("grids:checklist", args=[grids["B"].pk])).context["can_edit"] is True


def test_a_grid_worker_cannot_edit_the_checklist(staff, grid_worker, grids, on_duty):
    gas_checklist(grids["A"], staff)
    hose = item(grids["A"], "restaurant_gas.metal_hose")
    client = english_client(grid_worker)
    page = client.get(reverse("grids:checklist", args=[grids["A"].pk]))
    assert page.status_code == 200
    assert page.context["can_edit"] is False
    assert b'data-testid="new-item"' not in page.content
    before = texts(grids["A"])
    refused = [
        client.get(reverse("grids:checklist_item_create", args=[grids["A"].pk])),
        client.post(reverse("grids:checklist_item_create", args=[grids["A"].pk]), {"text": "x", "site_type": "other"}),
        client.post(reverse("grids:checklist_apply_template", args=[grids["A"].pk]), {"site_type": "parking"}),
        client.post(reverse("grids:checklist_item_edit", args=[hose.pk]), {"text": "x", "site_type": "other"}),
        client.post(reverse("grids:checklist_item_move", args=[hose.pk]), {"direction": "up"}),
        client.post(reverse("grids:checklist_item_retire", args=[hose.pk])),
    ]
    assert [response.status_code for response in refused] == [403] * len(refused)
    assert texts(grids["A"]) == before


def test_an_edit_keeps_the_items_history(staff, grids):
    gas_checklist(grids["A"], staff)
    hose = item(grids["A"], "restaurant_gas.metal_hose")
    client = english_client(staff)
    response = client.post(
        reverse("grids:checklist_item_edit", args=[hose.pk]),
        {"text": "金属软管不超过1.5米", "site_type": "restaurant_gas", "guidance": ""},
    )
    assert response.status_code == 302
    hose.refresh_from_db()
    assert hose.text == "金属软管不超过1.5米"
    assert [record.text for record in hose.history.order_by("history_date")][0].startswith("灶具与气源使用金属软管")
    assert hose.history.latest().history_user == staff


def test_items_move_up_and_down(staff, grids):
    first, second, third = gas_checklist(grids["A"], staff)[:3]
    client = english_client(staff)
    client.post(reverse("grids:checklist_item_move", args=[third.pk]), {"direction": "up"})
    assert texts(grids["A"])[:3] == [first.text, third.text, second.text]
    client.post(reverse("grids:checklist_item_move", args=[first.pk]), {"direction": "down"})
    assert texts(grids["A"])[:3] == [third.text, first.text, second.text]
    client.post(reverse("grids:checklist_item_move", args=[third.pk]), {"direction": "up"})  # already first
    assert texts(grids["A"])[:3] == [third.text, first.text, second.text]


def test_a_used_item_is_retired_never_deleted(staff, grid_worker, grids, on_duty):
    items = gas_checklist(grids["A"], staff)
    hose = item(grids["A"], "restaurant_gas.metal_hose")
    old = walked_patrol(grids["A"], grid_worker, {hose: Outcome.FAIL})
    client = english_client(staff)
    response = client.post(reverse("grids:checklist_item_retire", args=[hose.pk]), follow=True)
    assert "Its past results stay." in response.content.decode()
    hose.refresh_from_db()
    assert hose.is_retired
    assert hose not in ChecklistItem.objects.filter(checklist__grid=grids["A"]).in_use()
    # The old patrol still shows its result; a new patrol no longer has the item.
    assert hose in old.items()
    assert old.results.get().item == hose
    new = walked_patrol(grids["A"], grid_worker, {})
    assert hose not in new.items()
    assert len(new.items()) == len(items) - 1
    with pytest.raises(ProtectedError):
        hose.delete()
    page = client.get(reverse("grids:checklist", args=[grids["A"].pk]))
    assert hose in page.context["retired"]
    client.post(reverse("grids:checklist_item_restore", args=[hose.pk]))
    hose.refresh_from_db()
    assert not hose.is_retired


def test_seasonal_items_only_in_their_months(staff, grid_worker, grids, on_duty):
    apply_checklist_template(grid=grids["A"], site_type="flood_point", by=staff)
    apply_checklist_template(grid=grids["A"], site_type="sanitation", by=staff)
    zone = timezone.get_current_timezone()
    july = walked_patrol(grids["A"], grid_worker, {}, started_at=datetime.datetime(2025, 7, 10, 9, tzinfo=zone))
    november = walked_patrol(grids["A"], grid_worker, {}, started_at=datetime.datetime(2025, 11, 10, 9, tzinfo=zone))
    assert {entry.site_type for entry in july.items()} == {"flood_point", "sanitation"}
    assert {entry.site_type for entry in november.items()} == {"sanitation"}
    # A season over the new year (November to February).
    winter = ChecklistItem.objects.filter(checklist__grid=grids["A"], site_type="sanitation").first()
    winter.season_from, winter.season_until = 11, 2
    winter.save()
    months = [month for month in range(1, 13) if ChecklistItem.objects.filter(pk=winter.pk).in_season(month).exists()]
    assert months == [1, 2, 11, 12]
    assert [month for month in range(1, 13) if winter.applies_in(month)] == months


def test_a_season_needs_both_months(staff, grids):
    response = english_client(staff).post(
        reverse("grids:checklist_item_create", args=[grids["A"].pk]),
        {"text": "防汛沙袋到位", "site_type": "flood_point", "season_from": 6},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["season_until"] == ["A season needs both its first and its last month."]
    assert not ChecklistItem.objects.exists()
