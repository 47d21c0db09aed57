"""The grid map in a real browser, on the demo data: a grid worker on a phone sees all 13 grid
boundaries and who is on duty in their own grid; staff on a desktop see the staff navigation.
No Content-Security-Policy violation on the way."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from shanglong.demo import DEMO_PASSWORD
from tests.conftest import assert_no_csp_violation, log_in, screenshot, watch_console

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_data() -> None:
    call_command("seed_demo", stdout=io.StringIO())


def test_grid_worker_sees_every_grid_on_the_phone_map(live_server, phone, demo_data):
    console = watch_console(phone)
    log_in(phone, live_server.url, "grid", password=DEMO_PASSWORD)
    phone.goto(f"{live_server.url}/grids/map/")
    expect(phone.locator("path.grid-shape.leaflet-interactive")).to_have_count(13)
    expect(phone.locator("#grid-map")).to_have_attribute("data-grids-drawn", "13")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    # Only the compound of the worker's own grid is marked.
    expect(phone.locator("path.compound-marker")).to_have_count(1)
    # Leaflet's own zoom buttons speak the page's language.
    expect(phone.locator(".leaflet-control-zoom-in")).to_have_attribute("title", "放大")
    expect(phone.locator(".leaflet-control-zoom-out")).to_have_attribute("title", "缩小")
    screenshot(phone, "grids-map-grid-worker-phone")

    # The first grid drawn is 网格01, the worker's own: its people on duty are shown.
    phone.locator("path.grid-shape").first.click(position={"x": 8, "y": 8})
    panel = phone.locator("#grid-panel")
    expect(panel).to_have_attribute("data-grid", "01")
    expect(panel).to_contain_text("第一网格党支部")
    expect(panel).to_contain_text("张伟")
    expect(panel).to_contain_text("王磊")
    expect(phone.locator(".leaflet-popup")).to_be_visible()
    phone.wait_for_timeout(400)  # the popup's pan animation
    zoom_box = phone.locator(".leaflet-control-zoom").bounding_box()
    popup_box = phone.locator(".leaflet-popup-content-wrapper").bounding_box()
    assert zoom_box
    assert popup_box
    assert not overlaps(zoom_box, popup_box), (zoom_box, popup_box)
    screenshot(phone, "grids-map-grid-worker-phone-popup")

    # A neighbouring grid: its branch, but nobody's name.
    phone.locator("path.grid-shape").nth(12).click(position={"x": 8, "y": 8})
    expect(panel).to_have_attribute("data-grid", "13")
    expect(panel).to_contain_text("第四网格党支部")
    expect(panel).not_to_contain_text("胡斌")
    assert_no_csp_violation(console)


def overlaps(first: dict, second: dict) -> bool:
    return not (
        first["x"] + first["width"] <= second["x"]
        or second["x"] + second["width"] <= first["x"]
        or first["y"] + first["height"] <= second["y"]
        or second["y"] + second["height"] <= first["y"]
    )


def test_the_phone_map_reads_as_a_place_and_its_popup_clears_the_zoom_buttons(live_server, phone, demo_data):
    """With no tile layer (the demo), the streets, the commercial buildings and the compounds are
    drawn and labelled under the grids; a grid's popup opens clear of the zoom buttons."""
    console = watch_console(phone)
    log_in(phone, live_server.url, "staff", password=DEMO_PASSWORD)
    phone.goto(f"{live_server.url}/grids/map/")
    expect(phone.locator("#grid-map")).to_have_attribute("data-basemap-drawn", "7")
    for street in ["商河路", "西二路", "西三路"]:
        expect(phone.locator(".street-label", has_text=street)).to_be_visible()
    for building in ["商业大厦", "供销商场", "乐活城", "韩国城"]:
        expect(phone.locator(".building-label", has_text=building)).to_be_visible()
    expect(phone.locator(".leaflet-tooltip.compound-label")).to_have_count(13)
    expect(phone.locator(".compound-label", has_text="鲁园小区")).to_be_visible()
    expect(phone.locator("path.street-line")).to_have_count(3)
    expect(phone.locator("path.building-shape")).to_have_count(4)
    expect(phone.locator("[data-testid=map-key]")).to_be_visible()
    # The base map lies under the grids: its pane is below Leaflet's overlay pane.
    assert phone.evaluate(
        "Number(getComputedStyle(document.querySelector('.leaflet-basemap-pane')).zIndex)"
        " < Number(getComputedStyle(document.querySelector('.leaflet-overlay-pane')).zIndex)"
    )
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "grids-map-basemap-phone")

    # 网格01 is the top-left grid, under the zoom buttons: its popup is panned clear of them.
    phone.locator("path.grid-shape").first.click(position={"x": 8, "y": 8})
    popup = phone.locator(".leaflet-popup")
    expect(popup).to_be_visible()
    phone.wait_for_timeout(600)  # the popup's pan animation
    zoom = phone.locator(".leaflet-control-zoom").bounding_box()
    popup_box = phone.locator(".leaflet-popup-content-wrapper").bounding_box()
    map_box = phone.locator("#grid-map").bounding_box()
    assert zoom
    assert popup_box
    assert map_box
    assert not overlaps(zoom, popup_box), (zoom, popup_box)
    assert popup_box["x"] >= map_box["x"]
    assert popup_box["x"] + popup_box["width"] <= map_box["x"] + map_box["width"]
    expect(phone.locator(".leaflet-popup-content")).to_contain_text("网格01")
    screenshot(phone, "grids-map-basemap-phone-popup")
    assert_no_csp_violation(console)


