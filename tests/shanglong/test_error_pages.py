"""The portal's own 500 page."""

from __future__ import annotations

import pytest

from tests.conftest import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.shanglong.failing_urls")]


def test_a_server_error_shows_the_portals_page_without_touching_the_database(staff, django_assert_num_queries):
    client = client_for(staff)
    client.raise_request_exception = False
    # No query: the error page must show even when the database (or the session store behind
    # the logged-in visitor) is what failed.
    with django_assert_num_queries(0):
        response = client.get("/failing/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "出错了" in page
    assert '<html lang="zh-Hans">' in page


def test_the_500_page_speaks_the_visitors_language(client):
    client.raise_request_exception = False
    response = client.get("/failing/", headers={"accept-language": "en"})
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page
    assert '<html lang="en">' in page
