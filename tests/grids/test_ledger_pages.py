"""The ledger's pages: My day, recording and correcting a visit (photos, signature, a finding),
keeping subjects, the export; and My day as the grid worker's start page."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook
from PIL import Image

from grids.models import Finding, GroupKind, LedgerSubject, Visit, VisitPeriod, VisitWay
from shanglong.models import AccessAction, AccessLog, Attachment, User
from tests.conftest import client_for
from tests.grids.ledger_world import civil_affairs, enterprise, line_for, member, visit

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
LONG_AGO = TODAY - datetime.timedelta(days=120)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def day(grids, compounds, on_duty, grid_worker, department, subdistrict):
    """Grid A, in grid1's care: an overdue weekly strict member, a weekly enterprise visited last
    week (due), a monthly enterprise done this month, and an elderly person living alone."""
    strict = line_for(
        member(compounds["A"], "周志强", GroupKind.COMMUNITY_CORRECTION, department=department, level="strict"),
        team=(grid_worker,),
        entered_on=LONG_AGO,
    )
    weekly = enterprise(grids["A"], "乐活城", team=(grid_worker,), entered_on=LONG_AGO, period=VisitPeriod.WEEK)
    visit(weekly, timezone.now() - datetime.timedelta(days=7))
    done = enterprise(grids["A"], "供销商场", team=(grid_worker,), entered_on=LONG_AGO)
    visit(done, timezone.now() - datetime.timedelta(minutes=3))
    alone = line_for(
        member(compounds["A"], "刘桂英", GroupKind.ELDERLY_ALONE, department=civil_affairs(subdistrict)),
        team=(grid_worker,),
        entered_on=LONG_AGO,
    )
    visit(alone, timezone.now() - datetime.timedelta(days=7), VisitWay.PHONE)
    return {"strict": strict, "weekly": weekly, "done": done, "alone": alone}


def jpeg(name: str = "photo.jpg") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(out, format="JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def now_field() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


def test_a_grid_worker_starts_the_day_on_my_day(grid_worker, day):
    client = client_for(grid_worker)
    assert client.get(reverse("home")).url == reverse("grids:my_day")
    response = client.get(reverse("grids:my_day"))
    assert response.status_code == 200
    assert [item["line"].name for item in response.context["overdue"]] == ["周志强"]
    pending = [item["line"].name for item in (*response.context["due_today"], *response.context["later"])]
    assert sorted(pending) == ["乐活城", "刘桂英"]
    assert response.context["visits_remaining"] == 3
    page = response.content.decode()
    assert "供销商场" not in page  # done this month
    assert f'href="{reverse("grids:visit_create", args=[day["strict"].pk])}"' in page
    assert 'data-nav="my_day"' in page
    assert reverse("grids:patrol_home") in page


def test_my_day_shows_the_open_findings_of_my_grids(grid_worker, grids, day):
    Finding.objects.create(grid=grids["A"], description="燃气软管老化", reported_by=grid_worker)
    Finding.objects.create(grid=grids["B"], description="别的网格", reported_by=grid_worker)
    page = client_for(grid_worker).get(reverse("grids:my_day")).content.decode()
    assert "燃气软管老化" in page
    assert "别的网格" not in page


def test_the_visit_form_preselects_the_way_from_the_rule(grid_worker, day):
    client = client_for(grid_worker)
    strict_form = client.get(reverse("grids:visit_create", args=[day["strict"].pk])).context["form"]
    assert strict_form["way"].value() == VisitWay.FACE_TO_FACE
    alone_form = client.get(reverse("grids:visit_create", args=[day["alone"].pk])).context["form"]
    assert alone_form["way"].value() == VisitWay.PHONE


def test_two_taps_record_a_visit_and_the_subject_is_no_longer_due(grid_worker, day):
    client = client_for(grid_worker)
    url = reverse("grids:visit_create", args=[day["strict"].pk])
    form = client.get(url).context["form"]
    # Saving the form as it comes: the preselected way and the time now.
    response = client.post(url, {"way": form["way"].value(), "visited_at": now_field()})
    assert response.status_code == 302
    assert response.url == reverse("grids:my_day")
    recorded = Visit.objects.get(subject=day["strict"])
    assert (recorded.way, recorded.recorded_by) == (VisitWay.FACE_TO_FACE, grid_worker)
    assert list(recorded.workers.all()) == [grid_worker]
    my_day = client.get(reverse("grids:my_day")).context
    assert "周志强" not in [item["line"].name for item in (*my_day["overdue"], *my_day["due_today"], *my_day["later"])]


def test_a_visit_with_photos_a_signature_and_a_finding(grid_worker, day, media_root):
    client = client_for(grid_worker)
    url = reverse("grids:visit_create", args=[day["weekly"].pk])
    response = client.post(
        url,
        {
            "way": VisitWay.FACE_TO_FACE,
            "visited_at": now_field(),
            "found": "消防通道堆放杂物",
            "help_given": "现场讲解",
            "problems": "后门消防通道被货物堵塞",
            "raise_finding": "on",
            "photos": [jpeg("one.jpg"), jpeg("two.jpg")],
            "signature": jpeg("signature.jpg"),
            "latitude": "37.463100",
            "longitude": "118.495200",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    recorded = Visit.objects.filter(subject=day["weekly"], recorded_by=grid_worker).latest("pk")
    assert Attachment.objects.for_record(recorded).count() == 2
    assert recorded.signature.original_name == "signature.jpg"
    assert recorded.finding.description == "后门消防通道被货物堵塞"
    assert (recorded.finding.grid, recorded.finding.place) == (day["weekly"].grid, "乐活城")
    assert recorded.has_position
    # The photos are served to those who see the subject only.
    photo = Attachment.objects.for_record(recorded).first()
    assert client.get(reverse("attachment", args=[photo.pk])).status_code == 200
    assert client.get(reverse("attachment", args=[recorded.signature_id])).status_code == 200


def test_a_finding_about_a_person_does_not_name_them(grid_worker, day):
    client = client_for(grid_worker)
    client.post(
        reverse("grids:visit_create", args=[day["strict"].pk]),
        {"way": VisitWay.FACE_TO_FACE, "visited_at": now_field(), "problems": "楼道灯坏了", "raise_finding": "on"},
    )
    finding = Visit.objects.get(subject=day["strict"]).finding
    assert finding.place == ""
    assert "周志强" not in finding.description


def test_the_visit_form_keeps_what_was_typed_and_explains_errors(grid_worker, day):
    client = client_for(grid_worker)
    future = (timezone.localtime() + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("grids:visit_create", args=[day["strict"].pk]),
        {"way": VisitWay.JOINT, "visited_at": future, "found": "情况", "raise_finding": "on"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"visited_at", "joint_department", "problems"}
    assert "情况" in response.content.decode()
    assert not Visit.objects.filter(subject=day["strict"]).exists()


def test_a_correction_replaces_the_visit_and_keeps_it(grid_worker, day):
    original = visit(day["strict"], timezone.now() - datetime.timedelta(hours=1), VisitWay.FACE_TO_FACE, by=grid_worker)
    client = client_for(grid_worker)
    url = reverse("grids:visit_correct", args=[original.pk])
    form = client.get(url).context["form"]
    assert form["way"].value() == VisitWay.FACE_TO_FACE
    response = client.post(
        url, {"way": VisitWay.PHONE, "visited_at": now_field(), "correction_reason": "其实是电话联系"}
    )
    assert response.status_code == 302
    correction = Visit.objects.get(corrects=original)
    assert correction.way == VisitWay.PHONE
    assert Visit.objects.get(pk=original.pk).way == VisitWay.FACE_TO_FACE  # untouched
    # The strict rule needs a face-to-face visit again.
    assert LedgerSubject.objects.with_status().get(pk=day["strict"].pk).is_due
    # A corrected visit is not corrected twice.
    response = client.get(url)
    assert response.status_code == 302
    detail = client.get(reverse("grids:ledger_subject", args=[day["strict"].pk])).content.decode()
    assert "corrected" in detail


def test_staff_add_an_enterprise_and_it_leaves_the_ledger(staff, grids, on_duty):
    client = client_for(staff)
    response = client.post(
        reverse("grids:ledger_subject_create"),
        {"kind": "key_enterprise", "name": "韩国城", "grid": grids["C"].pk, "level": "red", "entered_on": TODAY},
    )
    assert response.status_code == 302, response.context["form"].errors
    subject = LedgerSubject.objects.get(name="韩国城")
    assert subject.rule == (1, VisitPeriod.WEEK, True)  # the rule of a red enterprise
    response = client.post(reverse("grids:ledger_subject_end", args=[subject.pk]), {"left_on": TODAY})
    assert response.status_code == 302
    subject.refresh_from_db()
    assert subject.left_on == TODAY
    assert subject.history.count() == 2


def test_a_grid_worker_adds_a_group_member_of_their_grid(grid_worker, compounds, on_duty, department, grids):
    membership = member(compounds["A"], "周志强", GroupKind.COMMUNITY_CORRECTION, department=department, level="strict")
    elsewhere = member(compounds["B"], "别人", GroupKind.COMMUNITY_CORRECTION, department=department)
    client = client_for(grid_worker)
    form = client.get(reverse("grids:ledger_subject_create")).context["form"]
    assert list(form.fields["membership"].queryset) == [membership]
    assert elsewhere not in form.fields["grid"].queryset
    response = client.post(
        reverse("grids:ledger_subject_create"),
        {"kind": "key_person", "membership": membership.pk, "entered_on": TODAY, "team": [grid_worker.pk]},
    )
    assert response.status_code == 302, response.context["form"].errors
    subject = LedgerSubject.objects.get(resident=membership.resident)
    assert (subject.grid, subject.group, subject.level) == (grids["A"], GroupKind.COMMUNITY_CORRECTION, "strict")
    assert list(subject.team.all()) == [grid_worker]


def test_who_answers_for_a_subject_follows_its_team_however_the_team_is_written(
    staff, grid_worker, other_grid_worker, grids, on_duty
):
    """The people on duty in its grid answer for a subject with no team (in_care_of, read from
    has_team): kept right by the page, the API and the admin."""

    def in_grid1s_care() -> bool:
        return LedgerSubject.objects.in_care_of(grid_worker).filter(name="韩国城").exists()

    client = client_for(staff)
    fields = {"kind": "key_enterprise", "name": "韩国城", "grid": grids["A"].pk, "level": "yellow"}
    response = client.post(
        reverse("grids:ledger_subject_create"),
        {**fields, "entered_on": TODAY, "team": [other_grid_worker.pk]},
    )
    assert response.status_code == 302, response.context["form"].errors
    subject = LedgerSubject.objects.get(name="韩国城")
    assert (subject.has_team, in_grid1s_care()) == (True, False)  # grid2 answers for it
    response = client.post(reverse("grids:ledger_subject_edit", args=[subject.pk]), {**fields, "entered_on": LONG_AGO})
    assert response.status_code == 302, response.context["form"].errors
    subject.refresh_from_db()
    assert (subject.has_team, in_grid1s_care()) == (False, True)  # no team: grid1, on duty in A
    assert "韩国城" in client_for(grid_worker).get(reverse("grids:my_day")).content.decode()

    api = client_for(staff)
    url = reverse("api:ledgersubject-detail", args=[subject.pk])
    response = api.patch(url, {"team": [other_grid_worker.pk]}, content_type="application/json")
    assert response.status_code == 200, response.content
    subject.refresh_from_db()
    assert (subject.has_team, in_grid1s_care()) == (True, False)

    root = User.objects.create_superuser("root", password="x")
    admin = client_for(root)
    form = admin.get(reverse("admin:grids_ledgersubject_change", args=[subject.pk])).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "team"}
    data["entered_on"] = LONG_AGO
    response = admin.post(reverse("admin:grids_ledgersubject_change", args=[subject.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    subject.refresh_from_db()
    assert (subject.has_team, in_grid1s_care()) == (False, True)


def test_the_export_has_the_paper_ledgers_columns_in_one_query(staff, grids, on_duty, django_assert_num_queries):
    subject = enterprise(grids["A"], "乐活城", entered_on=LONG_AGO, period=VisitPeriod.WEEK)
    visit(subject, timezone.now() - datetime.timedelta(minutes=1))
    for number in range(5):
        enterprise(grids["A"], f"企业{number}", entered_on=LONG_AGO)
    client = client_for(staff)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    # session, user, grid choice, the ledger (one query with annotations), the access-log line
    with django_assert_num_queries(5):
        response = client.get(reverse("grids:ledger_export"), {"grid": grids["A"].pk})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[1][:10] == (
        "Grid",
        "Subject",
        "Kind",
        "Group",
        "Management level",
        "Visit rule",
        "Last visit",
        "Visits this period",
        "Visits this year",
        "Next due",
    )
    first = next(row for row in rows[2:] if row[1] == "乐活城")
    assert first[5] == "1 per week"
    assert (first[7], first[8]) == (1, 1)
    assert len(rows) == 2 + 6
    assert AccessLog.objects.filter(action=AccessAction.EXPORT, target=f"ledger:grid-{grids['A'].pk}").exists()
