"""A finding's timeline on the phone, in a real browser, on the demo data: the grid worker of
网格01 opens the article's 鲁园老年站 finding, reads its two follow-ups in the timeline, closes it
with a note and sees the closing step appear, in Chinese, without sideways scrolling at 390 px."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from grids.models import Finding, FindingStatus
from shanglong.demo import DEMO_PASSWORD
from tests.conftest import assert_no_csp_violation, log_in, screenshot, watch_console

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_data(media_root) -> None:
    call_command("seed_demo", stdout=io.StringIO())


def test_a_grid_worker_reads_the_timeline_and_closes_a_finding_on_the_phone(live_server, phone, demo_data):
    finding = Finding.objects.get(place="鲁园老年站平房")
    console = watch_console(phone)
    log_in(phone, live_server.url, "grid", password=DEMO_PASSWORD)
    phone.goto(f"{live_server.url}/grids/findings/{finding.pk}/")
    steps = phone.locator("[data-testid=timeline-step]")
    expect(steps).to_have_count(2)
    expect(steps.first).to_contain_text("已跟进")
    expect(steps.first).to_contain_text("待处理 → 已跟进")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    phone.fill("textarea[name=note]", "雨排管已安装完毕,雨后路面无积水。")
    phone.check("input[name=close]")
    phone.click("[data-testid=add-follow-up]")
    expect(steps).to_have_count(3)
    expect(steps.last).to_contain_text("已跟进 → 已关闭")
    expect(steps.last).to_contain_text("雨排管已安装完毕")
    expect(phone.locator("[data-testid=add-follow-up]")).to_have_count(0)  # closed: no more steps offered
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "finding-timeline-phone")
    assert_no_csp_violation(console)
    finding.refresh_from_db()
    assert finding.status == FindingStatus.CLOSED
