"""Who sees and records what in the ledger, by grid and role, through the pages and the API (the
scoping matrix of tests/api/matrix.py over the test cast)."""

from __future__ import annotations

import datetime
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from PIL import Image

from grids.actions import save_ledger_subject
from grids.models import GroupAccessRule, GroupKind, LedgerSubject, Visit, VisitWay
from tests.api import matrix
from tests.conftest import client_for
from tests.grids.ledger_world import SUBJECTS_VISIBLE, build_ledger, civil_affairs, enterprise, line_for, member

LONG_AGO = timezone.localdate() - datetime.timedelta(days=120)


@pytest.fixture(autouse=True)
def no_delivery(monkeypatch):
    from shanglong import tasks

    monkeypatch.setattr(tasks.deliver_notifications_task, "delay_on_commit", lambda *a, **kw: None)


# --- Pages ---------------------------------------------------------------------------------


@pytest.fixture
def lines(grids, compounds, on_duty, department, subdistrict):
    """An enterprise in each of grids A to D; a community-correction member (司法所) in A and an
    elderly person living alone (民政办) in B."""
    subjects = {letter: enterprise(grids[letter], f"企业{letter}", entered_on=LONG_AGO) for letter in "ABCD"}
    subjects["keyA"] = line_for(
        member(compounds["A"], "矫正对象甲", GroupKind.COMMUNITY_CORRECTION, department=department, level="strict"),
        entered_on=LONG_AGO,
    )
    subjects["oldB"] = line_for(
        member(compounds["B"], "独居老人乙", GroupKind.ELDERLY_ALONE, department=civil_affairs(subdistrict)),
        entered_on=LONG_AGO,
    )
    return subjects


def listed(user, **params) -> set[str]:
    response = client_for(user).get(reverse("grids:ledger_list"), params)
    assert response.status_code == 200
    return {subject.name for subject in response.context["page"]}


@pytest.mark.django_db
def test_a_grid_worker_sees_the_ledger_of_their_grid_only(grid_worker, lines):
    assert listed(grid_worker) == {"企业A", "矫正对象甲"}
    client = client_for(grid_worker)
    assert client.get(reverse("grids:ledger_subject", args=[lines["A"].pk])).status_code == 200
    assert client.get(reverse("grids:ledger_subject", args=[lines["B"].pk])).status_code == 404
    assert client.get(reverse("grids:ledger_subject", args=[lines["oldB"].pk])).status_code == 404


@pytest.mark.django_db
def test_a_grid_worker_cannot_record_a_visit_for_another_grids_subject(grid_worker, lines):
    client = client_for(grid_worker)
    url = reverse("grids:visit_create", args=[lines["B"].pk])
    assert client.get(url).status_code == 404
    response = client.post(
        url, {"way": VisitWay.FACE_TO_FACE, "visited_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")}
    )
    assert response.status_code == 404
    assert not Visit.objects.exists()


@pytest.mark.django_db
def test_the_branch_secretary_sees_the_grids_of_the_branch_but_no_group_they_may_not_see(branch_secretary, lines):
    # Branch 1 is grids A and B; the secretary is on duty nowhere, so sees no group member.
    assert listed(branch_secretary) == {"企业A", "企业B"}
    response = client_for(branch_secretary).get(reverse("grids:my_day"))
    counts = {grid.code: (grid.subjects, grid.overdue) for grid in response.context["grids"]}
    assert counts == {"01": (1, 1), "02": (1, 1)}


@pytest.mark.django_db
def test_staff_see_the_community_without_the_groups_the_admin_sees_all(staff, community_admin, lines):
    assert listed(staff) == {"企业A", "企业B", "企业C", "企业D"}
    assert listed(community_admin) == {"企业A", "企业B", "企业C", "企业D", "矫正对象甲", "独居老人乙"}


@pytest.mark.django_db
def test_the_responsible_department_and_the_designated_officer_see_their_group(
    department_user, staff, lines, community
):
    assert listed(department_user) == {"企业A", "企业B", "企业C", "企业D", "矫正对象甲"}
    GroupAccessRule.objects.ensure_for(community)
    GroupAccessRule.objects.filter(community=community, kind=GroupKind.ELDERLY_ALONE).update(designated_officer=staff)
    assert "独居老人乙" in listed(staff)


@pytest.mark.django_db
def test_the_public_has_no_ledger(merchant_user, volunteer_user, outsider, lines):
    for person in (merchant_user, volunteer_user):
        client = client_for(person)
        assert client.get(reverse("grids:my_day")).status_code == 403
        assert client.get(reverse("grids:ledger_list")).status_code == 403
        assert client.get(reverse("grids:ledger_subject", args=[lines["A"].pk])).status_code == 403
    assert listed(outsider) == set()


