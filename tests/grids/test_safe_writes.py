"""Safe writes through the pages and the API: a create form sent twice (Back, then Save) makes
one record; a GET of any list page or list endpoint writes nothing; an empty PATCH writes no
history row; with the broker unreachable a write that queues work answers success once."""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.urls import NoReverseMatch, URLResolver, get_resolver, reverse
from django.utils import timezone

from grids.models import Compound, ExportApproval, Finding, GroupAccessRule, GroupKind, GroupMembership, Resident
from shanglong.celery import app
from shanglong.models import Community, FormSubmission, Notification
from tests.api import matrix
from tests.conftest import client_for
from tests.grids.people_world import build_people
from tests.grids.test_people_registry import resident_form

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="form_token" value="([A-Za-z0-9_-]+)"')


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def people(request):
    return build_people(matrix.build_cast(request))


def form_token(client, url: str) -> str:
    """Open the create form, as the person does before filling it in, and read its token."""
    page = client.get(url)
    assert page.status_code == 200
    found = TOKEN.findall(page.content.decode())
    assert found, "the form carries no one-time token"
    return found[0]


def send_twice(client, url: str, data: dict) -> tuple:
    """Send the form, then go Back and send the same page again."""
    data = {**data, "form_token": form_token(client, url)}
    first = client.post(url, data)
    assert first.status_code == 302, getattr(first, "context", {}) and first.context["form"].errors
    second = client.post(url, data)
    return first, second


def assert_shown_again(first, second) -> None:
    assert second.status_code == 302
    assert second.url == first.url
    said = [str(message) for message in get_messages(second.wsgi_request)]
    assert any("already sent" in text for text in said), said


# --- Back + resubmit ------------------------------------------------------------------------


def test_back_and_resubmit_makes_one_finding(people, grid_worker):
    client = client_for(grid_worker)
    url = reverse("grids:finding_create")
    first, second = send_twice(
        client, url, {"grid": people["grids"]["A"].pk, "description": "楼道堆放纸箱", "place": "2号楼"}
    )
    assert Finding.objects.count() == 1
    assert first.url == reverse("grids:finding_detail", args=[Finding.objects.get().pk])
    assert_shown_again(first, second)
    sent = FormSubmission.objects.get()
    assert (sent.user, sent.model_label, sent.object_id) == (
        grid_worker,
        "grids.Finding",
        str(Finding.objects.get().pk),
    )


def test_back_and_resubmit_makes_one_resident(people, grid_worker):
    client = client_for(grid_worker)
    before = Resident.objects.count()
    first, second = send_twice(client, reverse("grids:resident_create"), resident_form(people))
    assert Resident.objects.count() == before + 1
    assert Resident.objects.filter(name="新居民").count() == 1
    assert_shown_again(first, second)


def test_back_and_resubmit_makes_one_compound(people, staff):
    client = client_for(staff)
    before = Compound.objects.count()
    first, second = send_twice(
        client,
        reverse("grids:compound_create"),
        {
            "grid": people["grids"]["A"].pk,
            "name": "新小区",
            "address": "",
            "buildings": 3,
            "latitude": "",
            "longitude": "",
        },
    )
    assert Compound.objects.count() == before + 1
    assert_shown_again(first, second)


def test_back_and_resubmit_makes_one_group_membership(people, community_admin, department):
    resident = people["residents"]["A"]
    client = client_for(community_admin)
    before = GroupMembership.objects.filter(resident=resident).count()
    first, second = send_twice(
        client,
        reverse("grids:membership_create", args=[resident.pk]),
        {"kind": GroupKind.LOW_INCOME, "since": "2025-03-01", "department": department.pk, "level": "", "note": ""},
    )
    assert GroupMembership.objects.filter(resident=resident).count() == before + 1
    assert_shown_again(first, second)


def test_a_form_shown_again_with_errors_keeps_its_token(people, grid_worker):
    """The token is spent only by a sending that made the record."""
    client = client_for(grid_worker)
    url = reverse("grids:finding_create")
    token = form_token(client, url)
    refused = client.post(url, {"grid": people["grids"]["A"].pk, "description": "", "form_token": token})
    assert refused.status_code == 400
    assert TOKEN.findall(refused.content.decode()) == [token]
    assert not FormSubmission.objects.exists()
    data = {"grid": people["grids"]["A"].pk, "description": "占道经营", "form_token": token}
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302
    assert Finding.objects.count() == 1


