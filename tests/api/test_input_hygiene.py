"""What the portal accepts as input, on pages and in the API alike: no control characters in
text (tab and line breaks are fine), and a body over the size limit is a JSON 413 on the API,
in the shape of the one error schema."""

from __future__ import annotations

import datetime

import jsonschema
import pytest
from django.urls import reverse

from grids.models import Dwelling
from shanglong.models import ApiToken, CalendarDay, Department, DepartmentLevel, User
from tests.api import matrix
from tests.api.matrix import api_client, bearer_client
from tests.conftest import client_for
from tests.grids.people_world import build_people
from tests.grids.test_party_api import build_party_world

pytestmark = pytest.mark.django_db

CONTROL_MESSAGE = "This text contains an invisible control character (U+0015)."


# --- Control characters ---------------------------------------------------------------------


def test_the_api_refuses_a_control_character_in_a_dwellings_unit(request, staff):
    dwelling = build_people(matrix.build_cast(request))["dwellings"]["A"]
    url = reverse("api:dwelling-detail", args=[dwelling.pk])
    payload = {"building": dwelling.building_id, "unit": "1\x15单元", "room": dwelling.room}
    response = api_client(staff).put(url, payload, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["unit"][0].startswith(CONTROL_MESSAGE)
    assert Dwelling.objects.get(pk=dwelling.pk).unit == "1单元"


def test_the_api_refuses_a_control_character_in_a_field_of_no_model(staff):
    """The name of a new API token is a field of a plain serializer, not of a model."""
    response = api_client(staff).post(
        reverse("api:apitoken-list"), {"name": "app\x01"}, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert "U+0001" in response.json()["name"][0]
    assert not ApiToken.objects.exists()


def test_the_api_keeps_tabs_and_line_breaks(staff):
    payload = {"name": "民政办", "level": DepartmentLevel.COMMUNITY, "community": staff.community_id}
    payload["contact"] = "王主任\t(周一)\r\n李干事"
    response = api_client(staff).post(reverse("api:department-list"), payload, content_type="application/json")
    assert response.status_code == 201, response.content
    assert Department.objects.get(name="民政办").contact == "王主任\t(周一)\r\n李干事"


def test_a_page_form_refuses_a_control_character_next_to_the_field_and_keeps_the_input(community_admin):
    data = {"date": "2027-10-01", "kind": "holiday", "name": "国庆\x1b节"}
    response = client_for(community_admin).post(reverse("calendar_add"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    form = response.context["form"]
    assert [error.code for error in form.errors.as_data()["name"]] == ["control_character"]
    assert "U+001B" in response.content.decode()
    assert form["date"].value() == "2027-10-01"
    assert not CalendarDay.objects.filter(date=datetime.date(2027, 10, 1)).exists()


def test_a_page_form_field_of_no_model_refuses_a_control_character(staff):
    """The log-in form's username is a form field of no model."""
    response = api_client(None).post(reverse("login"), {"username": "staff1\x07", "password": "x"})
    assert response.status_code == 200
    assert "U+0007" in str(response.context["form"].errors["username"])


# --- Body size ------------------------------------------------------------------------------


@pytest.fixture
def small_body_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def _error_schema(user: User) -> dict:
    schema = api_client(user).get(reverse("api-schema"), {"format": "json"}).json()
    error = schema["components"]["schemas"]["Error"]
    return {**error, "components": schema["components"]}


def test_a_json_body_over_the_limit_is_a_json_413(staff, small_body_limit):
    payload = {"name": "x" * 4000, "level": DepartmentLevel.COMMUNITY, "community": staff.community_id}
    response = api_client(staff).post(reverse("api:department-list"), payload, content_type="application/json")
    assert response.status_code == 413, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "The request body is too large; the limit is 2.0\xa0KB, files not counted.",
        "code": "too_large",
    }
    assert not Department.objects.filter(level=DepartmentLevel.COMMUNITY).exists()


def test_a_form_body_over_the_limit_with_a_token_is_a_json_413(staff, small_body_limit):
    _, key = ApiToken.objects.issue(user=staff, name="app")
    response = bearer_client(key).post(reverse("api:department-list"), {"name": "x" * 4000, "level": "community"})
    assert response.status_code == 413, response.content
    assert response.json()["code"] == "too_large"


def test_the_413_is_documented_and_its_body_matches_the_error_schema(staff, small_body_limit):
    schema = api_client(staff).get(reverse("api-schema"), {"format": "json"}).json()
    responses = schema["paths"]["/api/v1/departments/"]["post"]["responses"]
    assert responses["413"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    body = (
        api_client(staff)
        .post(reverse("api:department-list"), {"name": "x" * 4000}, content_type="application/json")
        .json()
    )
    jsonschema.validate(body, _error_schema(staff))


@pytest.mark.parametrize(
    ("method", "path", "payload", "content_type", "status"),
    [
        ("post", "/api/v1/departments/", {"name": ""}, "application/json", 400),  # field errors
        ("post", "/api/v1/departments/", "{", "application/json", 400),  # malformed
        ("get", "/api/v1/departments/999999/", None, "application/json", 404),
        ("post", "/api/v1/departments/", "<x/>", "application/xml", 415),
        ("post", "/api/v1/tokens/999999/revoke/", None, "application/json", 404),
    ],
)
def test_error_answers_match_the_one_error_schema(staff, method, path, payload, content_type, status):
    response = getattr(api_client(staff), method)(path, payload, content_type=content_type)
    assert response.status_code == status, response.content
    jsonschema.validate(response.json(), _error_schema(staff))
    documented = api_client(staff).get(reverse("api-schema"), {"format": "json"}).json()
    template = path.replace("999999", "{id}")
    assert str(status) in documented["paths"][template][method]["responses"]


def test_a_model_check_outside_the_fields_is_an_object_under_non_field_errors(request, staff):
    """The model refuses a report for a year that has not begun (its clean(), not a field):
    the body is {"non_field_errors": [...]}, not a bare list, like every error body."""
    registration = build_party_world(matrix.build_cast(request))["registrations"]["reg1"]
    url = reverse("api:inworkregistration-mark-report-sent", args=[registration.pk])
    next_year = datetime.date.today().year + 1
    response = api_client(staff).post(url, {"year": next_year}, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json() == {"non_field_errors": ["A report cannot be sent for a year that has not begun."]}
    jsonschema.validate(response.json(), _error_schema(staff))


def test_a_401_matches_the_error_schema(staff):
    response = bearer_client("nope.nope").get("/api/v1/departments/")
    assert response.status_code == 401
    jsonschema.validate(response.json(), _error_schema(staff))