@pytest.mark.django_db
def test_the_export_is_the_viewers_scope_per_grid(grid_worker, staff, grids, lines):
    response = client_for(grid_worker).get(reverse("grids:ledger_export"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    names = {row[1] for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert names == {"企业A", "矫正对象甲"}
    # A grid the worker cannot see is not a choice: the filter falls back to their scope.
    response = client_for(grid_worker).get(reverse("grids:ledger_export"), {"grid": grids["B"].pk})
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert "企业B" not in {row[1] for row in sheet.iter_rows(min_row=3, values_only=True)}
    response = client_for(staff).get(reverse("grids:ledger_export"), {"grid": grids["C"].pk})
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [row[1] for row in sheet.iter_rows(min_row=3, values_only=True)] == ["企业C"]


@pytest.mark.django_db
def test_only_the_grids_keepers_change_a_subject(grid_worker, other_grid_worker, staff, department_user, lines):
    url = reverse("grids:ledger_subject_edit", args=[lines["A"].pk])
    assert client_for(grid_worker).get(url).status_code == 200  # on duty in A
    assert client_for(staff).get(url).status_code == 200
    assert client_for(other_grid_worker).get(url).status_code == 404
    assert client_for(department_user).get(url).status_code == 404
    # Staff may not see the group line, so neither change it.
    assert client_for(staff).get(reverse("grids:ledger_subject_edit", args=[lines["keyA"].pk])).status_code == 404


@pytest.mark.django_db
def test_my_day_lists_only_what_the_person_answers_for(grid_worker, other_grid_worker, lines):
    save_ledger_subject(subject=LedgerSubject.objects.get(pk=lines["B"].pk), team=[other_grid_worker], by=None)
    page = client_for(grid_worker).get(reverse("grids:my_day")).content.decode()
    assert set(re.findall(r'data-subject="(\d+)"', page)) == {str(lines["A"].pk), str(lines["keyA"].pk)}
    page = client_for(other_grid_worker).get(reverse("grids:my_day")).content.decode()
    assert set(re.findall(r'data-subject="(\d+)"', page)) == {str(lines["B"].pk), str(lines["oldB"].pk)}


# --- API: the scoping matrix ---------------------------------------------------------------

WRITERS = ("staff", "community_admin", "grid_worker", "other_grid_worker", "other_staff")
WRITABLE = {
    "staff": {"entA", "entB"},
    "community_admin": {"entA", "entB", "keyA", "oldB"},
    "grid_worker": {"entA", "keyA"},
    "other_grid_worker": {"entB", "oldB"},
    "other_staff": {"entX", "lowX"},
}
OWN_GRID = {"staff": "A", "community_admin": "B", "grid_worker": "A", "other_grid_worker": "B", "other_staff": "X"}


def _subject_rows(cast):
    return build_ledger(cast)["subjects"]


def _subject_payload(cast, rows, person):
    grid = rows[{"A": "entA", "B": "entB", "X": "entX"}[OWN_GRID[person]]].grid_id
    return {"kind": "key_enterprise", "name": "新企业", "grid": grid, "level": "yellow"}


def _subject_foreign(cast, rows, person):
    if person == "other_staff":
        return [{"grid": rows["entA"].grid_id}, {"team": [cast.users["grid_worker"].pk]}]
    return [{"grid": rows["entX"].grid_id}, {"team": [cast.users["other_staff"].pk]}]


def _visit_rows(cast):
    subjects = build_ledger(cast)["subjects"]
    return {
        f"v{label}": Visit.objects.create(
            subject=subject, way=VisitWay.PHONE, recorded_by=cast.users["staff"], visited_at=timezone.now()
        )
        for label, subject in subjects.items()
    }


def _visit_payload(cast, rows, person):
    label = {"A": "ventA", "B": "ventB", "X": "ventX"}[OWN_GRID.get(person, "A")]
    return {"subject": rows[label].subject_id, "way": VisitWay.PHONE, "found": "近况平稳"}


def _visit_foreign(cast, rows, person):
    if person == "other_staff":
        return [{"subject": rows["ventA"].subject_id}, {"workers": [cast.users["grid_worker"].pk]}]
    return [{"subject": rows["ventX"].subject_id}, {"workers": [cast.users["other_staff"].pk]}]


def _prefixed(visible: dict[str, set[str]], prefix: str) -> dict[str, set[str]]:
    return {person: {f"{prefix}{label}" for label in labels} for person, labels in visible.items()}


CASES = [
    matrix.EndpointCase(
        id="ledger-subjects",
        route="api:ledgersubject",
        build_rows=_subject_rows,
        visible=SUBJECTS_VISIBLE,
        writers=WRITERS,
        create_payload=_subject_payload,
        foreign_payloads=_subject_foreign,
        writable=WRITABLE,
        update_payload=lambda cast, rows, person: {"note": "下午来访更合适"},
    ),
    matrix.EndpointCase(
        id="visits",
        route="api:visit",
        build_rows=_visit_rows,
        visible=_prefixed(SUBJECTS_VISIBLE, "v"),
        writers=(*WRITERS, "department_user"),
        create_payload=_visit_payload,
        foreign_payloads=_visit_foreign,
    ),
    matrix.EndpointCase(
        id="ledger-due",
        route="api:ledger-due",
        build_rows=_subject_rows,
        # In each person's care: the lines of the grids they are on duty in (no line has a team);
        # the group lines only where they see the group.
        visible={
            "grid_worker": {"entA", "keyA"},
            "other_grid_worker": {"entB", "oldB"},
            "other_staff": {"entX", "lowX"},
        },
    ),
]

test_list_shows_exactly_the_visible_rows = matrix.list_test(CASES)
test_detail_outside_scope_is_404 = matrix.detail_test(CASES)
test_create_is_for_writers_only = matrix.create_test(CASES[:2])
test_foreign_keys_outside_scope_are_400 = matrix.foreign_key_test(CASES)
test_update_is_for_writers_of_their_rows = matrix.update_test(CASES)


@pytest.mark.django_db
def test_visits_cannot_be_changed_or_deleted_through_the_api(grid_worker, grids, on_duty):
    subject = enterprise(grids["A"], "乐活城")
    client = matrix.api_client(grid_worker)
    response = client.post(
        reverse("api:visit-list"), {"subject": subject.pk, "way": "face_to_face"}, "application/json"
    )
    assert response.status_code == 201, response.content
    url = reverse("api:visit-detail", args=[response.json()["id"]])
    assert client.patch(url, {"found": "x"}, "application/json").status_code == 405
    assert client.delete(url).status_code == 405
    assert client.delete(reverse("api:ledgersubject-detail", args=[subject.pk])).status_code == 405


@pytest.mark.django_db
def test_a_correction_through_the_api_replaces_the_visit_once(grid_worker, grids, on_duty):
    subject = enterprise(grids["A"], "乐活城", period="week", face_to_face_only=True)
    client = matrix.api_client(grid_worker)
    created = client.post(reverse("api:visit-list"), {"subject": subject.pk, "way": "face_to_face"}, "application/json")
    visit_id = created.json()["id"]
    due = client.get(reverse("api:ledger-due-list")).json()["results"]
    assert subject.pk not in [row["id"] for row in due]
    url = reverse("api:visit-correct", args=[visit_id])
    response = client.post(url, {"way": "phone", "correction_reason": "其实是电话"}, "application/json")
    assert response.status_code == 201, response.content
    assert response.json()["corrects"] == visit_id
    assert client.get(reverse("api:visit-detail", args=[visit_id])).json()["corrected_by"] == response.json()["id"]
    due = client.get(reverse("api:ledger-due-list")).json()["results"]
    assert subject.pk in [row["id"] for row in due]
    again = client.post(url, {"way": "wechat", "correction_reason": "再改"}, "application/json")
    assert again.status_code == 409
    assert client.post(url, {"way": "phone"}, "application/json").status_code in (400, 409)
    assert Visit.objects.filter(subject=subject).count() == 2


@pytest.mark.django_db
def test_the_api_subject_of_a_group_member_takes_their_grid_and_rule(grid_worker, compounds, on_duty, department):
    membership = member(
        compounds["A"], "矫正对象甲", GroupKind.COMMUNITY_CORRECTION, department=department, level="strict"
    )
    client = matrix.api_client(grid_worker)
    response = client.post(
        reverse("api:ledgersubject-list"),
        {"kind": "key_person", "resident": membership.resident_id, "group": GroupKind.COMMUNITY_CORRECTION},
        "application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["period"], body["face_to_face_only"], body["is_due"]) == (
        "矫正对象甲",
        "week",
        True,
        True,
    )
    assert body["grid"] == compounds["A"].grid_id
    # A group the person does not see is refused.
    other = member(compounds["B"], "独居老人乙", GroupKind.ELDERLY_ALONE, department=department)
    response = client.post(
        reverse("api:ledgersubject-list"),
        {"kind": "special_group", "resident": other.resident_id, "group": GroupKind.ELDERLY_ALONE},
        "application/json",
    )
    assert response.status_code == 400


def _jpeg(name: str) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(out, format="JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


@pytest.mark.django_db
def test_an_api_visit_takes_photos_and_a_signature_checked_like_the_forms(grid_worker, grids, on_duty, media_root):
    subject = enterprise(grids["A"], "乐活城")
    url = reverse("api:visit-list")
    with matrix.fresh_throttle_cache():
        client = matrix.api_client(grid_worker)
        too_many = [_jpeg(f"{number}.jpg") for number in range(7)]
        response = client.post(url, {"subject": subject.pk, "way": "face_to_face", "photos": too_many})
        assert response.status_code == 400
        assert "photos" in response.json()
        not_an_image = io.BytesIO(b"%PDF-1.4 not a picture")
        not_an_image.name = "signature.pdf"
        response = client.post(url, {"subject": subject.pk, "way": "face_to_face", "signature": not_an_image})
        assert response.status_code == 400
        assert "signature" in response.json()
        assert not Visit.objects.filter(subject=subject).exists()
        response = client.post(
            url,
            {
                "subject": subject.pk,
                "way": "face_to_face",
                "photos": [_jpeg("a.jpg"), _jpeg("b.jpg")],
                "signature": _jpeg("s.jpg"),
            },
        )
    assert response.status_code == 201, response.content
    assert len(response.json()["photos"]) == 2
    recorded = Visit.objects.get(subject=subject)
    assert recorded.signature.original_name == "s.jpg"
