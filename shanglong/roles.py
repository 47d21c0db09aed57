"""Roles: the `Role` codes and the role predicates, the one place that knows what a primary
role means.

Apps add what a person's links give (a grid assignment, a branch, a merchant account) in their
own visible_to methods (the grids app's in grids.access); they ask here about the role itself,
never `user.role == ...`. No role code is written as a string anywhere else (a test scans for it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from shanglong.models import User

# Who a request is made by: a person who logged in or, before that, Django's anonymous user.
type Viewer = User | AnonymousUser


class Role(models.TextChoices):
    """A person's primary role: it picks the start page. What they may see is the union of
    what the role and their links (grid assignments, branch, merchant accounts...) give."""

    COMMUNITY_ADMIN = "community_admin", _("Community administrator")
    STAFF = "staff", _("Community staff")
    GRID_WORKER = "grid_worker", _("Grid worker")
    MERCHANT = "merchant", _("Merchant")
    VOLUNTEER = "volunteer", _("Volunteer")
    DEPARTMENT = "department", _("Department liaison")
    SUBDISTRICT_STAFF = "subdistrict_staff", _("Subdistrict staff")
    # 三员分立: the audit administrator reads the community's access log (reveals, exports,
    # logins) and nothing else; the community admin, who reveals and exports, does not audit it.
    AUDIT_ADMIN = "audit_admin", _("Audit administrator")


# Roles whose people work for a community (or, for subdistrict staff, for all its communities)
# and so see the community's organisational records (also for queries: role__in=...). Merchants and volunteers are the
# community's public: they see their own records only.
COMMUNITY_WORK_ROLES = frozenset(
    {Role.COMMUNITY_ADMIN, Role.STAFF, Role.GRID_WORKER, Role.DEPARTMENT, Role.SUBDISTRICT_STAFF}
)
_STAFF_ROLES = frozenset({Role.COMMUNITY_ADMIN, Role.STAFF})


def _role(user: Viewer) -> str | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "role", None)


def is_community_admin(user: Viewer) -> bool:
    return _role(user) == Role.COMMUNITY_ADMIN


def is_community_staff(user: Viewer) -> bool:
    """Community staff, the community admin included: they see the whole community."""
    return _role(user) in _STAFF_ROLES


def is_grid_worker(user: Viewer) -> bool:
    return _role(user) == Role.GRID_WORKER


def is_merchant(user: Viewer) -> bool:
    return _role(user) == Role.MERCHANT


def is_volunteer(user: Viewer) -> bool:
    return _role(user) == Role.VOLUNTEER


def is_department(user: Viewer) -> bool:
    return _role(user) == Role.DEPARTMENT


def is_subdistrict_staff(user: Viewer) -> bool:
    return _role(user) == Role.SUBDISTRICT_STAFF


def is_audit_admin(user: Viewer) -> bool:
    """The community's audit administrator (审计管理员): reads its access log, nothing more."""
    return _role(user) == Role.AUDIT_ADMIN


def can_read_access_log(user: Viewer) -> bool:
    """The audit page: the audit administrator, and the superuser as break-glass."""
    return bool(getattr(user, "is_superuser", False)) or is_audit_admin(user)


def works_for_community(user: Viewer) -> bool:
    """True for people who work for the community or subdistrict (not its public)."""
    return _role(user) in COMMUNITY_WORK_ROLES


def can_manage_accounts(user: Viewer) -> bool:
    """Staff create accounts; there is no open sign-up for staff roles."""
    return bool(getattr(user, "is_superuser", False)) or is_community_staff(user) or is_subdistrict_staff(user)


def can_edit_calendar(user: Viewer) -> bool:
    """The working-day calendar is shared by every community; community admins keep it."""
    return bool(getattr(user, "is_superuser", False)) or is_community_admin(user)


def subdistrict_id_of(user: Viewer) -> int | None:
    """The subdistrict a person belongs to, directly or through their community."""
    if not user.is_authenticated:
        return None
    if user.subdistrict_id:
        return user.subdistrict_id
    return user.community.subdistrict_id if user.community is not None else None


# The start page of each primary role, by URL name. Apps that build a role's real workspace
# (the grid worker's My day, the merchant portal ...) change the entry here.
START_PAGES: dict[str, str] = dict.fromkeys(Role.values, "home")
START_PAGES[Role.AUDIT_ADMIN] = "audit_log"
