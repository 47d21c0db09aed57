"""The people API: the scoping matrix over the test cast (addresses, residents, group
memberships, rented flats, the group access table), masking, reveals and query counts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from grids.models import Duty, GridAssignment, GroupKind, GroupMembership, Resident
from shanglong.models import AccessAction, AccessLog
from tests.api import matrix
from tests.grids.people_world import build_people, resident_id

COMMUNITY_STAFF = ("staff", "community_admin")
PEOPLE_WRITERS = ("staff", "community_admin", "grid_worker", "other_grid_worker", "other_staff")


def _rows(key: str, labels: dict[str, str] | None = None):
    def build(cast):
        rows = build_people(cast)[key]
        return {(labels or {}).get(label, label): row for label, row in rows.items()}

    return build


def _address_visible(own: set[str], a: str, b: str, x: str) -> dict[str, set[str]]:
    return {
        "staff": own,
        "community_admin": own,
        "grid_worker": {a},
        "other_grid_worker": {b},
        "subdistrict_user": own | {x},
        "other_staff": {x},
    }


def _other(person: str) -> bool:
    return person == "other_staff"


def _own_label(person: str) -> str:
    return {"other_staff": "X", "other_grid_worker": "B"}.get(person, "A")


def _building_payload(cast, rows, person):
    return {"compound": rows[_own_label(person)].compound_id, "name": f"9号楼-{person}"}


def _building_foreign(cast, rows, person):
    return [{"compound": rows["A" if _other(person) else "X"].compound_id}]


def _dwelling_payload(cast, rows, person):
    return {"building": rows[_own_label(person)].building_id, "unit": "", "room": f"9{len(person)}"}


def _dwelling_foreign(cast, rows, person):
    return [{"building": rows["A" if _other(person) else "X"].building_id}]


def _resident_payload(cast, rows, person):
    sequence = 100 + PEOPLE_WRITERS.index(person) if person in PEOPLE_WRITERS else 199
    return {
        "name": "新居民",
        "gender": "male",
        "birth_date": "1990-01-02",
        "id_type": "resident_id",
        "id_number": resident_id("1990-01-02", sequence),
        "mobile": "139 0000 1234",
        "dwelling": rows[_own_label(person)].dwelling_id,
        "relation": "self",
        "registration_status": "resident",
    }


def _resident_foreign(cast, rows, person):
    return [{"dwelling": rows["A" if _other(person) else "X"].dwelling_id}]


def _membership_payload(cast, rows, person):
    resident = {"other_staff": "mX", "other_grid_worker": "mB"}.get(person, "mA")
    return {
        "resident": rows[resident].resident_id,
        "kind": GroupKind.KEY_YOUTH,
        "level": "dept_low",
        "department": cast.department.pk,
        "since": "2025-06-01",
    }


def _membership_foreign(cast, rows, person):
    return [{"resident": rows["mA" if _other(person) else "mX"].resident_id}]


def _tenancy_payload(cast, rows, person):
    row = rows[{"other_staff": "tX"}.get(person, "tA")]
    if person == "other_grid_worker":
        resident = Resident.objects.get(name="居民B")
        return {"dwelling": resident.dwelling_id, "tenant": resident.pk, "owner_name": "房东", "since": "2025-02-01"}
    return {"dwelling": row.dwelling_id, "tenant": row.tenant_id, "owner_name": "房东", "since": "2025-02-01"}


def _tenancy_foreign(cast, rows, person):
    far = rows["tA" if _other(person) else "tX"]
    return [{"tenant": far.tenant_id}, {"dwelling": far.dwelling_id}]


def _rows_by_duty(cast):
    """build_people's memberships, with grid2 a building head in B (not its grid head) and a
    severe mental disorder member in A (seen by default by its department, not grid1)."""
    world = build_people(cast)
    GridAssignment.objects.filter(user=cast.users["other_grid_worker"]).update(duty=Duty.BUILDING_HEAD)
    resident = world["residents"]["A"]
    mental = GroupMembership.objects.create(
        resident=resident, kind=GroupKind.SEVERE_MENTAL_DISORDER, level="risk_1", department=cast.department
    )
    return {**world["memberships"], "sA": mental}


# Who changes which row of the address book and the residents (A, B: the cast's community's
# grids; X: the other community's): community staff their community, grid workers their grid.
ADDRESS_WRITABLE = {
    "staff": {"A", "B"},
    "community_admin": {"A", "B"},
    "grid_worker": {"A"},
    "other_grid_worker": {"B"},
    "other_staff": {"X"},
}
OWN_RULES = {f"own-{kind}" for kind in GroupKind.values}
OTHER_RULES = {f"other-{kind}" for kind in GroupKind.values}

CASES = [
    matrix.EndpointCase(
        id="residential-buildings",
        route="api:residentialbuilding",
        build_rows=_rows("buildings"),
        visible=_address_visible({"A", "B"}, "A", "B", "X"),
        writers=PEOPLE_WRITERS,
        create_payload=_building_payload,
        foreign_payloads=_building_foreign,
        writable=ADDRESS_WRITABLE,
        update_payload=lambda cast, rows, person: {"name": f"改名{person}"},
    ),
    matrix.EndpointCase(
        id="dwellings",
        route="api:dwelling",
        build_rows=_rows("dwellings"),
        visible=_address_visible({"A", "B"}, "A", "B", "X"),
        writers=PEOPLE_WRITERS,
        create_payload=_dwelling_payload,
        foreign_payloads=_dwelling_foreign,
        writable=ADDRESS_WRITABLE,
        update_payload=lambda cast, rows, person: {"unit": f"{len(person)}单元"},
    ),
    matrix.EndpointCase(
        id="residents",
        route="api:resident",
        build_rows=_rows("residents"),
        visible={**_address_visible({"A", "B"}, "A", "B", "X"), "department_user": {"A"}},
        writers=PEOPLE_WRITERS,
        create_payload=_resident_payload,
        foreign_payloads=_resident_foreign,
        writable=ADDRESS_WRITABLE,
        update_payload=lambda cast, rows, person: {"registration_status": "floating"},
    ),
    matrix.EndpointCase(
        id="group-memberships",
        route="api:groupmembership",
        build_rows=_rows("memberships"),
        visible={
            "community_admin": {"mA", "mB"},
            "grid_worker": {"mA"},
            "other_grid_worker": {"mB"},
            "department_user": {"mA"},
            "other_staff": {"mX"},
        },
        writers=("community_admin", "grid_worker", "other_grid_worker", "other_staff"),
        create_payload=_membership_payload,
        foreign_payloads=_membership_foreign,
        writable={
            "community_admin": {"mA", "mB"},
            "grid_worker": {"mA"},
            "other_grid_worker": {"mB"},
            "other_staff": {"mX"},
        },  # fmt: skip
        update_payload=lambda cast, rows, person: {"note": "上午走访"},
    ),
    matrix.EndpointCase(
        id="group-memberships-by-duty",
        route="api:groupmembership",
        build_rows=_rows_by_duty,
        visible={
            "community_admin": {"mA", "mB", "sA"},
            "grid_worker": {"mA"},
            "department_user": {"mA", "sA"},
            "other_staff": {"mX"},
        },
        writers=("community_admin", "grid_worker", "other_staff"),
        create_payload=_membership_payload,
        foreign_payloads=_membership_foreign,
        writable={"community_admin": {"mA", "mB", "sA"}, "grid_worker": {"mA"}, "other_staff": {"mX"}},
        update_payload=lambda cast, rows, person: {"note": "上午走访"},
    ),
    matrix.EndpointCase(
        id="tenancies",
        route="api:tenancy",
        build_rows=_rows("tenancies"),
        visible={
            "staff": {"tA"},
            "community_admin": {"tA"},
            "grid_worker": {"tA"},
            "subdistrict_user": {"tA", "tX"},
            "other_staff": {"tX"},
        },
        writers=PEOPLE_WRITERS,
        create_payload=_tenancy_payload,
        foreign_payloads=_tenancy_foreign,
        writable={"staff": {"tA"}, "community_admin": {"tA"}, "grid_worker": {"tA"}, "other_staff": {"tX"}},
        update_payload=lambda cast, rows, person: {"until": "2099-12-31"},
    ),
    matrix.EndpointCase(
        id="group-access-rules",
        route="api:groupaccessrule",
        build_rows=_rows("rules"),
        visible={"staff": OWN_RULES, "community_admin": OWN_RULES, "other_staff": OTHER_RULES},
        writers=("community_admin",),
        writable={"community_admin": OWN_RULES},
        update_payload=lambda cast, rows, person: {"grid_workers": False},
    ),
]

test_list_shows_exactly_the_visible_rows = matrix.list_test(CASES)
test_detail_outside_scope_is_404 = matrix.detail_test(CASES)
# The group access table has a row per kind from the start: nobody creates rows (405 / 403).
test_create_is_for_writers_only = matrix.create_test([case for case in CASES if case.create_payload is not None])
test_foreign_keys_outside_scope_are_400 = matrix.foreign_key_test(CASES)
test_update_is_for_writers_of_their_rows = matrix.update_test(CASES)


@pytest.mark.django_db
@pytest.mark.parametrize("person", ["community_admin", "staff", "grid_worker"])
def test_nobody_creates_group_access_rows(request, person):
    cast = matrix.build_cast(request)
    build_people(cast)
    response = api_post(cast.users[person], reverse("api:groupaccessrule-list"), {"kind": "drug_user"})
    assert response.status_code in (403, 405)


# --- Masking and reveals -----------------------------------------------------------------------


@pytest.fixture
def people(request):
    return build_people(matrix.build_cast(request))


def api_get(user, url, **params):
    with matrix.fresh_throttle_cache():
        return matrix.api_client(user).get(url, params)


def api_post(user, url, payload):
    with matrix.fresh_throttle_cache():
        return matrix.api_client(user).post(url, payload, content_type="application/json")


@pytest.mark.django_db
def test_identity_numbers_and_mobiles_are_masked_in_the_api(staff, people):
    resident = people["residents"]["A"]
    body = api_get(staff, reverse("api:resident-detail", args=[resident.pk])).json()
    assert body["id_number"] == f"{resident.id_number[:3]}***********{resident.id_number[-4:]}"
    assert body["mobile"] == f"{resident.mobile[:3]}****{resident.mobile[-4:]}"
    assert resident.id_number not in str(body)
    assert body["address"] == "小区cA1号楼1单元101"
    assert body["groups"] == []  # staff see the resident without the group


@pytest.mark.django_db
def test_a_grid_worker_reveals_a_mobile_through_the_api_and_it_is_logged(grid_worker, people):
    resident = people["residents"]["A"]
    response = api_post(
        grid_worker, reverse("api:resident-reveal", args=[resident.pk]), {"field": "mobile", "reason": "service"}
    )
    assert response.status_code == 200
    assert response.json() == {"field": "mobile", "value": resident.mobile}
    assert response["Cache-Control"] == "private, no-store"
    log = AccessLog.objects.get(action=AccessAction.REVEAL)
    assert (log.user, log.target) == (grid_worker, f"resident:{resident.pk}:mobile")


@pytest.mark.django_db
@pytest.mark.parametrize("person", ["department_user", "subdistrict_user"])
def test_readers_who_see_a_resident_may_not_reveal(request, person, people):
    user = request.getfixturevalue(person)
    resident = people["residents"]["A"]
    response = api_post(user, reverse("api:resident-reveal", args=[resident.pk]), {"field": "id_number"})
    assert response.status_code == 403
    assert not AccessLog.objects.filter(action=AccessAction.REVEAL).exists()


@pytest.mark.django_db
def test_a_resident_outside_scope_cannot_be_revealed(other_grid_worker, people):
    resident = people["residents"]["A"]
    response = api_post(other_grid_worker, reverse("api:resident-reveal", args=[resident.pk]), {"field": "mobile"})
    assert response.status_code == 404
    assert not AccessLog.objects.exists()


@pytest.mark.django_db
def test_the_api_refuses_a_bad_check_character_and_a_duplicate(staff, people):
    number = resident_id("1990-01-02", 7)
    payload = {
        "name": "甲",
        "gender": "male",
        "birth_date": "1990-01-02",
        "id_type": "resident_id",
        "id_number": number[:-1] + ("0" if number[-1] != "0" else "1"),
        "dwelling": people["dwellings"]["A"].pk,
    }
    response = api_post(staff, reverse("api:resident-list"), payload)
    assert response.status_code == 400
    assert "does not match" in response.json()["id_number"][0]
    existing = people["residents"]["B"]
    response = api_post(
        staff, reverse("api:resident-list"), {**payload, "id_number": existing.id_number, "birth_date": "1980-05-17"}
    )
    assert response.status_code == 400
    assert "already in the registry" in response.json()["id_number"][0]


@pytest.mark.django_db
def test_search_finds_by_last_digits_address_and_exact_id(staff, people):
    resident = people["residents"]["B"]
    url = reverse("api:resident-list")
    for query in (resident.mobile[-4:], "cB1号楼", "小区cB 1号楼 102", resident.id_number, resident.id_number.lower()):
        assert matrix.listed_ids(api_get(staff, url, q=query)) == [resident.pk], query
    assert matrix.listed_ids(api_get(staff, url, q=resident.id_number[:-2])) == []  # no partial ID search


# --- Query counts ------------------------------------------------------------------------------


def populate(world, rows: int) -> None:
    from tests.grids.people_world import make_resident

    dwelling = world["dwellings"]["A"]
    for number in range(rows):
        resident = make_resident(dwelling, f"批量{number:02d}", 300 + number)
        resident.group_memberships.create(
            kind=GroupKind.ELDERLY_ALONE, level="general_care", department=world["civil_affairs"], since="2025-01-01"
        )


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [5, 50])
def test_resident_api_list_queries(grid_worker, people, django_assert_num_queries, rows):
    populate(people, rows)
    client = matrix.api_client(grid_worker)
    # session, user, count, residents (with address), their visible groups (with department)
    with matrix.fresh_throttle_cache(), django_assert_num_queries(5):
        response = client.get(reverse("api:resident-list"))
    body = response.json()
    assert body["count"] == rows + 1
    assert all(len(item["groups"]) == 1 for item in body["results"])


@pytest.mark.django_db
def test_moving_out_through_the_api_keeps_the_record(grid_worker, other_grid_worker, people):
    resident = people["residents"]["A"]
    url = reverse("api:resident-move-out", args=[resident.pk])
    assert api_post(other_grid_worker, url, {"moved_out": "2025-10-01"}).status_code == 404
    response = api_post(grid_worker, url, {"moved_out": "2025-10-01"})
    assert response.status_code == 200, response.content
    assert response.json()["moved_out"] == "2025-10-01"
    assert api_post(grid_worker, url, {"moved_out": "2025-10-02"}).status_code == 409  # a Conflict, like the pages
    resident.refresh_from_db()
    assert str(resident.moved_out) == "2025-10-01"
    still_listed = api_get(grid_worker, reverse("api:resident-list"))
    assert resident.pk in matrix.listed_ids(still_listed)
    assert matrix.listed_ids(api_get(grid_worker, reverse("api:resident-list"), living="true")) == []
    assert (
        str(people["memberships"]["mA"].__class__.objects.get(pk=people["memberships"]["mA"].pk).until) == "2025-10-01"
    )
