"""The one family of refusals (shanglong.refusals) at work: real grids actions refused through the
API (the refusal's status, {"detail", "code"} and the field it names) and through the pages (on
the form with what was typed kept and the refusal's status, or, after a POST button, as a message
on the page the person came from); RefusalMiddleware and refuse_form on their own; and each
refusal of the grids app with its own code and message."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django import forms
from django.contrib.auth.decorators import login_not_required
from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.html import escape

from grids.actions import (
    AssignmentAlreadyEnded,
    ExportAlreadyDecided,
    FindingNotAllowed,
    ItemNotOnPatrol,
    PatrolAlreadyEnded,
    ResidentAlreadyMovedOut,
    TooManyPhotos,
    add_checklist_item,
    decide_export_request,
    describe_finding,
    end_patrol,
    mark_patrol_item,
    move_out_resident,
    request_unmasked_export,
    retire_checklist_item,
    start_patrol,
)
from grids.models import MAX_FINDING_PHOTOS, ExportStatus, Outcome, Resident, Visit
from shanglong.refusals import ActionRefused, Conflict, NotAllowed, Refusal, refuse_form
from shanglong.urls import urlpatterns as portal_urlpatterns
from tests.api import matrix
from tests.grids.ledger_world import enterprise
from tests.grids.patrol_world import english_client, photo_upload
from tests.grids.people_world import build_people

pytestmark = pytest.mark.django_db

KINDS = {ActionRefused: 400, NotAllowed: 403, Conflict: 409}
FETCH = {"X-Requested-With": "fetch"}


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def world(request) -> dict[str, Any]:
    """tests/grids/people_world.py: grids A (grid1 on duty) and B (grid2) with a resident each,
    and the cast of tests/conftest.py."""
    cast = matrix.build_cast(request)
    return {**build_people(cast), "users": cast.users}


def _worker(world: dict[str, Any]):
    return world["users"]["grid_worker"]


def _retired_item_on_an_open_patrol(world: dict[str, Any]):
    """grid1's open patrol of A and an item taken off A's checklist before it started."""
    grid, staff = world["grids"]["A"], world["users"]["staff"]
    add_checklist_item(grid=grid, text="燃气报警器", by=staff)
    retired = add_checklist_item(grid=grid, text="已停用的检查项", by=staff)
    retire_checklist_item(item=retired, by=staff)
    patrol, _created = start_patrol(grid=grid, by=_worker(world))
    return patrol, retired


def _finding_with_all_its_photos(world: dict[str, Any]):
    """A finding of grid1's open patrol of A that already carries the most photos it can."""
    grid, worker = world["grids"]["A"], _worker(world)
    checked = add_checklist_item(grid=grid, text="灭火毯", by=world["users"]["staff"])
    patrol, _created = start_patrol(grid=grid, by=worker)
    _result, finding = mark_patrol_item(patrol=patrol, item=checked, outcome=Outcome.FAIL, by=worker)
    photos = [photo_upload(f"{number}.jpg") for number in range(MAX_FINDING_PHOTOS)]
    describe_finding(finding=finding, by=worker, photos=photos)
    return patrol, checked, finding


def _subject_in_a_grid_i_do_not_patrol(world: dict[str, Any]):
    """A key enterprise of grid B with grid1 (on duty in A) on its responsible team: grid1
    visits it, but a problem seen there cannot become a finding of B by them."""
    return enterprise(world["grids"]["B"], "乐活城", team=(_worker(world),))


def _ended_patrol(world: dict[str, Any]):
    grid, worker = world["grids"]["A"], _worker(world)
    checked = add_checklist_item(grid=grid, text="燃气报警器", by=world["users"]["staff"])
    patrol, _created = start_patrol(grid=grid, by=worker)
    end_patrol(patrol=patrol, by=worker)
    return patrol, checked


def _moved_out_resident(world: dict[str, Any]) -> Resident:
    resident = world["residents"]["A"]
    move_out_resident(resident=resident, on=datetime.date(2025, 10, 1), by=_worker(world))
    return resident


