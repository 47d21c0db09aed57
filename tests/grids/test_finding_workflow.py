"""The workflow mechanism (shanglong.workflow) through its first user, a finding and its
follow-ups: who may take a step, the guarded update on (pk, status, version) with one winner, one
timeline row per step (with its attachments), notifications only once the step is committed,
and the same timeline on the page and in the API."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import translation

from grids.actions import FindingChanged, FindingClosed, NotYourGrid, follow_up_finding, mark_patrol_item, start_patrol
from grids.models import FINDING_WORKFLOW, Finding, FindingFollowUp, FindingStatus, Outcome
from shanglong import tasks
from shanglong.models import Attachment, Notification
from shanglong.workflow import AttachmentRefused, UnknownAction
from tests.api import matrix
from tests.conftest import client_for, require_service
from tests.grids.patrol_world import english_client, gas_checklist, has_location, photo_upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def finding(grids, staff, grid_worker, on_duty) -> Finding:
    """An open finding in grid A, reported by grid1 on a patrol."""
    items = gas_checklist(grids["A"], staff)
    patrol, _created = start_patrol(grid=grids["A"], by=grid_worker)
    _result, found = mark_patrol_item(patrol=patrol, item=items[0], outcome=Outcome.FAIL, by=grid_worker)
    return found


@pytest.fixture
def deliveries(monkeypatch) -> list[tuple]:
    """The deliveries handed to the broker (none reaches a real one)."""
    sent: list[tuple] = []
    monkeypatch.setattr(tasks.deliver_notifications_task, "apply_async", lambda *a, **kw: sent.append(a))
    return sent


def api_post(user, url, payload):
    with matrix.fresh_throttle_cache():
        return matrix.api_client(user).post(url, payload, content_type="application/json")


def api_get(user, url):
    with matrix.fresh_throttle_cache():
        return matrix.api_client(user).get(url)


def steps_of(finding: Finding) -> list[tuple[str, str, str, str]]:
    return list(
        FindingFollowUp.objects.filter(finding=finding)
        .order_by("at", "pk")
        .values_list("action", "from_status", "status", "by__username")
    )


# --- Who may take a step -------------------------------------------------------------------


def test_a_grid_worker_on_duty_follows_up_and_a_department_liaison_is_refused(finding, grid_worker, department_user):
    with pytest.raises(NotYourGrid):
        follow_up_finding(finding=finding, note="已转交", close=False, by=department_user, version=1)
    finding.refresh_from_db()
    assert (finding.status, finding.version, steps_of(finding)) == (FindingStatus.OPEN, 1, [])
    assert FINDING_WORKFLOW.available(department_user, finding) == []

    step = follow_up_finding(finding=finding, note="已告知店主", close=False, by=grid_worker, version=1)
    assert (step.action, step.from_status, step.status) == ("follow_up", "open", "followed_up")
    finding.refresh_from_db()
    assert (finding.status, finding.version) == (FindingStatus.FOLLOWED_UP, 2)
    assert [t.action for t in FINDING_WORKFLOW.available(grid_worker, finding)] == ["follow_up", "close"]


def test_the_api_refuses_a_liaison_with_403_and_writes_nothing(finding, department_user):
    response = api_post(department_user, reverse("api:finding-follow-up", args=[finding.pk]), {"note": "x"})
    assert response.status_code == 403
    assert not FindingFollowUp.objects.exists()


def test_an_action_the_workflow_does_not_have_is_refused(finding, grid_worker):
    with pytest.raises(UnknownAction) as refused:
        FINDING_WORKFLOW.transition(finding, action="reopen", by=grid_worker)
    assert refused.value.status_code == 400
    assert not FindingFollowUp.objects.exists()


def test_a_closed_finding_takes_no_more_steps(finding, grid_worker, staff):
    follow_up_finding(finding=finding, note="已整改", close=True, by=grid_worker)
    assert FINDING_WORKFLOW.available(staff, finding) == []
    with pytest.raises(FindingClosed) as refused:
        follow_up_finding(finding=finding, note="再补充", close=False, by=staff)
    assert refused.value.status_code == 409
    assert len(steps_of(finding)) == 1


# --- One timeline row per step -------------------------------------------------------------


def test_each_step_writes_one_timeline_row_with_where_it_came_from(finding, grid_worker, staff):
    follow_up_finding(finding=finding, note="已告知店主三日内更换", close=False, by=grid_worker, version=1)
    follow_up_finding(finding=finding, note="复查:已再次提醒", close=False, by=staff, version=2)
    follow_up_finding(finding=finding, note="已更换金属软管", close=True, by=grid_worker, version=3)
    assert steps_of(finding) == [
        ("follow_up", "open", "followed_up", "grid1"),
        ("follow_up", "followed_up", "followed_up", "staff1"),
        ("close", "followed_up", "closed", "grid1"),
    ]
    finding.refresh_from_db()
    assert (finding.status, finding.version) == (FindingStatus.CLOSED, 4)
    assert finding.closed_at == FindingFollowUp.objects.filter(finding=finding).latest("at").at


def test_a_step_carries_its_attachments_through_the_media_helper(finding, grid_worker, other_staff, media_root):
    step = follow_up_finding(
        finding=finding, note="整改后照片", close=False, by=grid_worker, attachments=[photo_upload("after.jpg")]
    )
    [attachment] = step.attachments.all()
    assert attachment.original_name == "after.jpg"
    assert not has_location(attachment.file.read())  # stored by store_attachment: EXIF left behind
    url = reverse("attachment", args=[attachment.pk])
    assert client_for(grid_worker).get(url).status_code == 200
    assert client_for(other_staff).get(url).status_code == 404  # another community's finding


def test_a_step_with_a_refused_attachment_is_not_taken(finding, grid_worker, media_root):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("hose.jpg", b"not a photo", content_type="image/jpeg")
    with pytest.raises(AttachmentRefused) as refused:
        follow_up_finding(finding=finding, note="x", close=False, by=grid_worker, attachments=[fake])
    assert refused.value.field == "attachments"
    finding.refresh_from_db()
    assert (finding.status, finding.version) == (FindingStatus.OPEN, 1)
    assert not FindingFollowUp.objects.exists()
    assert not Attachment.objects.exists()


def test_a_step_refused_at_its_second_attachment_leaves_no_file_behind(finding, grid_worker, media_root):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("hose.jpg", b"not a photo", content_type="image/jpeg")
    with pytest.raises(AttachmentRefused):
        follow_up_finding(
            finding=finding, note="x", close=False, by=grid_worker, attachments=[photo_upload("good.jpg"), fake]
        )
    assert not Attachment.objects.exists()
    assert [path for path in media_root.rglob("*") if path.is_file()] == []


def test_the_finding_page_shows_the_timeline(finding, grid_worker, staff):
    follow_up_finding(finding=finding, note="已告知店主", close=False, by=grid_worker)
    follow_up_finding(finding=finding, note="已更换", close=True, by=staff)
    page = english_client(grid_worker).get(reverse("grids:finding_detail", args=[finding.pk]))
    html = page.content.decode()
    assert html.count('data-testid="timeline-step"') == 2
    assert 'data-action="close"' in html
    assert "Followed up → Closed" in html
    assert "已更换" in html


def test_a_follow_up_carries_photos_from_the_page_and_from_the_api(finding, grid_worker, media_root):
    page_url = reverse("grids:finding_follow_up", args=[finding.pk])
    response = english_client(grid_worker).post(
        page_url, {"note": "已更换软管", "version": 1, "photos": [photo_upload("after.jpg")]}
    )
    assert response.status_code == 302
    api_url = reverse("api:finding-follow-up", args=[finding.pk])
    client = matrix.api_client(grid_worker)
    answer = client.post(api_url, {"note": "复查:正常", "close": "true", "photos": [photo_upload("check.jpg")]})
    assert answer.status_code == 200, answer.content
    assert [step["to_status"] for step in answer.json()["timeline"]] == ["followed_up", "closed"]
    assert [len(step["attachments"]) for step in answer.json()["timeline"]] == [1, 1]
    stored = Attachment.objects.order_by("pk")
    assert [a.original_name for a in stored] == ["after.jpg", "check.jpg"]
    assert not any(has_location(a.file.read()) for a in stored)
    html = english_client(grid_worker).get(reverse("grids:finding_detail", args=[finding.pk])).content.decode()
    assert html.count("Attachment: ") == 2  # both shown in the timeline


def test_a_follow_up_with_a_file_that_is_no_photo_is_refused_on_page_and_api(finding, grid_worker, media_root):
    from django.core.files.uploadedfile import SimpleUploadedFile

    def fake() -> SimpleUploadedFile:
        return SimpleUploadedFile("hose.jpg", b"not a photo", content_type="image/jpeg")

    page = english_client(grid_worker).post(
        reverse("grids:finding_follow_up", args=[finding.pk]), {"note": "已更换", "photos": [fake()]}
    )
    assert page.status_code == 400
    assert page.context["form"].errors["photos"]
    assert page.context["form"].data["note"] == "已更换"
    api = matrix.api_client(grid_worker).post(
        reverse("api:finding-follow-up", args=[finding.pk]), {"note": "已更换", "photos": [fake()]}
    )
    assert api.status_code == 400
    assert "photos" in api.json()
    assert not FindingFollowUp.objects.exists()
    assert not Attachment.objects.exists()


# --- A stale version -----------------------------------------------------------------------


def test_a_stale_version_is_a_409_through_the_api_and_nothing_is_written(finding, grid_worker, staff):
    url = reverse("api:finding-follow-up", args=[finding.pk])
    assert api_post(grid_worker, url, {"note": "已告知店主", "version": 1}).status_code == 200
    stale = api_post(staff, url, {"note": "复查", "close": True, "version": 1})
    assert stale.status_code == 409
    assert stale.json() == {"detail": str(FindingChanged.message), "code": FindingChanged.code}
    finding.refresh_from_db()
    assert (finding.status, finding.version, len(steps_of(finding))) == (FindingStatus.FOLLOWED_UP, 2, 1)


def test_a_stale_version_on_the_page_is_told_and_the_note_is_kept(finding, grid_worker, staff):
    url = reverse("grids:finding_follow_up", args=[finding.pk])
    english_client(grid_worker).post(url, {"note": "已告知店主", "version": 1})
    response = english_client(staff).post(url, {"note": "复查:软管已更换", "close": "on", "version": 1})
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else followed up this finding meanwhile" in html
    assert "已告知店主" in html  # the other person's step is on the page to read
    form = response.context["form"]
    assert form.data["note"] == "复查:软管已更换"  # what was typed is kept
    assert form.data["close"] == "on"
    assert form.data["version"] == "2"  # the version just shown: sending again counts
    again = english_client(staff).post(url, dict(form.data.items()))
    assert again.status_code == 302
    finding.refresh_from_db()
    assert finding.status == FindingStatus.CLOSED
    assert [row[0] for row in steps_of(finding)] == ["follow_up", "close"]


# --- Notifications only after commit -------------------------------------------------------


def test_closing_tells_the_reporter_only_once_committed(
    finding, grid_worker, staff, deliveries, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        follow_up_finding(finding=finding, note="已更换金属软管", close=True, by=staff)
        assert deliveries == []  # nothing reaches the broker before the step is committed
    assert len(callbacks) == 1
    assert len(deliveries) == 1
    [told] = Notification.objects.filter(recipient=grid_worker)
    assert told.kind == "finding-closed"
    assert told.url == reverse("grids:finding_detail", args=[finding.pk])
    assert told.body == "已更换金属软管"


def test_a_step_rolled_back_tells_nobody(finding, staff, deliveries, django_capture_on_commit_callbacks):
    def close_then_fail() -> None:
        with transaction.atomic():
            follow_up_finding(finding=finding, note="已更换", close=True, by=staff)
            raise RuntimeError("the surrounding work failed")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        close_then_fail()
    assert callbacks == []
    assert deliveries == []
    assert not Notification.objects.exists()
    assert not FindingFollowUp.objects.exists()
    finding.refresh_from_db()
    assert (finding.status, finding.version, finding.closed_at) == (FindingStatus.OPEN, 1, None)


def test_closing_ones_own_finding_tells_nobody(finding, grid_worker, deliveries, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        follow_up_finding(finding=finding, note="已自行整改", close=True, by=grid_worker)
    assert callbacks == []
    assert not Notification.objects.exists()


# --- The timeline in the API ---------------------------------------------------------------


def test_the_api_detail_returns_the_timeline_without_a_query_per_step(
    finding, grid_worker, staff, media_root, django_assert_num_queries
):
    url = reverse("api:finding-detail", args=[finding.pk])
    follow_up_finding(finding=finding, note="第一次", close=False, by=grid_worker, attachments=[photo_upload()])
    client = matrix.api_client(staff)
    with matrix.fresh_throttle_cache():
        client.get(url)  # the session and the content types, once
    # session, user, the finding, its photos, its steps with who took them, their attachments
    with matrix.fresh_throttle_cache(), django_assert_num_queries(6):
        client.get(url)
    for number in range(4):
        note = f"第{number + 2}次"
        follow_up_finding(finding=finding, note=note, close=False, by=staff, attachments=[photo_upload()])
    with matrix.fresh_throttle_cache(), django_assert_num_queries(6):
        response = client.get(url)
    timeline = response.json()["timeline"]
    assert len(timeline) == 5
    first = timeline[0]
    assert {key: first[key] for key in ("action", "from_status", "to_status", "by", "note")} == {
        "action": "follow_up",
        "from_status": "open",
        "to_status": "followed_up",
        "by": grid_worker.pk,
        "note": "第一次",
    }
    assert (first["action_label"], first["from_status_label"], first["to_status_label"]) == (
        "Followed up",
        "Open",
        "Followed up",
    )
    assert first["attachments"][0]["url"] == reverse("attachment", args=[first["attachments"][0]["id"]])


def test_the_schema_documents_the_timeline(staff):
    schema = api_get(staff, "/api/schema/?format=json").json()
    detail = schema["components"]["schemas"]["FindingDetail"]
    assert detail["properties"]["timeline"]["items"]["$ref"] == "#/components/schemas/TimelineEntry"
    entry = schema["components"]["schemas"]["TimelineEntry"]["properties"]
    assert {"action", "from_status", "to_status", "by", "at", "note", "attachments"} <= set(entry)
    follow_up = schema["paths"]["/api/v1/findings/{id}/follow-up/"]["post"]
    assert follow_up["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/FindingDetail")


# --- Two at once: one winner (PostgreSQL) --------------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_follow_ups_of_the_same_version_have_exactly_one_winner(finding, grid_worker, staff):
    if connection.vendor != "postgresql":
        require_service("PostgreSQL", "set DATABASE_URL to a PostgreSQL database to race two connections")
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def take(person, close: bool) -> None:
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                fresh = Finding.objects.get(pk=finding.pk)
                follow_up_finding(finding=fresh, note=f"{person.username} 处理", close=close, by=person, version=1)
            outcomes[person.username] = "won"
        except (FindingChanged, FindingClosed) as refusal:
            outcomes[person.username] = type(refusal).__name__
        except BaseException as error:  # reported by the main thread
            outcomes[person.username] = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=take, args=(grid_worker, False)),
        threading.Thread(target=take, args=(staff, True)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    [winner] = [name for name, outcome in outcomes.items() if outcome == "won"]
    # The loser is told why: closed by the winner, or followed up meanwhile (409 either way).
    expected = (
        {"staff1": "won", "grid1": "FindingClosed"}
        if winner == "staff1"
        else {"grid1": "won", "staff1": "FindingChanged"}
    )
    assert outcomes == expected
    finding.refresh_from_db()
    assert finding.version == 2
    assert steps_of(finding) == [
        ("close" if winner == "staff1" else "follow_up", "open", finding.status, winner),
    ]
