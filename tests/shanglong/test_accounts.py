"""Accounts (/accounts/): staff create accounts in their own community with the roles they may
grant; each role lands on its start page; the portal's own 404 page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from shanglong import roles
from shanglong.models import Role, User
from tests.conftest import client_for, make_user

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "Grid-worker-2026!"


def english(user):
    client = client_for(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def new_account(**overrides) -> dict[str, object]:
    data: dict[str, object] = {
        "username": "gridnew",
        "full_name": "王小明",
        "role": Role.GRID_WORKER,
        "community": "",
        "department": "",
        "mobile": "139 1234 5678",
        "email": "gridnew@example.org",
        "password1": STRONG_PASSWORD,
        "password2": STRONG_PASSWORD,
    }
    data.update(overrides)
    return data


# --- Creating accounts ---------------------------------------------------------------------


def test_staff_create_a_grid_worker_in_their_community(staff, community):
    client = english(staff)
    response = client.post(reverse("account_create"), new_account(community=community.pk))
    assert response.status_code == 302
    assert response.url == reverse("account_list")
    person = User.objects.get(username="gridnew")
    assert person.role == Role.GRID_WORKER
    assert person.community == community
    assert person.subdistrict == community.subdistrict
    assert person.full_name == "王小明"
    assert person.mobile == "13912345678"  # the digits that were checked, without the spaces typed
    assert person.check_password(STRONG_PASSWORD)
    assert not person.is_staff
    assert not person.is_superuser
    assert "Account gridnew was created." in client.get(response.url).content.decode()


def test_the_form_offers_the_staffs_community_first(staff, community):
    page = english(staff).get(reverse("account_create")).content.decode()
    assert f'<option value="{community.pk}" selected>' in page


def test_a_weak_password_is_refused_and_the_typed_input_is_kept(staff, community):
    response = english(staff).post(
        reverse("account_create"), new_account(community=community.pk, password1="12345678", password2="12345678")
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "This password is too common." in page
    assert "This password is entirely numeric." in page
    assert 'value="gridnew"' in page
    assert 'value="王小明"' in page
    assert 'value="gridnew@example.org"' in page
    assert not User.objects.filter(username="gridnew").exists()


def test_mismatched_passwords_are_refused(staff, community):
    response = english(staff).post(
        reverse("account_create"), new_account(community=community.pk, password2="Something-else-2026")
    )
    assert response.status_code == 200
    assert "The two password fields didn’t match." in response.content.decode()
    assert not User.objects.filter(username="gridnew").exists()


def test_a_bad_mobile_number_gets_a_clear_message_and_the_input_is_kept(staff, community):
    response = english(staff).post(reverse("account_create"), new_account(community=community.pk, mobile="12345"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter a mainland mobile number of 11 digits starting with 1, such as 13812345678." in page
    assert 'id="id_mobile_error"' in page  # next to the field
    assert 'value="12345"' in page
    assert 'value="gridnew"' in page
    assert not User.objects.filter(username="gridnew").exists()


def test_staff_are_not_offered_the_staff_or_admin_roles(staff):
    page = english(staff).get(reverse("account_create")).content.decode()
    assert f'value="{Role.GRID_WORKER}"' in page
    assert f'value="{Role.MERCHANT}"' in page
    assert f'value="{Role.STAFF}"' not in page
    assert f'value="{Role.COMMUNITY_ADMIN}"' not in page
    assert f'value="{Role.SUBDISTRICT_STAFF}"' not in page


@pytest.mark.parametrize("role", [Role.STAFF, Role.COMMUNITY_ADMIN, Role.SUBDISTRICT_STAFF])
def test_a_forged_post_for_a_higher_role_is_refused(staff, community, role):
    response = english(staff).post(reverse("account_create"), new_account(community=community.pk, role=role))
    assert response.status_code == 200
    assert response.context["form"].errors["role"]
    assert "Select a valid choice." in response.content.decode()
    assert not User.objects.filter(username="gridnew").exists()


def test_a_forged_post_for_another_community_is_refused(staff, other_community):
    response = english(staff).post(reverse("account_create"), new_account(community=other_community.pk))
    assert response.status_code == 200
    assert response.context["form"].errors["community"]
    assert "Select a valid choice." in response.content.decode()
    assert not User.objects.filter(username="gridnew").exists()


@pytest.mark.parametrize("viewer", ["grid_worker", "merchant_user", "volunteer_user", "department_user"])
def test_people_who_do_not_manage_accounts_get_403(request, community, viewer):
    client = english(request.getfixturevalue(viewer))
    assert client.get(reverse("account_list")).status_code == 403
    assert client.get(reverse("account_create")).status_code == 403
    response = client.post(reverse("account_create"), new_account(community=community.pk))
    assert response.status_code == 403
    assert not User.objects.filter(username="gridnew").exists()


# --- The list ------------------------------------------------------------------------------


def usernames_on(page: str, candidates: list[str]) -> set[str]:
    return {name for name in candidates if f">{name}</td>" in page}


CAST = ["staff1", "grid1", "merchant1", "staff2", "street1", "outsider"]


def test_the_list_shows_only_the_viewers_community(staff, grid_worker, merchant_user, other_staff, subdistrict_user):
    make_user("outsider", Role.STAFF)
    page = english(staff).get(reverse("account_list")).content.decode()
    assert usernames_on(page, CAST) == {"staff1", "grid1", "merchant1"}


def test_subdistrict_staff_see_both_communities_people(
    subdistrict_user, staff, grid_worker, merchant_user, other_staff, outsider
):
    page = english(subdistrict_user).get(reverse("account_list")).content.decode()
    assert usernames_on(page, CAST) == {"staff1", "grid1", "merchant1", "staff2", "street1"}


def test_the_list_search_stays_in_scope(staff, grid_worker, other_staff):
    make_user("grid-other", Role.GRID_WORKER, community=other_staff.community)
    page = english(staff).get(reverse("account_list"), {"q": "grid"}).content.decode()
    assert usernames_on(page, ["grid1", "grid-other", "staff1"]) == {"grid1"}


@pytest.mark.parametrize("count", [5, 50])
def test_account_list_query_count_does_not_grow_with_the_people(
    staff, community, department, other_staff, count, django_assert_num_queries
):
    for index in range(count):
        make_user(f"person{index:02d}", Role.DEPARTMENT, community=community, department=department)
    client = english(staff)
    # 1. the session
    # 2. the user
    # 3. the paginator's count of the people in scope
    # 4. the unread-notification count in the header
    # 5. the page of people, with their community and department joined
    with django_assert_num_queries(5):
        response = client.get(reverse("account_list"))
    assert response.status_code == 200
    assert response.content.decode().count(">司法所</td>") == count


# --- Start pages ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "role"),
    [
        ("community_admin", "community_admin"),
        ("staff", "staff"),
        ("grid_worker", "grid_worker"),
        ("merchant_user", "merchant"),
        ("volunteer_user", "volunteer"),
        ("department_user", "department"),
        ("subdistrict_user", "subdistrict_staff"),
    ],
)
def test_each_role_lands_on_its_start_page(request, fixture, role):
    response = english(request.getfixturevalue(fixture)).get("/", follow=True)
    assert response.status_code == 200
    start_page = reverse(roles.START_PAGES[role])
    assert response.request["PATH_INFO"] == start_page
    if start_page == reverse("home"):
        assert f'data-start-page="{role}"' in response.content.decode()


def test_subdistrict_staff_see_the_communities_widget(subdistrict_user, community, other_community):
    page = english(subdistrict_user).get("/").content.decode()
    assert 'data-widget="core.subdistrict_communities"' in page
    assert "Communities of the subdistrict" in page
    assert '<td data-label="Community">商隆社区</td>' in page
    assert '<td data-label="Community">文汇社区</td>' in page
    assert "0.86 km²" in page


def test_community_staff_do_not_see_the_communities_widget(staff, other_community):
    page = english(staff).get("/").content.decode()
    assert 'data-widget="core.subdistrict_communities"' not in page
    assert 'data-widget="core.community_facts"' in page
    assert "文汇社区" not in page


def test_staff_see_the_accounts_entry_and_grid_workers_do_not(staff, grid_worker):
    assert 'data-nav="accounts"' in english(staff).get("/").content.decode()
    assert 'data-nav="accounts"' not in english(grid_worker).get("/").content.decode()


def test_404_is_the_portals_own_page(staff):
    response = english(staff).get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert '<header class="topbar">' in page
    assert 'class="card narrow error-page"' in page
    assert "This page was not found" in page
    assert '<footer class="footer">' in page


def test_404_for_anonymous_is_the_portals_own_page(client):
    response = client.get("/no-such-page/", headers={"accept-language": "en"})
    assert response.status_code == 404
    assert "This page was not found" in response.content.decode()


def test_the_next_page_link_keeps_the_search(staff, community):
    for number in range(55):
        make_user(f"worker{number:02d}", Role.GRID_WORKER, community=community)
    page = english(staff).get(reverse("account_list"), {"q": "worker"}).content.decode()
    assert 'href="?q=worker&amp;page=2"' in page