# --- Through the API ----------------------------------------------------------------------------


def api_post(user, url: str, payload: dict[str, Any], **extra: Any):
    with matrix.fresh_throttle_cache():
        return matrix.api_client(user).post(url, payload, **extra)


def api_item_not_on_patrol(world):
    patrol, retired = _retired_item_on_an_open_patrol(world)
    url = reverse("api:patrol-mark", args=[patrol.pk])
    return api_post(_worker(world), url, {"item": retired.pk, "outcome": "pass"}, content_type="application/json")


def api_too_many_photos(world):
    _patrol, _item, finding = _finding_with_all_its_photos(world)
    return api_post(_worker(world), reverse("api:finding-photos", args=[finding.pk]), {"photos": [photo_upload()]})


def api_finding_not_allowed(world):
    subject = _subject_in_a_grid_i_do_not_patrol(world)
    payload = {"subject": subject.pk, "way": "face_to_face", "problems": "消防通道堵塞", "raise_finding": True}
    return api_post(_worker(world), reverse("api:visit-list"), payload, content_type="application/json")


def api_patrol_already_ended(world):
    patrol, _item = _ended_patrol(world)
    return api_post(_worker(world), reverse("api:patrol-end", args=[patrol.pk]), {})


def api_resident_already_moved_out(world):
    resident = _moved_out_resident(world)
    url = reverse("api:resident-move-out", args=[resident.pk])
    return api_post(_worker(world), url, {"moved_out": "2025-10-02"}, content_type="application/json")


@pytest.mark.parametrize(
    ("refused", "refusal", "kind"),
    [
        pytest.param(api_item_not_on_patrol, ItemNotOnPatrol, ActionRefused, id="400-item-not-on-patrol"),
        pytest.param(api_too_many_photos, TooManyPhotos, ActionRefused, id="400-too-many-photos"),
        pytest.param(api_finding_not_allowed, FindingNotAllowed, NotAllowed, id="403-finding-not-allowed"),
        pytest.param(api_patrol_already_ended, PatrolAlreadyEnded, Conflict, id="409-patrol-already-ended"),
        pytest.param(
            api_resident_already_moved_out, ResidentAlreadyMovedOut, Conflict, id="409-resident-already-moved-out"
        ),
    ],
)
def test_an_action_refused_through_the_api_answers_with_its_kinds_status_and_message(
    world, media_root, refused: Callable, refusal: type[Refusal], kind: type[Refusal]
):
    assert issubclass(refusal, kind)
    response = refused(world)
    assert response.status_code == KINDS[kind], response.content
    body = response.json()
    message = str(refusal())
    assert (body["detail"], body["code"]) == (message, refusal.code)
    if refusal.field:  # a refusal about one field of the request also answers under that field
        assert body[refusal.field] == [message]
    assert set(body) == {"detail", "code"} | ({refusal.field} if refusal.field else set())


def test_nothing_was_written_by_a_refused_api_call(world, media_root):
    api_finding_not_allowed(world)
    assert not Visit.objects.exists()
    api_resident_already_moved_out(world)
    assert str(Resident.objects.get(pk=world["residents"]["A"].pk).moved_out) == "2025-10-01"


# --- Through the pages: on the form, what was typed kept, with the refusal's status ------------


def page_too_many_photos(world):
    patrol, checked, _finding = _finding_with_all_its_photos(world)
    prefix = f"item{checked.pk}-"
    url = reverse("grids:patrol_describe", args=[patrol.pk, checked.pk])
    typed = "灭火毯过期未换"
    response = english_client(_worker(world)).post(
        url, {f"{prefix}description": typed, f"{prefix}photos": [photo_upload()]}
    )
    return response, typed


def page_finding_not_allowed(world):
    subject = _subject_in_a_grid_i_do_not_patrol(world)
    typed = "消防通道堵塞"
    response = english_client(_worker(world)).post(
        reverse("grids:visit_create", args=[subject.pk]),
        {
            "way": "face_to_face",
            "visited_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "problems": typed,
            "raise_finding": "on",
        },
    )
    return response, typed


