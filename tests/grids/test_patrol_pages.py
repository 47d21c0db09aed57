"""A patrol through the pages: start in one of my grids, mark items (a fail becomes a finding),
describe the fail with a note and a photo (stored without its EXIF location), end; findings and
their follow-ups. Photos and positions are never required; nobody patrols another's grid."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import translation

from grids.models import (
    Finding,
    FindingFollowUp,
    FindingStatus,
    Outcome,
    Patrol,
    PatrolResult,
    PatrolStatus,
)
from shanglong.models import AppendOnlyError
from tests.grids.patrol_world import english_client as client_for
from tests.grids.patrol_world import gas_checklist, has_location, item, photo_upload

pytestmark = pytest.mark.django_db

FETCH = {"X-Requested-With": "fetch"}


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def gas(grids, staff):
    """Grids A and B have the restaurant gas safety checklist."""
    gas_checklist(grids["B"], staff)
    return gas_checklist(grids["A"], staff)


def start(client, grid) -> Patrol:
    response = client.post(reverse("grids:patrol_start", args=[grid.pk]))
    assert response.status_code == 302, response.status_code
    return Patrol.objects.get(pk=int(response.url.rstrip("/").rsplit("/", 1)[1]))


def mark_url(patrol, checklist_item) -> str:
    return reverse("grids:patrol_mark", args=[patrol.pk, checklist_item.pk])


def describe_url(patrol, checklist_item) -> str:
    return reverse("grids:patrol_describe", args=[patrol.pk, checklist_item.pk])


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_a_grid_worker_patrols_fails_a_gas_item_with_a_note_and_a_photo(grid_worker, grids, on_duty, gas, media_root):
    client = client_for(grid_worker)
    patrol = start(client, grids["A"])
    assert (patrol.grid, patrol.started_by, patrol.status) == (grids["A"], grid_worker, PatrolStatus.IN_PROGRESS)
    page = client.get(reverse("grids:patrol_detail", args=[patrol.pk]))
    assert page.status_code == 200
    assert [entry["item"] for entry in page.context["entries"]] == gas
    hose = item(grids["A"], "restaurant_gas.metal_hose")

    response = client.post(mark_url(patrol, hose), {"outcome": "fail"})
    assert response.status_code == 302
    assert response.url.endswith(f"#item-{hose.pk}")
    finding = Finding.objects.get()
    assert (finding.grid, finding.patrol, finding.item, finding.status) == (
        grids["A"],
        patrol,
        hose,
        FindingStatus.OPEN,
    )
    assert finding.result.outcome == Outcome.FAIL

    prefix = f"item{hose.pk}-"
    response = client.post(
        describe_url(patrol, hose),
        {
            f"{prefix}description": "后厨用橡胶软管连接钢瓶,长约3米",
            f"{prefix}merchant_name": "首尔烤肉",
            f"{prefix}photos": [photo_upload()],
        },
    )
    assert response.status_code == 302
    finding.refresh_from_db()
    assert finding.description == "后厨用橡胶软管连接钢瓶,长约3米"
    assert finding.merchant_name == "首尔烤肉"
    assert not finding.has_position  # nobody asked for it
    [photo] = finding.attachments.all()
    with photo.file.open("rb") as stored:
        assert not has_location(stored.read())
    # The photo is served to the people of the grid, through the scope check.
    assert client.get(reverse("attachment", args=[photo.pk])).status_code == 200

    for other in gas:
        if other != hose:
            client.post(mark_url(patrol, other), {"outcome": "pass"})
    response = client.post(reverse("grids:patrol_end", args=[patrol.pk]))
    assert "Patrol ended: 7 items marked, 1 failed." in texts(response)
    patrol.refresh_from_db()
    assert patrol.status == PatrolStatus.ENDED

    listing = client.get(reverse("grids:finding_list"))
    assert [row.pk for row in listing.context["page"]] == [finding.pk]
    assert "后厨用橡胶软管连接钢瓶" in listing.content.decode()


def test_no_photo_and_no_position_are_needed(grid_worker, grids, on_duty, gas):
    client = client_for(grid_worker)
    patrol = start(client, grids["A"])
    blanket = item(grids["A"], "restaurant_gas.fire_blanket")
    client.post(mark_url(patrol, blanket), {"outcome": "fail"})
    finding = Finding.objects.get()
    assert finding.attachments.count() == 0
    assert not finding.has_position
    response = client.post(describe_url(patrol, blanket), {f"item{blanket.pk}-description": "没有灭火毯"})
    assert response.status_code == 302
    finding.refresh_from_db()
    assert finding.description == "没有灭火毯"
    assert finding.attachments.count() == 0


def test_a_position_is_kept_when_the_worker_adds_it(grid_worker, grids, on_duty, gas):
    client = client_for(grid_worker)
    patrol = start(client, grids["A"])
    blanket = item(grids["A"], "restaurant_gas.fire_blanket")
    client.post(mark_url(patrol, blanket), {"outcome": "fail"})
    prefix = f"item{blanket.pk}-"
    client.post(describe_url(patrol, blanket), {f"{prefix}latitude": "37.4631234", f"{prefix}longitude": "118.4951"})
    finding = Finding.objects.get()
    assert (str(finding.latitude), str(finding.longitude)) == ("37.463123", "118.495100")


def test_the_script_gets_the_items_fragment_back(grid_worker, grids, on_duty, gas):
    client = client_for(grid_worker)
    patrol = start(client, grids["A"])
    hose = item(grids["A"], "restaurant_gas.metal_hose")
    response = client.post(mark_url(patrol, hose), {"outcome": "fail"}, headers=FETCH)
    assert response.status_code == 200
    body = response.content.decode().strip()
    assert body.startswith(f'<li id="item-{hose.pk}"')
    assert 'value="fail" class="outcome outcome-fail" aria-pressed="true"' in body
    assert 'class="finding-form"' in body  # the details of the fail, right there
    assert "<html" not in body


def test_marking_twice_or_from_two_devices_leaves_one_result(grid_worker, grids, on_duty, gas):
    phone, tablet = client_for(grid_worker), client_for(grid_worker)
    patrol = start(phone, grids["A"])
    assert start(tablet, grids["A"]) == patrol  # the second device carries on the same patrol
    hose = item(grids["A"], "restaurant_gas.metal_hose")
    for client in (phone, phone, tablet):
        client.post(mark_url(patrol, hose), {"outcome": "fail"}, headers=FETCH)
    assert PatrolResult.objects.filter(patrol=patrol, item=hose).count() == 1
    assert Finding.objects.count() == 1
    tablet.post(mark_url(patrol, hose), {"outcome": "pass"}, headers=FETCH)
    assert PatrolResult.objects.get(patrol=patrol, item=hose).outcome == Outcome.PASS
    assert Finding.objects.count() == 0  # a mis-tapped fail, taken back before anyone acted on it


def test_a_fail_that_is_being_followed_up_stays_failed(grid_worker, grids, on_duty, gas):
    client = client_for(grid_worker)
    patrol = start(client, grids["A"])
    hose = item(grids["A"], "restaurant_gas.metal_hose")
    client.post(mark_url(patrol, hose), {"outcome": "fail"})
    finding = Finding.objects.get()
    client.post(reverse("grids:finding_follow_up", args=[finding.pk]), {"note": "已通知店主", "version": 1})
    response = client.post(mark_url(patrol, hose), {"outcome": "pass"}, headers=FETCH)
    assert response.status_code == 409
    assert "already being followed up" in response.content.decode()
    assert PatrolResult.objects.get().outcome == Outcome.FAIL
    assert Finding.objects.filter(pk=finding.pk).exists()


def test_ending_an_ended_patrol_changes_nothing_and_says_so(grid_worker, grids, on_duty, gas):
    client = client_for(grid_worker)
    patrol = start(client, grids["A"])
    client.post(reverse("grids:patrol_end", args=[patrol.pk]), {"confirm": "1"})
    patrol.refresh_from_db()
    ended_at = patrol.ended_at
    response = client.post(reverse("grids:patrol_end", args=[patrol.pk]))
    assert response.status_code == 302
    assert "This patrol has already ended; nothing was changed." in texts(response)
    patrol.refresh_from_db()
    assert patrol.ended_at == ended_at
    # An ended patrol takes no more marks.
    response = client.post(mark_url(patrol, gas[0]), {"outcome": "pass"}, headers=FETCH)
    assert response.status_code == 409
    assert not PatrolResult.objects.exists()


def test_a_grid_worker_cannot_patrol_another_grid(grid_worker, other_grid_worker, grids, on_duty, gas):
    client = client_for(grid_worker)
    for letter in "BC":  # B: a colleague's grid; C: the other branch's
        response = client.post(reverse("grids:patrol_start", args=[grids[letter].pk]))
        assert response.status_code == 404
    assert not Patrol.objects.exists()
    # The colleague's patrol in B is neither shown nor markable.
    theirs = start(client_for(other_grid_worker), grids["B"])
    assert client.get(reverse("grids:patrol_detail", args=[theirs.pk])).status_code == 404
    b_item = item(grids["B"], "restaurant_gas.metal_hose")
    assert client.post(mark_url(theirs, b_item), {"outcome": "fail"}).status_code == 404
    assert not PatrolResult.objects.exists()
    # Nor can a finding be recorded there.
    response = client.post(reverse("grids:finding_create"), {"grid": grids["B"].pk, "description": "x"})
    assert response.status_code == 400
    assert not Finding.objects.exists()


def test_staff_see_a_workers_patrol_but_only_its_walker_marks_it(staff, grid_worker, grids, on_duty, gas):
    patrol = start(client_for(grid_worker), grids["A"])
    client = client_for(staff)
    page = client.get(reverse("grids:patrol_detail", args=[patrol.pk]))
    assert page.status_code == 200
    assert page.context["can_mark"] is False
    assert client.post(mark_url(patrol, gas[0]), {"outcome": "pass"}).status_code == 403
    assert client.post(reverse("grids:patrol_end", args=[patrol.pk])).status_code == 403


def test_people_who_oversee_can_read_but_not_patrol(department_user, merchant_user, grids, on_duty, gas):
    client = client_for(department_user)
    assert client.get(reverse("grids:patrol_history", args=[grids["A"].pk])).status_code == 200
    assert client.post(reverse("grids:patrol_start", args=[grids["A"].pk])).status_code == 403
    assert client.get(reverse("grids:finding_create")).status_code == 403
    assert client_for(merchant_user).get(reverse("grids:patrol_home")).status_code == 403


def test_the_start_page_offers_start_only_in_my_grids(grid_worker, grids, on_duty, gas):
    response = client_for(grid_worker).get(reverse("grids:patrol_home"))
    grids_shown = list(response.context["page"])
    assert [grid.code for grid in grids_shown] == [grids["A"].code]
    assert grids_shown[0].can_patrol
    assert reverse("grids:patrol_start", args=[grids["A"].pk]) in response.content.decode()


def test_a_finding_without_a_patrol(grid_worker, grids, on_duty, compounds, media_root):
    client = client_for(grid_worker)
    form = client.get(reverse("grids:finding_create"))
    assert [value for value, _label in form.context["form"].fields["grid"].choices] == [grids["A"].pk]
    response = client.post(
        reverse("grids:finding_create"),
        {
            "grid": grids["A"].pk,
            "description": "楼道堆放纸箱",
            "compound": compounds["A"].pk,
            "place": "2号楼1单元",
            "photos": [photo_upload()],
        },
    )
    assert response.status_code == 302
    finding = Finding.objects.get()
    assert (finding.grid, finding.patrol, finding.compound) == (grids["A"], None, compounds["A"])
    assert finding.attachments.count() == 1
    # A compound of another grid is refused, and nothing is written.
    response = client.post(
        reverse("grids:finding_create"),
        {"grid": grids["A"].pk, "description": "x", "compound": compounds["B"].pk},
    )
    assert response.status_code == 400
    assert Finding.objects.count() == 1


def test_follow_ups_are_appended_and_close_the_finding(grid_worker, staff, grids, on_duty, gas):
    client = client_for(grid_worker)
    patrol = start(client, grids["A"])
    hose = item(grids["A"], "restaurant_gas.metal_hose")
    client.post(mark_url(patrol, hose), {"outcome": "fail"})
    finding = Finding.objects.get()
    url = reverse("grids:finding_follow_up", args=[finding.pk])
    client.post(url, {"note": "已告知店主三日内更换", "version": finding.version})
    finding.refresh_from_db()
    assert finding.status == FindingStatus.FOLLOWED_UP
    # Staff read the same version meanwhile: their note is refused, not lost silently.
    response = client_for(staff).post(url, {"note": "复查", "version": 1})
    assert "Someone else followed up this finding meanwhile" in " ".join(texts(response))
    response = client_for(staff).post(url, {"note": "复查:已更换金属软管", "close": "on", "version": finding.version})
    finding.refresh_from_db()
    assert finding.status == FindingStatus.CLOSED
    assert finding.closed_at is not None
    response = client.post(url, {"note": "再补充", "version": finding.version})
    assert "This finding is closed; nothing was changed." in texts(response)
    steps = list(finding.follow_ups.order_by("at", "pk").values_list("status", "by__username"))
    assert steps == [(FindingStatus.FOLLOWED_UP, "grid1"), (FindingStatus.CLOSED, "staff1")]
    page = client.get(reverse("grids:finding_detail", args=[finding.pk]))
    assert page.context["form"] is None  # closed: no more follow-ups offered


def test_follow_ups_cannot_be_changed_or_deleted(grid_worker, grids, on_duty, gas):
    client = client_for(grid_worker)
    patrol = start(client, grids["A"])
    hose = item(grids["A"], "restaurant_gas.metal_hose")
    client.post(mark_url(patrol, hose), {"note": "x", "outcome": "fail"})
    finding = Finding.objects.get()
    client.post(reverse("grids:finding_follow_up", args=[finding.pk]), {"note": "已处理"})
    step = FindingFollowUp.objects.get()
    step.note = "改写"
    with pytest.raises(AppendOnlyError):
        step.save()
    with pytest.raises(AppendOnlyError):
        step.delete()
    with pytest.raises(AppendOnlyError):
        FindingFollowUp.objects.update(note="改写")
    with pytest.raises(AppendOnlyError):
        FindingFollowUp.objects.all().delete()
    assert FindingFollowUp.objects.get().note == "已处理"


def test_a_department_liaison_reads_findings_but_does_not_follow_them_up(
    department_user, grid_worker, grids, on_duty, gas
):
    client = client_for(grid_worker)
    patrol = start(client, grids["A"])
    client.post(mark_url(patrol, gas[0]), {"outcome": "fail"})
    finding = Finding.objects.get()
    liaison = client_for(department_user)
    page = liaison.get(reverse("grids:finding_detail", args=[finding.pk]))
    assert page.status_code == 200
    assert page.context["form"] is None
    response = liaison.post(reverse("grids:finding_follow_up", args=[finding.pk]), {"note": "x"})
    assert response.status_code == 403
    assert not FindingFollowUp.objects.exists()


def test_the_database_allows_one_result_per_item_and_patrol(grid_worker, grids, on_duty, gas):
    from django.db import IntegrityError, transaction

    patrol = start(client_for(grid_worker), grids["A"])
    PatrolResult.objects.create(patrol=patrol, item=gas[0], outcome=Outcome.PASS, marked_by=grid_worker)
    with pytest.raises(IntegrityError), transaction.atomic():
        PatrolResult.objects.create(patrol=patrol, item=gas[0], outcome=Outcome.FAIL, marked_by=grid_worker)
    assert PatrolResult.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_simultaneous_taps_leave_one_result_and_one_finding(grid_worker, grids, on_duty, gas):
    import threading

    from django.db import connection

    from grids.actions import mark_patrol_item, start_patrol

    patrol, _created = start_patrol(grid=grids["A"], by=grid_worker)
    hose = item(grids["A"], "restaurant_gas.metal_hose")
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def tap() -> None:
        try:
            barrier.wait()
            mark_patrol_item(patrol=patrol, item=hose, outcome=Outcome.FAIL, by=grid_worker)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=tap) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert PatrolResult.objects.filter(patrol=patrol, item=hose).count() == 1
    assert Finding.objects.filter(patrol=patrol).count() == 1


def test_a_file_that_is_not_a_photo_is_refused_and_the_note_is_kept(grid_worker, grids, on_duty, gas, media_root):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(grid_worker)
    patrol = start(client, grids["A"])
    hose = item(grids["A"], "restaurant_gas.metal_hose")
    client.post(mark_url(patrol, hose), {"outcome": "fail"})
    prefix = f"item{hose.pk}-"
    payload = {
        f"{prefix}description": "橡胶软管",
        f"{prefix}photos": [SimpleUploadedFile("notes.txt", b"not a photo", content_type="text/plain")],
    }
    response = client.post(describe_url(patrol, hose), payload)
    assert response.status_code == 400
    [entry] = [entry for entry in response.context["entries"] if entry["item"] == hose]
    assert entry["form"].errors["photos"] == [
        "This is not a photo we can read. Please choose a JPEG, PNG or WebP image."
    ]
    assert entry["form"]["description"].value() == "橡胶软管"
    finding = Finding.objects.get()
    assert finding.description == ""
    assert finding.attachments.count() == 0
    # Through the script: the item's fragment with the error next to the field.
    response = client.post(describe_url(patrol, hose), payload, headers=FETCH)
    assert response.status_code == 400
    assert f'id="id_{prefix}photos_error"' in response.content.decode()
    # Seven photos are more than a finding carries.
    response = client.post(describe_url(patrol, hose), {f"{prefix}photos": [photo_upload() for _ in range(7)]})
    assert response.status_code == 400
    assert Finding.objects.get().attachments.count() == 0
