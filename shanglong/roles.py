"""Role predicates: the one place that knows what a primary role means.

Apps add what a person's links give (a grid assignment, a branch, a merchant account) in their
own visible_to methods; they ask here about the role itself, never `user.role == ...`.
"""

from __future__ import annotations

from typing import Any

# Roles whose people work for a community (or, for subdistrict staff, for all its communities)
# and so see the community's organisational records (also for queries: role__in=...). Merchants and volunteers are the
# community's public: they see their own records only.
COMMUNITY_WORK_ROLES = frozenset({"community_admin", "staff", "grid_worker", "department", "subdistrict_staff"})
_STAFF_ROLES = frozenset({"community_admin", "staff"})


def _role(user: Any) -> str | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "role", None)


def is_community_admin(user: Any) -> bool:
    return _role(user) == "community_admin"


def is_community_staff(user: Any) -> bool:
    """Community staff, the community admin included: they see the whole community."""
    return _role(user) in _STAFF_ROLES


def is_grid_worker(user: Any) -> bool:
    return _role(user) == "grid_worker"


def is_merchant(user: Any) -> bool:
    return _role(user) == "merchant"


def is_volunteer(user: Any) -> bool:
    return _role(user) == "volunteer"


def is_department(user: Any) -> bool:
    return _role(user) == "department"


def is_subdistrict_staff(user: Any) -> bool:
    return _role(user) == "subdistrict_staff"


def works_for_community(user: Any) -> bool:
    """True for people who work for the community or subdistrict (not its public)."""
    return _role(user) in COMMUNITY_WORK_ROLES


def can_manage_accounts(user: Any) -> bool:
    """Staff create accounts; there is no open sign-up for staff roles."""
    return bool(getattr(user, "is_superuser", False)) or is_community_staff(user) or is_subdistrict_staff(user)


def can_edit_calendar(user: Any) -> bool:
    """The working-day calendar is shared by every community; community admins keep it."""
    return bool(getattr(user, "is_superuser", False)) or is_community_admin(user)


def subdistrict_id_of(user: Any) -> int | None:
    """The subdistrict a person belongs to, directly or through their community."""
    if getattr(user, "subdistrict_id", None):
        return user.subdistrict_id
    community = getattr(user, "community", None)
    return community.subdistrict_id if community is not None else None


# The start page of each primary role, by URL name. Apps that build a role's real workspace
# (the grid worker's My day, the merchant portal ...) change the entry here.
START_PAGES: dict[str, str] = {
    "community_admin": "home",
    "staff": "home",
    "grid_worker": "home",
    "merchant": "home",
    "volunteer": "home",
    "department": "home",
    "subdistrict_staff": "home",
}