def page_resident_already_moved_out(world):
    resident = _moved_out_resident(world)
    typed = "2025-10-02"
    response = english_client(_worker(world)).post(
        reverse("grids:resident_move_out", args=[resident.pk]), {"moved_out": typed}
    )
    return response, typed


@pytest.mark.parametrize(
    ("refused", "refusal", "kind"),
    [
        pytest.param(page_too_many_photos, TooManyPhotos, ActionRefused, id="400-too-many-photos"),
        pytest.param(page_finding_not_allowed, FindingNotAllowed, NotAllowed, id="403-finding-not-allowed"),
        pytest.param(
            page_resident_already_moved_out, ResidentAlreadyMovedOut, Conflict, id="409-resident-already-moved-out"
        ),
    ],
)
def test_an_action_refused_on_a_form_is_shown_on_it_with_what_was_typed(
    world, media_root, refused: Callable, refusal: type[Refusal], kind: type[Refusal]
):
    response, typed = refused(world)
    assert response.status_code == KINDS[kind]
    page = response.content.decode()
    assert escape(str(refusal())) in page
    assert typed in page
    assert not [str(message) for message in get_messages(response.wsgi_request)]  # on the form, not a message


# --- Through the pages: a POST button, then the message on the page it came from ---------------


def button_item_not_on_patrol(world):
    patrol, retired = _retired_item_on_an_open_patrol(world)
    url = reverse("grids:patrol_mark", args=[patrol.pk, retired.pk])
    return english_client(_worker(world)).post(url, {"outcome": "pass"}), reverse(
        "grids:patrol_detail", args=[patrol.pk]
    )


def button_patrol_already_ended(world):
    patrol, checked = _ended_patrol(world)
    url = reverse("grids:patrol_mark", args=[patrol.pk, checked.pk])
    return english_client(_worker(world)).post(url, {"outcome": "pass"}), reverse(
        "grids:patrol_detail", args=[patrol.pk]
    )


def button_export_already_decided(world):
    """The admin decides a request in one tab, then presses Approve in an older one."""
    approval = request_unmasked_export(by=world["users"]["staff"], reason="民政办年度复核")
    admin = world["users"]["community_admin"]
    decide_export_request(approval=approval, approve=False, by=admin)
    came_from = reverse("grids:export_requests")
    response = english_client(admin).post(
        reverse("grids:export_decide", args=[approval.pk]),
        {"decision": ExportStatus.APPROVED, "hours": 2},
        headers={"referer": f"http://testserver{came_from}"},
    )
    approval.refresh_from_db()
    assert approval.status == ExportStatus.REFUSED  # the first decision stays
    return response, came_from


@pytest.mark.parametrize(
    ("refused", "refusal"),
    [
        pytest.param(button_item_not_on_patrol, ItemNotOnPatrol, id="400-item-not-on-patrol"),
        pytest.param(button_patrol_already_ended, PatrolAlreadyEnded, id="409-patrol-already-ended"),
        pytest.param(button_export_already_decided, ExportAlreadyDecided, id="409-export-already-decided"),
    ],
)
def test_an_action_refused_after_a_post_button_is_told_on_the_page_it_came_from(
    world, refused: Callable, refusal: type[Refusal]
):
    response, came_from = refused(world)
    assert response.status_code == 302
    assert response.url.split("#")[0].endswith(came_from)
    assert [str(message) for message in get_messages(response.wsgi_request)] == [str(refusal())]


@pytest.mark.parametrize(
    ("refused", "refusal"),
    [
        pytest.param(_retired_item_on_an_open_patrol, ItemNotOnPatrol, id="400-item-not-on-patrol"),
        pytest.param(_ended_patrol, PatrolAlreadyEnded, id="409-patrol-already-ended"),
    ],
)
def test_the_patrol_scripts_fragment_carries_the_refusal_and_its_status(world, refused, refusal):
    patrol, checked = refused(world)
    url = reverse("grids:patrol_mark", args=[patrol.pk, checked.pk])
    response = english_client(_worker(world)).post(url, {"outcome": "pass"}, headers=FETCH)
    assert response.status_code == refusal.status_code
    assert escape(str(refusal())) in response.content.decode()


