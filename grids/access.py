"""Who may do what in grid work: THE access table of the grids app, and its functions.

| role or duty       | see grids   | edit registry | edit people | patrol    | keep checklist | grid work pages |
|--------------------|-------------|---------------|-------------|-----------|----------------|-----------------|
| community admin    | community   | community     | community   | community | community      | yes             |
| staff              | community   | community     | community   | community | community      | yes             |
| branch secretary   | branch      | -             | -           | branch    | branch         | yes             |
| on duty            | duty        | -             | duty        | duty      | -              | yes             |
| department liaison | community   | -             | -           | -         | -              | yes             |
| subdistrict staff  | subdistrict | -             | -           | -         | -              | yes             |
| merchant           | -           | -             | -           | -         | -              | -               |
| volunteer          | -           | -             | -           | -         | -              | -               |
| superuser          | all         | all           | all         | all       | all            | yes             |

"on duty" is a grid worker on duty in a grid, whatever the duty: grid head (网格长), full-time or
part-time grid worker, building head (楼栋长), community police officer. The cells name grids:
`community` the grids of the person's own community (none without one), `subdistrict` those of
every community of their subdistrict, `branch` those of the grid party branches they are
secretary of, `duty` those they are on duty in today (a current GridAssignment), `all` every
grid, `-` none; for the pages, `yes` or `-` (403).

How to read it:
- A person gets the union of the row of their role and the rows of their links: leading a
  branch and being on duty add to whatever the role gives. Duty is held by grid workers (role
  `grid_worker`); a person of another role on duty sees and patrols the grid, but edits its
  people only when their role is grid worker or community staff, and reaches the grid work
  pages only through their role or a branch.
- "edit registry" is the organisation registry (party organisations, grids, who is on duty,
  compounds). "edit people" is the people registry (addresses, residents, rented flats) and the
  visit ledger's subjects; `can_edit_people` also opens its forms to a grid worker not on duty
  today, who then has no grid to choose. "keep checklist" is the grid's patrol checklist.
- Party organisations belong to a community or to the subdistrict (街道党工委, and a business-
  district joint committee spanning several communities). The subdistrict's own organisations
  are seen by its staff and by the people of the communities they lead or span (the column
  "see grids" of those communities); they are kept in the registry by the superuser only, since
  subdistrict staff only read. The joint meeting's roster (联席会议成员) of a joint committee is
  kept by the superuser and the community admin of a community it spans
  (grids.models.cobuilding.roster_edit_rule); a unit's registration with the community
  (单位双报到) follows "edit registry" of that community.
- Seeing a grid's records is not seeing its special groups and key persons: that is
  GroupMembership.objects.visible_to (the community's group access table). There duty matters:
  the grid head, the full-time grid workers and the community police officer (GROUP_DUTIES)
  see the kinds of the table's column `grid_workers` (by default all but severe mental
  disorder and drug users); the part-time grid workers and building heads (HELPER_DUTIES,
  often property staff and volunteering neighbours) only the kinds of column `grid_helpers`
  (by default none).

The models' visible_to and editable_by, the pages, the API and the forms ask these functions and
nothing else; tests/grids/test_access.py holds the table above equal to them. This module imports
the models inside its functions, so that grids.models can import it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shanglong import roles
from shanglong.refusals import NotAllowed
from shanglong.roles import Viewer

if TYPE_CHECKING:
    from grids.models.organisation import Grid


def _is_superuser(user: Viewer) -> bool:
    return bool(getattr(user, "is_superuser", False))


def _grids() -> type[Grid]:
    from grids.models.organisation import Grid

    return Grid


def _no_grids() -> QuerySet:
    return _grids().objects.none().values("pk")


_MEMO_ATTRIBUTE = "_grids_scope_memo"


def _person_key(user: Any) -> tuple[Any, ...]:
    """Everything about a person that a scope's query is built from, and the day (duty is today's)."""
    return (
        getattr(user, "pk", None),
        bool(getattr(user, "is_authenticated", False)),
        _is_superuser(user),
        getattr(user, "role", None),
        getattr(user, "community_id", None),
        getattr(user, "subdistrict_id", None),
        getattr(user, "department_id", None),
        timezone.localdate(),
    )


def _argument_key(value: Any) -> Any:
    if isinstance(value, Collection) and not isinstance(value, str):
        return tuple(sorted(value))
    return value


def memoised_for_person[**P, R](build: Callable[P, R]) -> Callable[P, R]:
    """Build a person's scope once per person object and day: a page asks the same scope two or
    three times (a queryset's visible_to, the note, the filter choices), and building it is a
    good share of a page's time. `build` takes the person first and returns something its
    callers never change (a Q; a QuerySet goes through _memoised_scope, which clones it).

    The memo lives on the user object, which Django loads afresh for each request, so it never
    outlives the request. It keys on everything the built query depends on (see _person_key),
    so code that changes a person in memory gets a new query. No rows are cached: the answer is
    a lazy rule read in the database where it is used, so assignments made in between are seen."""

    @functools.wraps(build)
    def memoised(*args: P.args, **kwargs: P.kwargs) -> R:
        user: Any = args[0]
        key = (
            build.__module__,
            build.__qualname__,
            tuple(_argument_key(value) for value in args[1:]),
            tuple(sorted((name, _argument_key(value)) for name, value in kwargs.items())),
            _person_key(user),
        )
        memo: dict[tuple[Any, ...], Any] | None = getattr(user, _MEMO_ATTRIBUTE, None)
        if memo is None:
            memo = {}
            setattr(user, _MEMO_ATTRIBUTE, memo)
        if key not in memo:
            memo[key] = build(*args, **kwargs)
        return memo[key]

    return memoised


def _memoised_scope[**P](build: Callable[P, QuerySet]) -> Callable[P, QuerySet]:
    """memoised_for_person for the scope subqueries, each answer a fresh clone: a caller may
    evaluate or refine it without touching the memo."""
    memoised = memoised_for_person(build)

    @functools.wraps(build)
    def scope(*args: P.args, **kwargs: P.kwargs) -> QuerySet:
        return memoised(*args, **kwargs).all()

    return scope


# --- Links: duty and branches ---------------------------------------------------------------


@_memoised_scope
def current_assignment_grid_ids(user: Viewer, *, duties: Collection[str] | None = None) -> QuerySet:
    """The grids a person is on duty in today (their current grid assignments), as a subquery;
    with `duties`, only where they hold one of them (the group rule: GROUP_DUTIES, HELPER_DUTIES)."""
    from grids.models.organisation import GridAssignment

    assignments = GridAssignment.objects.current().filter(user_id=user.pk)
    if duties is not None:
        assignments = assignments.filter(duty__in=list(duties))
    return assignments.values("grid_id")


def _duty_or_branch_q(user: Viewer) -> Q:
    return Q(branch__secretary_id=user.pk) | Q(pk__in=current_assignment_grid_ids(user))


# --- See grids ------------------------------------------------------------------------------


def community_scope(user: Viewer, field: str = "community") -> Q | None:
    """Q over a model with a community FK at `field`, for the roles that see whole communities:
    subdistrict staff their subdistrict's communities; community staff, the community admin and
    department liaisons (read only) their own community. None for everyone else."""
    if roles.is_subdistrict_staff(user) and user.subdistrict_id:
        return Q(**{f"{field}__subdistrict_id": user.subdistrict_id})
    if (roles.is_community_staff(user) or roles.is_department(user)) and user.community_id:
        return Q(**{f"{field}_id": user.community_id})
    return None


@_memoised_scope
def visible_grid_ids(user: Viewer) -> QuerySet:
    """The ids of the grids a person may see, as a subquery: THE grid rule of the whole app
    (column "see grids").

    The union of: the communities their role covers (see community_scope); the grids of the
    party branches they are secretary of (whatever their role); the grids they are currently
    assigned to. Merchants, volunteers and outsiders get none (unless one of them leads a branch).
    """
    if not getattr(user, "is_authenticated", False):
        return _no_grids()
    Grid = _grids()
    if _is_superuser(user):
        return Grid.objects.values("pk")
    rule = _duty_or_branch_q(user)
    whole_communities = community_scope(user)
    if whole_communities is not None:
        rule |= whole_communities
    return Grid.objects.filter(rule).values("pk")


# --- Edit registry --------------------------------------------------------------------------


def registry_rule(user: Viewer, field: str) -> Q | None:
    """Q over the rows of the organisation registry a person may change, through the community
    FK at `field` (column "edit registry"): community staff and the admin their community's, a
    superuser all (Q()). None for everyone else."""
    if not getattr(user, "is_authenticated", False):
        return None
    if _is_superuser(user):
        return Q()
    if roles.is_community_staff(user) and user.community_id:
        return Q(**{f"{field}_id": user.community_id})
    return None


def can_edit_registry(user: Viewer) -> bool:
    """Whether a person keeps the organisation registry at all (its forms and API writes open)."""
    return registry_rule(user, "community") is not None


# --- Edit people ----------------------------------------------------------------------------


def can_edit_people(user: Viewer) -> bool:
    """Whether a person keeps the people registry at all (its forms and API writes open; the
    rows: editable_grid_ids): community staff of a community and grid workers. Subdistrict staff
    and department liaisons only read."""
    if _is_superuser(user):
        return True
    if roles.is_community_staff(user):
        return bool(user.community_id)
    return roles.is_grid_worker(user)


@_memoised_scope
def editable_grid_ids(user: Viewer) -> QuerySet:
    """The grids whose people registry (and visit ledger) a person may change, as a subquery
    (column "edit people"): community staff their community's, and anyone who keeps the people
    registry (can_edit_people) the grids they are on duty in today."""
    if _is_superuser(user):
        return _grids().objects.values("pk")
    if not can_edit_people(user):
        return _no_grids()
    rule = Q(pk__in=current_assignment_grid_ids(user))
    if roles.is_community_staff(user):
        rule |= Q(community_id=user.community_id)
    return _grids().objects.filter(rule).values("pk")


# --- Patrol ---------------------------------------------------------------------------------


@_memoised_scope
def patrollable_grid_ids(user: Viewer) -> QuerySet:
    """The ids of the grids in which a person may patrol, record findings and follow them up,
    as a subquery (column "patrol").

    The grids they are on duty in today, the grids of the party branches they lead, and for
    community staff their community's grids. Subdistrict staff and department liaisons oversee
    (they read through visible_grid_ids); merchants, volunteers and outsiders get none.
    """
    if not getattr(user, "is_authenticated", False):
        return _no_grids()
    Grid = _grids()
    if _is_superuser(user):
        return Grid.objects.values("pk")
    rule = _duty_or_branch_q(user)
    if roles.is_community_staff(user) and user.community_id:
        rule |= Q(community_id=user.community_id)
    return Grid.objects.filter(rule).values("pk")


def may_patrol(user: Viewer, grid_id: int) -> bool:
    """Whether the person may patrol the grid (patrollable_grid_ids), in one query."""
    return _grids().objects.filter(pk=grid_id, pk__in=patrollable_grid_ids(user)).exists()


def may_patrol_somewhere(user: Viewer) -> bool:
    """Whether the person may patrol any grid at all (one query)."""
    return _grids().objects.filter(pk__in=patrollable_grid_ids(user)).exists()


# --- Keep checklist -------------------------------------------------------------------------


def checklist_editable_grid_ids(user: Viewer) -> QuerySet:
    """The ids of the grids whose checklist a person may change (column "keep checklist"): the
    grids of the branches they lead, and for community staff their community's grids. Grid
    workers patrol against the checklist but do not change it."""
    if not getattr(user, "is_authenticated", False):
        return _no_grids()
    Grid = _grids()
    if _is_superuser(user):
        return Grid.objects.values("pk")
    rule = Q(branch__secretary_id=user.pk)
    if roles.is_community_staff(user) and user.community_id:
        rule |= Q(community_id=user.community_id)
    return Grid.objects.filter(rule).values("pk")


def may_keep_checklist(user: Viewer, grid_id: int) -> bool:
    """Whether the person may change the grid's checklist (checklist_editable_grid_ids)."""
    return _grids().objects.filter(pk=grid_id, pk__in=checklist_editable_grid_ids(user)).exists()


def may_keep_some_checklist(user: Viewer) -> bool:
    """Whether the person keeps checklists at all: community staff of a community, the secretary
    of a grid branch (at most one query)."""
    from grids.models.organisation import PartyOrganisation

    if _is_superuser(user):
        return True
    if roles.is_community_staff(user) and user.community_id:
        return True
    return PartyOrganisation.objects.branches().filter(secretary_id=user.pk).exists()


# --- Grid work pages ------------------------------------------------------------------------


def may_do_grid_work(user: Viewer) -> bool:
    """Whether the grids app's pages (organisation, patrols, ledger) are open to the person
    (column "grid work pages"): people who work for a community, and anyone who leads a party
    organisation. What each page then shows is bounded by the models' visible_to."""
    from grids.models.organisation import PartyOrganisation

    if not getattr(user, "is_authenticated", False):
        return False
    if _is_superuser(user) or roles.works_for_community(user):
        return True
    return PartyOrganisation.objects.filter(secretary_id=user.pk).exists()


class NotGridWork(NotAllowed):
    """403: the grid work pages are not for this person (merchants, volunteers, the public)."""

    code = "not_grid_work"
    message = _("These pages are for the people who work for the community.")


def require_grid_work_access(user: Viewer) -> None:
    """Refuse (403) a person to whom the grid work pages are not open (may_do_grid_work)."""
    if not may_do_grid_work(user):
        raise NotGridWork
