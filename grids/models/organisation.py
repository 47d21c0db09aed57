"""The community's organisation and territory: party organisations, grids, who is on duty in
each grid, and the residential compounds that lie in them.

Scoping: every model here has `objects.visible_to(user)` and `objects.editable_by(user)`. Who may
see, edit, patrol or work in which grid is written once, in grids.access (its docstring is the
access table); these models ask it.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import BooleanField, Case, ExpressionWrapper, Prefetch, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from grids import access, geometry
from shanglong import roles
from shanglong.constraints import UniqueConstraint
from shanglong.models import Community, Subdistrict

# --- Scoping -------------------------------------------------------------------------------


class GridScopedQuerySet(models.QuerySet):
    """The base of the QuerySets of rows that belong to a grid: `visible_to(user)` keeps the rows
    whose grid (at `grid_path`, e.g. "patrol__grid") the person may see, by access.visible_grid_ids."""

    grid_path = "grid"

    def visible_to(self, user: Any) -> models.QuerySet:
        if getattr(user, "is_superuser", False):
            return self
        return self.filter(**{f"{self.grid_path}__in": access.visible_grid_ids(user)})


# The roles whose people work for a community, as values for a query (role__in=...).
COMMUNITY_WORK_ROLES = roles.COMMUNITY_WORK_ROLES


class RegistryQuerySet(models.QuerySet):
    """The base of the organisation registry's QuerySets: `editable_by(user)` keeps the rows
    whose community (at `community_path`) the person keeps the registry of, and
    `writable_by(user)` says whether they keep it at all (grids.access, column "edit registry")."""

    community_path = "community"

    def editable_by(self, user: Any) -> models.QuerySet:
        rule = access.registry_rule(user, self.community_path)
        return self.none() if rule is None else self.filter(rule)

    def writable_by(self, user: Any) -> bool:
        return access.can_edit_registry(user)


# --- Party organisations -------------------------------------------------------------------


class OrganisationKind(models.TextChoices):
    SUBDISTRICT_COMMITTEE = "subdistrict_committee", _("Subdistrict working committee")
    COMMUNITY_COMMITTEE = "community_committee", _("Community party committee")
    DISTRICT_JOINT_COMMITTEE = "district_joint_committee", _("Business-district joint party committee")
    GRID_BRANCH = "grid_branch", _("Grid party branch")
    UNIT_ORGANISATION = "unit_organisation", _("Resident unit or enterprise party organisation")
    PARTY_GROUP = "party_group", _("Party group")


class PartyOrganisationQuerySet(RegistryQuerySet):
    def visible_to(self, user: Any) -> PartyOrganisationQuerySet:
        """The organisations of the communities a person's role covers, with the subdistrict's
        own organisations that lead or span those communities (subdistrict staff see all of
        their subdistrict's); otherwise the ones they lead and the branches of the grids they
        may see."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.is_superuser:
            return self
        branches_seen = Grid.objects.filter(pk__in=access.visible_grid_ids(user)).values("branch_id")
        rule = (
            Q(secretary_id=user.pk)
            | Q(pk__in=branches_seen)
            # The party groups (党小组) of those branches: a grid's people know its groups.
            | Q(kind=OrganisationKind.PARTY_GROUP, parent_id__in=branches_seen)
        )
        whole_communities = access.community_scope(user)
        if whole_communities is not None:
            rule |= whole_communities
            if roles.is_subdistrict_staff(user):
                rule |= Q(subdistrict_id=user.subdistrict_id)
            else:
                rule |= self.leading_q(user.community_id, roles.subdistrict_id_of(user))
        return self.filter(rule)

    @staticmethod
    def spanning_q(community_id: int) -> Q:
        """Q over the organisations whose work spans the community: its own, and those (the
        business-district joint committee) that name it among the communities they span."""
        spans = PartyOrganisation.communities.through.objects.filter(community_id=community_id)
        return Q(community_id=community_id) | Q(pk__in=spans.values("partyorganisation_id"))

    @classmethod
    def leading_q(cls, community_id: int, subdistrict_id: int | None) -> Q:
        """Q over the subdistrict's organisations a community's people see: the working
        committee of their subdistrict (街道党工委) and those that span their community."""
        spans = PartyOrganisation.communities.through.objects.filter(community_id=community_id)
        rule = Q(pk__in=spans.values("partyorganisation_id"))
        if subdistrict_id is not None:
            rule |= Q(subdistrict_id=subdistrict_id, kind=OrganisationKind.SUBDISTRICT_COMMITTEE)
        return rule

    def branches(self) -> PartyOrganisationQuerySet:
        return self.filter(kind=OrganisationKind.GRID_BRANCH)

    def community_owned(self) -> PartyOrganisationQuerySet:
        return self.filter(community__isnull=False)


# The kinds a subdistrict may own; the others belong to a community.
SUBDISTRICT_KINDS = (OrganisationKind.SUBDISTRICT_COMMITTEE, OrganisationKind.DISTRICT_JOINT_COMMITTEE)


class PartyOrganisation(models.Model):
    """A party organisation: the subdistrict working committee (街道党工委) that leads the
    subdistrict's communities, the community party committee (社区党委), the business-district
    joint party committee (商圈综合党委: it spans one or more communities and the resident-unit
    and enterprise organisations that join it, and holds the joint meeting, 联席会议), the grid
    party branches (网格党支部) that lead the grids, the party groups (党小组) inside a grid
    branch, and those unit organisations and joint branches (驻区单位党组织, 联合支部).

    It belongs to exactly one owner: a community, or a subdistrict (the working committee, and a
    joint committee that spans several communities). Party members are organised only in
    community-owned organisations."""

    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="party_organisations",
        verbose_name=_("community"),
    )
    subdistrict = models.ForeignKey(
        Subdistrict,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="party_organisations",
        verbose_name=_("subdistrict"),
        help_text=_("For the subdistrict's own organisations (街道党工委, a joint committee of several communities)."),
    )
    communities = models.ManyToManyField(
        Community,
        blank=True,
        related_name="spanning_organisations",
        verbose_name=_("communities it spans"),
        help_text=_("For a business-district joint committee: the communities its work spans."),
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=32, choices=OrganisationKind.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent organisation"),
    )
    secretary = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_organisations",
        verbose_name=_("secretary"),
    )

    objects = PartyOrganisationQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("party organisation")
        verbose_name_plural = _("party organisations")
        ordering = ["community_id", "kind", "name"]
        constraints = [
            UniqueConstraint(
                fields=["community", "name"],
                name="partyorganisation_unique_name",
                error_field="name",
                violation_error_message=_("%(community)s already has an organisation of this name."),
            ),
            UniqueConstraint(
                fields=["subdistrict", "name"],
                name="partyorganisation_unique_name_per_subdistrict",
                error_field="name",
                violation_error_message=_("%(subdistrict)s already has an organisation of this name."),
            ),
            models.CheckConstraint(
                condition=Q(community__isnull=False, subdistrict__isnull=True)
                | Q(community__isnull=True, subdistrict__isnull=False),
                name="partyorganisation_one_owner",
                violation_error_message=_("An organisation belongs to a community or to a subdistrict: choose one."),
            ),
            models.CheckConstraint(
                condition=Q(subdistrict__isnull=True) | Q(kind__in=SUBDISTRICT_KINDS),
                name="partyorganisation_subdistrict_kinds",
                violation_error_message=_(
                    "A subdistrict owns only its working committee and business-district joint committees."
                ),
            ),
            models.CheckConstraint(
                condition=Q(community__isnull=True) | ~Q(kind=OrganisationKind.SUBDISTRICT_COMMITTEE),
                name="partyorganisation_working_committee_of_subdistrict",
                violation_error_message=_("The subdistrict working committee belongs to the subdistrict."),
            ),
            # The kind of the parent is checked in clean(): a database check sees one row only.
            models.CheckConstraint(
                condition=~Q(kind=OrganisationKind.PARTY_GROUP) | Q(parent__isnull=False),
                name="partyorganisation_party_group_has_parent",
                violation_error_message=_("A party group belongs to a grid party branch: choose the branch."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def owner(self) -> Community | Subdistrict | None:
        """The community or the subdistrict the organisation belongs to."""
        return self.community if self.community_id is not None else self.subdistrict

    @property
    def owner_subdistrict_id(self) -> int | None:
        if self.subdistrict_id is not None:
            return self.subdistrict_id
        return self.community.subdistrict_id if self.community_id is not None else None

    @property
    def is_joint_committee(self) -> bool:
        return self.kind == OrganisationKind.DISTRICT_JOINT_COMMITTEE

    def spanned_communities(self) -> list[Community]:
        """The communities the organisation's work spans: its own (for a community-owned one)
        and those it names (a joint committee)."""
        spanned = list(self.communities.all())
        if self.community_id is not None and all(c.pk != self.community_id for c in spanned):
            spanned.insert(0, self.community)
        return spanned

    def clean(self) -> None:
        if (self.community_id is None) == (self.subdistrict_id is None):
            raise ValidationError(_("An organisation belongs to a community or to a subdistrict: choose one."))
        if self.subdistrict_id is not None and self.kind not in SUBDISTRICT_KINDS:
            raise ValidationError(
                {"kind": _("A subdistrict owns only its working committee and business-district joint committees.")}
            )
        if self.community_id is not None and self.kind == OrganisationKind.SUBDISTRICT_COMMITTEE:
            raise ValidationError({"kind": _("The subdistrict working committee belongs to the subdistrict.")})
        if self.kind == OrganisationKind.PARTY_GROUP and (
            self.parent_id is None or self.parent.kind != OrganisationKind.GRID_BRANCH
        ):
            raise ValidationError({"parent": _("A party group belongs to a grid party branch: choose the branch.")})
        if self.parent_id is None:
            return
        parent = self.parent
        if parent.kind == OrganisationKind.PARTY_GROUP:
            raise ValidationError({"parent": _("A party group has no organisations under it.")})
        if self.subdistrict_id is not None and parent.subdistrict_id != self.subdistrict_id:
            raise ValidationError({"parent": _("Choose an organisation of the same subdistrict.")})
        # A community's organisation may be led from its subdistrict (街道党工委, 商圈综合党委).
        if (
            self.community_id is not None
            and parent.community_id != self.community_id
            and (parent.subdistrict_id is None or parent.subdistrict_id != self.community.subdistrict_id)
        ):
            raise ValidationError({"parent": _("The parent organisation belongs to another community.")})
        seen = {self.pk} if self.pk else set()
        ancestor: PartyOrganisation | None = parent
        while ancestor is not None:
            if ancestor.pk in seen:
                raise ValidationError({"parent": _("An organisation cannot be placed under itself.")})
            seen.add(ancestor.pk)
            ancestor = ancestor.parent


# --- Grids ---------------------------------------------------------------------------------


class GridKind(models.TextChoices):
    """一般网格 cover the residential territory; 专属网格 are drawn round one site (a mall, an
    office tower, a market or a school) and staffed by the unit's own people."""

    ORDINARY = "ordinary", _("Ordinary grid")
    DEDICATED = "dedicated", _("Dedicated grid")


class DedicatedSite(models.TextChoices):
    """What a dedicated grid (专属网格) is drawn round."""

    MALL = "mall", _("Shopping mall")
    OFFICE_TOWER = "office_tower", _("Office tower")
    MARKET = "market", _("Market")
    SCHOOL = "school", _("School")
    OTHER = "other", _("Other site")


class GridQuerySet(RegistryQuerySet):
    """Grids; editable_by: community staff their community's, a superuser all."""

    def visible_to(self, user: Any) -> GridQuerySet:
        """The grids a person may see: see access.visible_grid_ids, the one rule."""
        if getattr(user, "is_superuser", False):
            return self
        return self.filter(pk__in=access.visible_grid_ids(user))

    def active(self) -> GridQuerySet:
        return self.filter(is_active=True)

    def containing(self, latitude: Decimal | float, longitude: Decimal | float) -> GridQuerySet:
        """THE point-to-grid rule: of these grids, those whose boundary covers the point, the
        grid of the point first, so callers take `.first()`. A dedicated grid (a mall, a tower,
        a market drawn inside the ordinary grid around it) comes before the ordinary grid: a
        shop inside 商业大厦 is the tower's. Then the lowest code of the community wins (a point
        on a shared border is in both), so the answer never depends on the database's row
        order. A record's grid is derived from its position through this. The geometry is done
        in Python (shapely), so any database will do: one query for the boundaries, the result
        is filtered by pk."""
        rows = self.order_by().only("pk", "boundary")
        covering = [grid.pk for grid in rows if grid.covers(latitude, longitude)]
        dedicated_first = Case(When(kind=GridKind.DEDICATED, then=Value(0)), default=Value(1))
        return self.filter(pk__in=covering).order_by(dedicated_first, "community_id", "code")

    def mapped_for(self, user: Any) -> GridQuerySet:
        """The grids drawn on a person's map: THE one place for the map's rule.

        Every grid boundary of the communities the person works in is drawn (a grid worker
        needs the neighbouring grids' borders to know the territory), whatever visible_to says.
        Who is on duty is attached only for the grids in visible_to: each grid gets
        `people_visible` (a boolean) and `people_on_duty` (its current assignments, empty when
        not visible). Merchants, volunteers and outsiders get no grids at all.
        """
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if not user.is_superuser and not roles.works_for_community(user):
            return self.none()
        communities = Community.objects.visible_to(user).values("pk")
        return (
            self.filter(community_id__in=communities)
            .select_related("branch")
            .annotate(
                people_visible=ExpressionWrapper(Q(pk__in=access.visible_grid_ids(user)), output_field=BooleanField())
            )
            .with_people_on_duty(user)
        )

    def with_people_on_duty(self, user: Any) -> GridQuerySet:
        """Attach `people_on_duty`: the current assignments the viewer may see (one query)."""
        return self.prefetch_related(
            Prefetch(
                "assignments",
                queryset=GridAssignment.objects.visible_to(user).current().select_related("user").by_duty(),
                to_attr="people_on_duty",
            )
        )


class Grid(models.Model):
    """网格: the smallest unit of the community's territory, led by a grid party branch, with
    its boundary (a GeoJSON polygon in WGS84) inside the community's."""

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="grids", verbose_name=_("community")
    )
    code = models.CharField(
        _("code"), max_length=16, help_text=_("Short code, unique in the community, for example 01.")
    )
    name = models.CharField(_("name"), max_length=100)
    branch = models.ForeignKey(
        PartyOrganisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="grids",
        limit_choices_to={"kind": OrganisationKind.GRID_BRANCH},
        verbose_name=_("grid party branch"),
    )
    kind = models.CharField(_("grid kind"), max_length=16, choices=GridKind.choices, default=GridKind.ORDINARY)
    dedicated_site = models.CharField(
        _("site of the dedicated grid"),
        max_length=16,
        choices=DedicatedSite.choices,
        blank=True,
        help_text=_("For a dedicated grid only: what kind of site it is drawn round."),
    )
    boundary = models.JSONField(_("boundary (GeoJSON polygon, WGS84)"))
    is_active = models.BooleanField(_("active"), default=True)

    objects = GridQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        ordering = ["community_id", "code"]
        constraints = [
            UniqueConstraint(
                fields=["community", "code"],
                name="grid_unique_code_per_community",
                error_field="code",
                violation_error_code="duplicate_code",
                violation_error_message=_(
                    "%(community)s already has a grid with the code %(code)s. Choose another code."
                ),
            ),
            models.CheckConstraint(
                condition=Q(kind=GridKind.ORDINARY, dedicated_site="")
                | (Q(kind=GridKind.DEDICATED) & ~Q(dedicated_site="")),
                name="grid_dedicated_site_only_for_dedicated",
                violation_error_message=_("A dedicated grid names its site; an ordinary grid has none."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def covers(self, latitude: Decimal | float, longitude: Decimal | float) -> bool:
        """Whether the point lies in the grid (its border included); a grid with no usable
        boundary covers nothing."""
        return geometry.polygon_covers(self.boundary, latitude, longitude)

    def clean(self) -> None:
        errors: dict[str, list[Any]] = {}
        if self.kind == GridKind.DEDICATED and not self.dedicated_site:
            errors.setdefault("dedicated_site", []).append(_("Choose the site the dedicated grid is drawn round."))
        elif self.kind == GridKind.ORDINARY and self.dedicated_site:
            errors.setdefault("dedicated_site", []).append(_("Only a dedicated grid has a site; leave this empty."))
        if self.branch_id is not None:
            if self.branch.kind != OrganisationKind.GRID_BRANCH:
                errors.setdefault("branch", []).append(_("Choose a grid party branch."))
            elif self.community_id and self.branch.community_id != self.community_id:
                errors.setdefault("branch", []).append(_("The branch belongs to another community."))
        if self.boundary is not None and self.community_id is not None:
            try:
                self.boundary = geometry.validate_grid_boundary(self.boundary, self.community)
            except ValidationError as error:
                errors.setdefault("boundary", []).extend(error.error_list)
        if errors:
            raise ValidationError(errors)


# --- Grid assignments ----------------------------------------------------------------------


class Duty(models.TextChoices):
    HEAD = "head", _("Grid head")
    FULL_TIME = "full_time", _("Full-time grid worker")
    PART_TIME = "part_time", _("Part-time grid worker")
    BUILDING_HEAD = "building_head", _("Building head")
    POLICE = "police", _("Community police officer")


# Who of the people on duty in a grid sees its residents' special groups and key persons (the
# community's GroupAccessRule says for which kinds): the grid head, the full-time grid workers
# and the community police officer work with them by duty (column `grid_workers`); the
# part-time grid workers (often property-management staff) and the building heads (neighbours
# who volunteer) only where the community admin grants a kind to them (column `grid_helpers`).
GROUP_DUTIES = frozenset({Duty.HEAD, Duty.FULL_TIME, Duty.POLICE})
HELPER_DUTIES = frozenset({Duty.PART_TIME, Duty.BUILDING_HEAD})


class GridAssignmentQuerySet(GridScopedQuerySet, RegistryQuerySet):
    """Who is on duty where; visible_to: for the grids the person may see."""

    community_path = "grid__community"

    def by_duty(self) -> GridAssignmentQuerySet:
        """Grid head first, then full-time and part-time workers, building heads, police."""
        rank = Case(*(When(duty=duty, then=Value(number)) for number, duty in enumerate(Duty.values)))
        return self.order_by(rank, "since", "pk")

    def current(self, on: datetime.date | None = None) -> GridAssignmentQuerySet:
        """On duty on the day (today by default): started, and not yet ended."""
        day = on or timezone.localdate()
        return self.filter(since__lte=day).filter(Q(until__isnull=True) | Q(until__gte=day))


class GridAssignment(models.Model):
    """A person on duty in a grid (网格长, full- or part-time grid worker, building head,
    community police officer) from `since` to `until` (the last day on duty; open while empty)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="grid_assignments", verbose_name=_("person")
    )
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("grid"))
    duty = models.CharField(_("duty"), max_length=16, choices=Duty.choices)
    since = models.DateField(_("on duty since"), default=timezone.localdate)
    until = models.DateField(_("last day on duty"), null=True, blank=True)

    objects = GridAssignmentQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("grid assignment")
        verbose_name_plural = _("grid assignments")
        ordering = ["grid_id", "since", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gte=models.F("since")),
                name="gridassignment_until_after_since",
                violation_error_message=_("The last day on duty cannot be before the first."),
            ),
        ]
        indexes = [models.Index(fields=["user", "until"], name="gridassignment_user_until")]

    def __str__(self) -> str:
        return f"{self.user} · {self.grid} · {self.get_duty_display()}"

    def is_current(self, on: datetime.date | None = None) -> bool:
        day = on or timezone.localdate()
        return self.since <= day and (self.until is None or self.until >= day)


# --- Compounds -----------------------------------------------------------------------------


class CompoundQuerySet(GridScopedQuerySet, RegistryQuerySet):
    """Residential compounds; visible_to: those in the grids the person may see."""

    community_path = "grid__community"


class Compound(models.Model):
    """小区: a residential compound. Its grid follows from its position (see
    Grid.objects.containing, through grids.geometry.place_compound)."""

    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="compounds", verbose_name=_("grid"))
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    buildings = models.PositiveIntegerField(_("buildings"), default=0)

    objects = CompoundQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("residential compound")
        verbose_name_plural = _("residential compounds")
        ordering = ["name"]
        constraints = [
            UniqueConstraint(
                fields=["grid", "name"],
                name="compound_unique_name_per_grid",
                error_field="name",
                violation_error_message=_("This grid already has a compound of this name."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_position(self) -> bool:
        return self.latitude is not None and self.longitude is not None