# --- RefusalMiddleware and refuse_form on their own ---------------------------------------------


@login_not_required
def refusing_page(request: HttpRequest) -> HttpResponse:
    raise PatrolAlreadyEnded


urlpatterns = [*portal_urlpatterns, path("refusing/", refusing_page)]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_refusal_outside_a_form_without_a_way_back_shows_the_refusal_page_with_its_status(client, method):
    """A GET, or a POST with no page of this site to go back to (no Referer, or another site's)."""
    headers = {"accept-language": "en"}
    if method == "post":
        headers["referer"] = "https://elsewhere.example.org/"
    response = getattr(client, method)("/refusing/", headers=headers)
    assert response.status_code == 409
    assert [template.name for template in response.templates][0] == "refused.html"
    assert str(PatrolAlreadyEnded.message) in response.content.decode()


@pytest.mark.urls(__name__)
def test_a_refusal_after_a_post_goes_back_with_the_message(client):
    response = client.post("/refusing/", headers={"accept-language": "en", "referer": "http://testserver/grids/"})
    assert (response.status_code, response.url) == (302, "http://testserver/grids/")
    assert [str(message) for message in get_messages(response.wsgi_request)] == [str(PatrolAlreadyEnded.message)]


class EndForm(forms.Form):
    moved_out = forms.DateField()
    note = forms.CharField(required=False)


@pytest.mark.parametrize(
    ("refusal", "shown_on"),
    [
        pytest.param(ResidentAlreadyMovedOut(), "moved_out", id="on-the-field-it-names"),
        pytest.param(AssignmentAlreadyEnded(), None, id="at-the-top-without-a-field"),
        pytest.param(ItemNotOnPatrol(), None, id="at-the-top-for-a-field-not-on-the-form"),
        pytest.param(NotAllowed("Ask the community admin.", field="note"), "note", id="field-given-when-raised"),
    ],
)
def test_refuse_form_shows_the_refusal_on_the_form_and_gives_its_status(refusal: Refusal, shown_on: str | None):
    form = EndForm({"moved_out": "2025-10-02", "note": "搬离"})
    assert form.is_valid()
    assert refuse_form(form, refusal) == refusal.status_code
    assert form.errors == {shown_on or "__all__": [str(refusal)]}
    assert form["moved_out"].value() == "2025-10-02"  # what was typed stays


# --- Each refusal of the grids app: one kind, its own code and message --------------------------


def _grids_refusals() -> list[type[Refusal]]:
    """The refusal classes defined in the grids app (grids.actions and grids.models are imported
    above, so every one is defined)."""
    found: list[type[Refusal]] = []
    pending = list(Refusal.__subclasses__())
    while pending:
        refusal = pending.pop()
        pending.extend(refusal.__subclasses__())
        if refusal.__module__.startswith("grids.") and issubclass(refusal, tuple(KINDS)):
            found.append(refusal)
    return sorted(set(found), key=lambda refusal: refusal.__name__)


def test_every_grids_refusal_is_one_kind_with_its_own_code_and_message():
    refusals = _grids_refusals()
    assert {ResidentAlreadyMovedOut, PatrolAlreadyEnded, ExportAlreadyDecided} <= set(refusals)
    kind_codes = {kind.code for kind in KINDS}
    for refusal in refusals:
        kinds = [kind for kind in KINDS if issubclass(refusal, kind)]
        assert len(kinds) == 1, refusal
        assert refusal.status_code == KINDS[kinds[0]], refusal
        assert refusal.code not in kind_codes, f"{refusal.__name__} has no code of its own"
        own_text = refusal.message is not kinds[0].message or "__str__" in vars(refusal)
        assert own_text, f"{refusal.__name__} has no message of its own"
