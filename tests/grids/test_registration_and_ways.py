"""人户分离 (a person living here registered elsewhere, and the reverse) is a registration status of
the form, the API and the import; a visit may be a video call or a talk at the office (来访/约谈),
which meets a face-to-face rule, as a video call does not."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from grids.models import GroupKind, RegistrationStatus, Resident, Visit, VisitWay
from grids.models.ledger import IN_PERSON_WAYS
from tests.api import matrix
from tests.conftest import client_for
from tests.grids.ledger_world import enterprise, line_for, member
from tests.grids.people_world import build_people, resident_id
from tests.grids.test_people_import import row, sheet, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def test_the_import_reads_both_kinds_of_separation(request, staff):
    build_people(matrix.build_cast(request))
    response = upload(
        staff,
        sheet(
            row("甲", resident_id("1980-01-01", 61), 户籍状态="人在户不在", 出生日期=""),
            row("乙", resident_id("1981-01-01", 63), 户籍状态="户在人不在", 出生日期="", 与户主关系="配偶"),
        ),
    )
    assert response.status_code == 302, response.context["result"].errors
    assert Resident.objects.get(name="甲").registration_status == RegistrationStatus.REGISTERED_ELSEWHERE
    assert Resident.objects.get(name="乙").registration_status == RegistrationStatus.LIVING_ELSEWHERE


def test_the_api_takes_a_separated_registration(request, staff):
    people = build_people(matrix.build_cast(request))
    resident = people["residents"]["A"]
    with matrix.fresh_throttle_cache():
        response = matrix.api_client(staff).patch(
            reverse("api:resident-detail", args=[resident.pk]),
            {"registration_status": "registered_elsewhere"},
            content_type="application/json",
        )
    assert response.status_code == 200, response.content
    assert Resident.objects.get(pk=resident.pk).registration_status == RegistrationStatus.REGISTERED_ELSEWHERE


def test_the_visit_form_offers_video_and_office_and_an_office_talk_is_in_person(
    grid_worker, grids, compounds, on_duty, department
):
    strict = line_for(
        member(compounds["A"], "周志强", GroupKind.COMMUNITY_CORRECTION, department=department, level="strict"),
        team=(grid_worker,),
    )
    client = client_for(grid_worker)
    url = reverse("grids:visit_create", args=[strict.pk])
    ways = [value for value, _label in client.get(url).context["form"].fields["way"].choices]
    assert {VisitWay.VIDEO, VisitWay.OFFICE} <= set(ways)
    response = client.post(url, {"way": VisitWay.OFFICE, "visited_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 302
    assert Visit.objects.get(subject=strict).way == VisitWay.OFFICE
    assert VisitWay.OFFICE in IN_PERSON_WAYS
    assert VisitWay.VIDEO not in IN_PERSON_WAYS


def test_the_api_records_a_video_call(grid_worker, grids, on_duty):
    subject = enterprise(grids["A"], "乐活城")
    response = matrix.api_client(grid_worker).post(
        reverse("api:visit-list"), {"subject": subject.pk, "way": "video"}, "application/json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["way"] == "video"
