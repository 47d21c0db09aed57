"""The phone-size walk of issue 10 in a real browser at 390×844, on the demo data: 不合格 asks
for a line before the finding is saved and the finding carries it; a refused form with photos
says they must be chosen again; the second community's staff see 文汇社区 in the header."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from grids.models import Finding
from shanglong.demo import DEMO_PASSWORD
from tests.conftest import assert_no_csp_violation, log_in, screenshot, watch_console
from tests.grids.patrol_world import jpeg_with_location

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_data(media_root) -> None:
    call_command("seed_demo", stdout=io.StringIO())


def test_failing_an_item_asks_for_a_line_and_the_finding_carries_it(live_server, phone, demo_data):
    console = watch_console(phone)
    log_in(phone, live_server.url, "grid05", password=DEMO_PASSWORD)
    phone.goto(f"{live_server.url}/grids/patrols/")
    phone.click("[data-testid=start-patrol-05]")
    phone.wait_for_url(re.compile(r"/grids/patrols/\d+/$"))
    before = Finding.objects.count()
    hose = phone.locator("li.patrol-item", has_text="金属软管")
    hose.locator("[data-testid=mark-fail]").click()
    line = hose.locator("[data-testid=fail-line]")
    expect(line).to_be_visible()
    expect(line).to_be_focused()
    assert Finding.objects.count() == before  # nothing saved before the line is given
    hose.locator("[data-testid=fail-line-save]").click()  # an empty line is asked for again
    expect(line).to_be_focused()
    line.fill("后厨软管老化开裂")
    hose.locator("[data-testid=fail-line-save]").click()
    item = phone.locator("li.patrol-item", has_text="金属软管")
    expect(item.locator("[data-testid=mark-fail]")).to_have_attribute("aria-pressed", "true")
    expect(item.locator("[data-testid=finding-title]")).to_have_text("后厨软管老化开裂")
    finding = Finding.objects.latest("pk")
    assert (finding.description, finding.title) == ("后厨软管老化开裂", "后厨软管老化开裂")
    box = item.locator("[data-testid=mark-fail]").bounding_box()
    assert box is not None
    assert box["height"] >= 44
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "phone-walk-fail-line")

    # 结束巡查 with items left asks, saying how many; dismissed, the patrol stays open.
    questions: list[str] = []
    phone.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    phone.click("[data-testid=end-patrol]")
    expect(phone.locator("[data-testid=patrol-status].status-in_progress")).to_be_visible()
    left = len(phone.locator("li.patrol-item").all()) - 1
    assert questions
    assert re.search(rf"还有 {left} 项未检查|{left} items are not checked", questions[0])
    phone.goto(f"{live_server.url}/grids/findings/")
    expect(phone.locator("[data-testid=finding-list] .finding-title").first).to_have_text("后厨软管老化开裂")
    assert_no_csp_violation(console)


def test_a_refused_form_with_photos_says_they_must_be_chosen_again(live_server, phone, demo_data):
    log_in(phone, live_server.url, "grid05", password=DEMO_PASSWORD)
    phone.goto(f"{live_server.url}/grids/findings/new/")
    phone.locator("input[type=file]").set_input_files(
        files=[{"name": "drain.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_location((640, 480))}]
    )
    phone.click("main form button[type=submit].primary")  # no description: refused
    photos = phone.locator(".field:has(input[type=file])")
    expect(photos.locator(".error")).to_contain_text(re.compile("重新选择|choose them again"))
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "phone-walk-photos-again")


def test_the_second_communitys_staff_see_their_community_in_the_header(live_server, phone, demo_data):
    log_in(phone, live_server.url, "staff2", password=DEMO_PASSWORD)
    expect(phone.locator("[data-testid=brand-place]")).to_have_text("文汇社区")
    expect(phone.locator("[data-testid=footer-place]")).to_contain_text("文汇社区")
    expect(phone.locator("[data-testid=footer-place]")).not_to_contain_text("商隆")