def test_with_a_tile_layer_the_base_map_is_lighter_and_can_be_hidden(live_server, phone, demo_data, settings):
    # Any image served by the site stands in for the tile server (img-src 'self').
    vec = "/static/leaflet/images/layers.png?l=vec&z={z}&x={x}&y={y}"
    cva = "/static/leaflet/images/layers.png?l=cva&z={z}&x={x}&y={y}"
    settings.MAP_TILE_URL = f"{vec} {cva}"
    settings.MAP_TILE_ATTRIBUTION = "test tiles"
    console = watch_console(phone)
    log_in(phone, live_server.url, "staff", password=DEMO_PASSWORD)
    phone.goto(f"{live_server.url}/grids/map/")
    expect(phone.locator("#grid-map")).to_have_class(re.compile(r"\bhas-tiles\b"))
    expect(phone.locator("img.leaflet-tile[src*='l=vec']").first).to_be_attached()
    expect(phone.locator("img.leaflet-tile[src*='l=cva']").first).to_be_attached()  # the labels' layer
    assert phone.evaluate("Number(getComputedStyle(document.querySelector('.leaflet-basemap-pane')).opacity)") < 1
    street = phone.locator(".street-label", has_text="商河路")
    expect(street).to_be_visible()
    toggle = phone.locator(".leaflet-control-layers input[type=checkbox]")
    expect(toggle).to_be_checked()
    toggle.uncheck()
    expect(street).to_have_count(0)
    expect(phone.locator("path.street-line")).to_have_count(0)
    expect(phone.locator("path.grid-shape")).to_have_count(13)  # the grids stay
    toggle.check()
    expect(street).to_be_visible()
    assert_no_csp_violation(console)


def test_staff_on_a_desktop_see_the_staff_navigation_and_the_map(live_server, desktop, demo_data):
    console = watch_console(desktop)
    log_in(desktop, live_server.url, "staff", password=DEMO_PASSWORD)
    for key in ["grids", "grid_map", "accounts"]:
        expect(desktop.locator(f'[data-nav="{key}"]')).to_be_visible()
    desktop.click('[data-nav="grids"]')
    desktop.wait_for_url(f"{live_server.url}/grids/")
    # The 13 ordinary grids and the 4 dedicated grids (专属网格) of the commercial buildings.
    expect(desktop.locator("[data-testid=grid-list] tbody tr")).to_have_count(17)
    expect(desktop.locator("[data-testid=new-grid]")).to_be_visible()
    screenshot(desktop, "grids-list-staff-desktop")

    desktop.click('[data-nav="grid_map"]')
    desktop.wait_for_url(f"{live_server.url}/grids/map/")
    expect(desktop.locator("path.grid-shape")).to_have_count(13)
    expect(desktop.locator("path.dedicated-grid-shape")).to_have_count(4)
    expect(desktop.locator("#grid-map")).to_have_attribute("data-dedicated-drawn", "4")
    expect(desktop.locator("path.compound-marker")).to_have_count(13)
    desktop.locator("path.grid-shape").nth(4).click(position={"x": 8, "y": 8})
    expect(desktop.locator("#grid-panel")).to_contain_text("第二网格党支部")
    expect(desktop.locator("#grid-panel")).to_contain_text("赵敏")  # 网格05's head, shown to staff
    screenshot(desktop, "grids-map-staff-desktop")

    desktop.goto(f"{live_server.url}/grids/organisations/")
    expect(desktop.locator("[data-testid=organisation-tree]")).to_contain_text("商河路商圈综合党委")
    screenshot(desktop, "grids-organisations-staff-desktop")
    assert_no_csp_violation(console)


def test_staff_on_a_phone_fix_a_crossing_boundary(live_server, phone, demo_data):
    console = watch_console(phone)
    log_in(phone, live_server.url, "staff", password=DEMO_PASSWORD)
    phone.goto(f"{live_server.url}/grids/new/")
    phone.fill("#id_code", "14")
    phone.fill("#id_name", "网格14")
    bow_tie = (
        '{"type": "Polygon", "coordinates": [[[118.492, 37.461], [118.494, 37.463], [118.494, 37.461], '
        "[118.492, 37.463], [118.492, 37.461]]]}"
    )
    phone.fill("#id_boundary", bow_tie)
    phone.click("main form button[type=submit]")
    expect(phone.locator("#id_boundary_error")).to_be_visible()
    expect(phone.locator("#id_name")).to_have_value("网格14")
    assert "118.494, 37.463" in phone.input_value("#id_boundary")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "grids-form-error-phone")
    phone.fill(
        "#id_boundary",
        '{"type": "Polygon", "coordinates": [[[118.492, 37.461], [118.494, 37.461], [118.494, 37.463], '
        "[118.492, 37.463], [118.492, 37.461]]]}",
    )
    phone.click("main form button[type=submit]")
    expect(phone.locator("h1")).to_contain_text("网格14")
    assert_no_csp_violation(console)