def test_a_new_form_makes_a_new_record(people, grid_worker):
    """Opening the form again gives a new token: a second finding on purpose is made."""
    client = client_for(grid_worker)
    url = reverse("grids:finding_create")
    for description in ("一", "二"):
        data = {"grid": people["grids"]["A"].pk, "description": description, "form_token": form_token(client, url)}
        assert client.post(url, data).status_code == 302
    assert Finding.objects.count() == 2


def test_a_post_without_a_token_is_served_as_before(people, grid_worker):
    client = client_for(grid_worker)
    data = {"grid": people["grids"]["A"].pk, "description": "无令牌"}
    client.post(reverse("grids:finding_create"), data)
    client.post(reverse("grids:finding_create"), data)
    assert Finding.objects.count() == 2
    assert not FormSubmission.objects.exists()


def test_a_token_is_one_persons(people, grid_worker, other_grid_worker):
    """Another person's copy of a token does not send them to the first person's record."""
    url = reverse("grids:finding_create")
    token = form_token(client_for(grid_worker), url)
    client_for(grid_worker).post(url, {"grid": people["grids"]["A"].pk, "description": "甲", "form_token": token})
    response = client_for(other_grid_worker).post(
        url, {"grid": people["grids"]["B"].pk, "description": "乙", "form_token": token}
    )
    assert response.status_code in (302, 400)
    assert not Finding.objects.filter(grid=people["grids"]["A"], description="乙").exists()


# --- A GET never writes ---------------------------------------------------------------------


def _named_routes(resolver: URLResolver, namespace: str = "") -> Iterator[str]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _named_routes(pattern, inner)
        elif pattern.name:
            yield namespace + pattern.name


# GETs that write on purpose: an export is recorded in the access log (DESIGN: every unmasked
# export is logged), and logging out is not a read.
WRITING_ON_PURPOSE = re.compile(r"(^|:|_)export($|_)|logout")


def list_urls() -> list[str]:
    """Every page and API endpoint that takes no argument (the lists, the start pages)."""
    urls = set()
    for name in _named_routes(get_resolver()):
        if name.startswith("admin:") or WRITING_ON_PURPOSE.search(name.split(":")[-1]):
            continue
        with contextlib.suppress(NoReverseMatch):
            urls.add(reverse(name))
    year = timezone.localdate().year
    urls.add(reverse("grids:in_work_report_list", args=[year]))
    return sorted(urls)


def row_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608 - names from the schema
            counts[table] = cursor.fetchone()[0]
    return counts


def test_the_group_access_table_is_made_with_the_community(subdistrict):
    community = Community.objects.create(subdistrict=subdistrict, name="新社区", code="t-new")
    rules = GroupAccessRule.objects.filter(community=community)
    assert sorted(rules.values_list("kind", flat=True)) == sorted(GroupKind.values)
    assert GroupAccessRule.history.filter(community_id=community.pk, history_type="+").count() == len(GroupKind.values)


def test_list_gets_write_nothing(request, people, community):
    """Every list page and list endpoint, for each kind of person, leaves every table as it was;
    also for a community whose group access table was never made (the pages show its defaults)."""
    GroupAccessRule.objects.filter(community=community).delete()
    clients = [
        client_for(request.getfixturevalue(person))
        for person in ("community_admin", "staff", "grid_worker", "department_user", "subdistrict_user")
    ]
    urls = list_urls()
    assert reverse("grids:group_access") in urls
    assert reverse("api:groupaccessrule-list") in urls
    before = row_counts()
    statuses = {}
    for client in clients:
        for url in urls:
            statuses[url] = client.get(url).status_code
    assert row_counts() == before
    assert statuses[reverse("grids:resident_list")] == 200
    assert not GroupAccessRule.objects.filter(community=community).exists()


