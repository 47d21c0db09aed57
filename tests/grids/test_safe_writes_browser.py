"""The double-submit guard in a real browser at a phone's size: a grid worker records a
finding, goes Back to the filled-in form and taps Save again; the finding already made is
shown and there is still one."""

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
    log_in(phone, live_server.url, "grid1", next_path="/grids/findings/new/")
    phone.select_option("#id_grid", str(people["grids"]["A"].pk))
    phone.fill("#id_description", "楼道堆放纸箱")
    print("TOKEN0", phone.input_value("input[name=form_token]"))
    phone.click("main form button[type=submit]")
    phone.wait_for_url(f"{live_server.url}/grids/findings/*/")
    finding = Finding.objects.get()
    detail = f"{live_server.url}/grids/findings/{finding.pk}/"
    assert phone.url == detail

    print("TOKEN1", phone.content().count("form_token"))
    phone.go_back()
    phone.wait_for_url(f"{live_server.url}/grids/findings/new/")
    if not phone.input_value("#id_description"):  # a browser that reloads the page on Back
        phone.fill("#id_description", "楼道堆放纸箱")
    print("TOKEN", phone.input_value("input[name=form_token]"), "DESC", phone.input_value("#id_description"))
    phone.click("main form button[type=submit]")
    phone.wait_for_timeout(3000)
    print("URL", phone.url, Finding.objects.count(), list(Finding.objects.values_list("pk", flat=True)))
    print(phone.content()[:3000])
    phone.wait_for_url(detail)
    expect(phone.locator(".messages .message.info")).to_have_count(1)
    assert Finding.objects.count() == 1
    assert_no_csp_violation(console)
