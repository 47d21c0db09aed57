"""The double-submit guard in a real browser at a phone's size: a grid worker records a
finding, goes Back to the form and taps Save again; the finding already made is shown and
there is still one (Chromium fetches the page anew on Back: static/js/form_token.js puts the
history entry's first token back)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from grids.models import Finding
from tests.api import matrix
from tests.conftest import assert_no_csp_violation, log_in, watch_console
from tests.grids.people_world import build_people

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(request):
    return build_people(matrix.build_cast(request))


def test_back_and_save_again_shows_the_finding_already_made(live_server, phone, people):
    console = watch_console(phone)
    log_in(phone, live_server.url, "grid1", next_path="/grids/findings/")
    phone.click("main a[href='/grids/findings/new/']")
    phone.wait_for_url(f"{live_server.url}/grids/findings/new/")
    phone.select_option("#id_grid", str(people["grids"]["A"].pk))
    phone.fill("#id_description", "楼道堆放纸箱")
    phone.click("main form button[type=submit]")
    phone.wait_for_url(f"{live_server.url}/grids/findings/*/")
    finding = Finding.objects.get()
    detail = f"{live_server.url}/grids/findings/{finding.pk}/"
    assert phone.url == detail

    phone.go_back()
    phone.wait_for_url(f"{live_server.url}/grids/findings/new/")
    if not phone.input_value("#id_description"):  # a browser that reloads the page on Back
        phone.fill("#id_description", "楼道堆放纸箱")
    phone.click("main form button[type=submit]")
    phone.wait_for_url(detail)
    expect(phone.locator(".messages .message.info")).to_have_count(1)
    assert Finding.objects.count() == 1
    # Opening the form anew is a new form: its finding is made.
    phone.goto(f"{live_server.url}/grids/findings/")
    phone.click("main a[href='/grids/findings/new/']")
    phone.select_option("#id_grid", str(people["grids"]["A"].pk))
    phone.fill("#id_description", "占道经营")
    phone.click("main form button[type=submit]")
    phone.wait_for_url(lambda url: url.rstrip("/").split("/")[-1].isdigit() and url != detail)
    assert Finding.objects.count() == 2
    assert_no_csp_violation(console)