def test_the_group_access_page_shows_the_defaults_and_saves_a_change(people, community, community_admin):
    """A kind without a row yet (one added after the community was made) is shown at its
    defaults, and its row is written when the admin saves the table."""
    GroupAccessRule.objects.filter(community=community, kind=GroupKind.DRUG_USER).delete()
    client = client_for(community_admin)
    page = client.get(reverse("grids:group_access"))
    assert [form.prefix for form in page.context["forms"]] == list(GroupKind.values)
    drug_users = next(form for form in page.context["forms"] if form.prefix == GroupKind.DRUG_USER)
    assert (drug_users.instance.grid_workers, drug_users.instance.grid_helpers) == (False, False)
    # The admin gives drug users to the grid workers by duty (the other kinds as they are).
    data = {f"{kind}-{field}": "on" for kind in GroupKind.values for field in ("grid_workers", "department")}
    del data[f"{GroupKind.SEVERE_MENTAL_DISORDER}-grid_workers"]
    assert client.post(reverse("grids:group_access"), data).status_code == 302
    rule = GroupAccessRule.objects.get(community=community, kind=GroupKind.DRUG_USER)
    assert (rule.grid_workers, rule.grid_helpers) == (True, False)


# --- An empty PATCH -------------------------------------------------------------------------


def test_an_empty_patch_writes_no_history_row(people, staff):
    resident = people["residents"]["A"]
    url = reverse("api:resident-detail", args=[resident.pk])
    client = client_for(staff)
    history = Resident.history.filter(id=resident.pk).count()
    for body in ({}, {"id": 12345}):
        response = client.patch(url, body, content_type="application/json")
        assert response.status_code == 200, response.content
        assert response.json()["name"] == resident.name
    assert Resident.history.filter(id=resident.pk).count() == history
    response = client.patch(url, {"mobile": "13900001111"}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert Resident.history.filter(id=resident.pk).count() == history + 1


# --- The broker unreachable -----------------------------------------------------------------


@contextlib.contextmanager
def unreachable_broker() -> Iterator[None]:
    """This process's Celery app sends to a port where nothing listens."""
    keys = ("broker_url", "broker_read_url", "broker_write_url", "broker_transport_options")
    saved = {key: app.conf[key] for key in keys}

    def drop_connections() -> None:
        if app._pool is not None:
            app._pool.force_close_all()
        app._pool = None
        app.amqp._producer_pool = None

    drop_connections()
    app.conf.update(
        broker_url="redis://127.0.0.1:1/0",
        broker_read_url=None,
        broker_write_url=None,
        broker_transport_options={"socket_connect_timeout": 0.5},
    )
    try:
        yield
    finally:
        drop_connections()
        app.conf.update(saved)


@pytest.mark.django_db(transaction=True)
def test_an_export_request_with_the_broker_down_succeeds_once(request, caplog):
    """The request commits, its notifications wait for the sweep, and sending the form again
    (the retry a 500 used to invite) makes no second request."""
    people = build_people(matrix.build_cast(request))
    assert people
    grid_worker = request.getfixturevalue("grid_worker")
    client = client_for(grid_worker)
    url = reverse("grids:export_requests")
    data = {"reason": "民政办年度复核", "form_token": form_token(client, url)}
    with unreachable_broker(), caplog.at_level("WARNING", logger="shanglong.queueing"):
        first = client.post(url, data)
        second = client.post(url, data)
    assert first.status_code == 302
    assert second.status_code == 302
    assert second.url == first.url
    assert ExportApproval.objects.count() == 1
    assert Notification.objects.filter(delivered_at__isnull=True).exists()
    assert "Could not queue shanglong.tasks.deliver_notifications_task" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_two_sendings_at_the_same_moment_make_one_finding(request):
    """A double tap: both sendings miss the token at first; the second one's insert of the
    token fails once the first commits, and its finding is rolled back with it."""
    people = build_people(matrix.build_cast(request))
    grid_worker = request.getfixturevalue("grid_worker")
    url = reverse("grids:finding_create")
    data = {
        "grid": people["grids"]["A"].pk,
        "description": "同时提交",
        "form_token": form_token(client_for(grid_worker), url),
    }
    clients = [client_for(grid_worker), client_for(grid_worker)]
    barrier = threading.Barrier(2)
    answers: list[object] = []

    def send(client) -> None:
        try:
            barrier.wait(timeout=10)
            answers.append(client.post(url, data).status_code)
        except BaseException as error:  # reported by the main thread
            answers.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert answers == [302, 302]
    assert Finding.objects.count() == 1
    assert FormSubmission.objects.count() == 1
