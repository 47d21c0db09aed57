"""People (一标三实: standard address, real population, real housing): addresses as records
(compound -> building -> dwelling), residents and their households, rented flats, and the
special groups and key persons a resident may belong to.

Scoping, written once per model:
- `Resident.objects.visible_to(user)`: the grid rule (grids.access.visible_grid_ids)
  for the people who work for the community, except department liaisons, who see only the
  residents with a group membership of their department; merchants, volunteers and outsiders
  see none.
- `GroupMembership.objects.visible_to(user)`: THE rule for who sees which group (the roles that
  work with it, per the community's GroupAccessRule table). Pages, API, exports and list filters
  ask only this. Its set form, `GroupMembership.objects.sight(people)`, answers the same
  question for many people at once (the morning reminders); a test holds the two equal.

Identity numbers are encrypted at rest (shanglong.crypto.EncryptedTextField) and found through
their keyed hash; phones and identity numbers are shown masked (shanglong.masking) unless a
person entitled to see them reveals them, which the access log records.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any, NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Case, Exists, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Concat
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords
from simple_history.utils import bulk_create_with_history

from grids import access
from grids.models.groups import (
    AFTERCARE_YEARS,
    LEVEL_MAX_LENGTH,
    SPECIAL_GROUP_KINDS,
    GroupCategory,
    GroupKind,
    aftercare_error,
    category_of,
    default_level,
    grouped_level_choices,
    level_error,
    membership_level_matches_kind,
    years_after,
)
from grids.models.organisation import GROUP_DUTIES, HELPER_DUTIES, Compound, Grid, GridAssignment
from shanglong import roles
from shanglong.constraints import UniqueConstraint
from shanglong.crypto import EncryptedTextField, keyed_hash
from shanglong.masking import mask_id_number, mask_phone
from shanglong.models import Community, Department, User
from shanglong.roles import Role
from shanglong.validators import Gender, IdentityDocumentType, normalise_identity_number, normalise_mobile

# --- Helpers shared by the rules -----------------------------------------------------------


def _period_q(on: datetime.date | None = None, prefix: str = "") -> Q:
    day = on or timezone.localdate()
    return Q(**{f"{prefix}since__lte": day}) & (
        Q(**{f"{prefix}until__isnull": True}) | Q(**{f"{prefix}until__gte": day})
    )


class AddressScopedQuerySet(models.QuerySet):
    """The rule of the rows that hang off an address (buildings, dwellings, rented flats),
    reached from the row through `grid_path`: seen in the grids a person may see (the address
    book is not sensitive; what lives at an address is), changed in the grids whose registry
    they keep (access.editable_grid_ids). Department liaisons, merchants, volunteers and outsiders see
    none."""

    grid_path: str

    def visible_to(self, user: Any) -> models.QuerySet:
        if getattr(user, "is_superuser", False):
            return self
        if not roles.works_for_community(user) or roles.is_department(user):
            return self.none()
        return self.filter(**{f"{self.grid_path}__in": access.visible_grid_ids(user)})

    def editable_by(self, user: Any) -> models.QuerySet:
        return self.filter(**{f"{self.grid_path}__in": access.editable_grid_ids(user)})

    def writable_by(self, user: Any) -> bool:
        return access.can_edit_people(user)


# --- Addresses (标准地址) --------------------------------------------------------------------


class ResidentialBuildingQuerySet(AddressScopedQuerySet):
    grid_path = "compound__grid_id"


class ResidentialBuilding(models.Model):
    """楼: a residential building of a compound (楼号), as the address book names it."""

    compound = models.ForeignKey(
        Compound, on_delete=models.PROTECT, related_name="residential_buildings", verbose_name=_("compound")
    )
    name = models.CharField(_("building"), max_length=50, help_text=_("As on the address plate, for example 3号楼."))

    objects = ResidentialBuildingQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("residential building")
        verbose_name_plural = _("residential buildings")
        ordering = ["compound_id", "name"]
        constraints = [
            UniqueConstraint(
                fields=["compound", "name"],
                name="residentialbuilding_unique_name",
                error_field="name",
                violation_error_message=_("This compound already has a building of this name."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.compound.name}{self.name}"


class DwellingQuerySet(AddressScopedQuerySet):
    grid_path = "building__compound__grid_id"

    def with_address(self) -> DwellingQuerySet:
        return self.select_related("building__compound__grid")

    def matching_address(self, text: str, prefix: str = "") -> Q:
        """A Q over dwellings (at `prefix`) whose full address (compound, building, unit and
        room written together) contains every word of the text: "鲁园 3号楼 301" finds
        鲁园小区3号楼2单元301."""
        words = text.split()
        matching = Dwelling.objects.annotate(full_address=ADDRESS_EXPRESSION)
        for word in words:
            matching = matching.filter(full_address__icontains=word)
        return Q(**{f"{prefix}pk__in": matching.values("pk")})


ADDRESS_EXPRESSION = Concat(
    "building__compound__name",
    "building__name",
    "unit",
    "room",
    output_field=models.CharField(),
)


class Dwelling(models.Model):
    """户室: one flat or room at a standard address: compound, building, unit (单元, may be
    empty) and room (室). Households live in dwellings; rented flats are dwellings with a
    tenancy."""

    building = models.ForeignKey(
        ResidentialBuilding, on_delete=models.PROTECT, related_name="dwellings", verbose_name=_("building")
    )
    unit = models.CharField(_("unit"), max_length=20, blank=True, help_text=_("For example 2单元; empty if none."))
    room = models.CharField(_("room"), max_length=20, help_text=_("For example 301."))

    objects = DwellingQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("dwelling")
        verbose_name_plural = _("dwellings")
        ordering = ["building_id", "unit", "room"]
        constraints = [
            UniqueConstraint(
                fields=["building", "unit", "room"],
                name="dwelling_unique_address",
                error_field="room",
                violation_error_message=_("This dwelling is already in the address book."),
            ),
        ]

    def __str__(self) -> str:
        return self.address

    @property
    def address(self) -> str:
        return f"{self.building.compound.name}{self.building.name}{self.unit}{self.room}"

    @property
    def grid(self) -> Grid:
        return self.building.compound.grid


# --- Residents (实有人口) --------------------------------------------------------------------


class RegistrationStatus(models.TextChoices):
    HOUSEHOLD_REGISTERED = "household_registered", _("Registered household (户籍)")
    RESIDENT = "resident", _("Permanent resident (常住)")
    FLOATING = "floating", _("Floating population (流动)")
    # 人户分离: where a person lives and where their household is registered differ, both ways.
    REGISTERED_ELSEWHERE = "registered_elsewhere", _("Lives here, registered elsewhere (人在户不在)")
    LIVING_ELSEWHERE = "living_elsewhere", _("Registered here, lives elsewhere (户在人不在)")


class Relation(models.TextChoices):
    """Relation to the householder (与户主关系)."""

    SELF = "self", _("Householder")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Parent")
    GRANDCHILD = "grandchild", _("Grandchild")
    GRANDPARENT = "grandparent", _("Grandparent")
    SIBLING = "sibling", _("Brother or sister")
    CHILD_IN_LAW = "child_in_law", _("Son- or daughter-in-law")
    OTHER = "other", _("Other relative")
    NONE = "none", _("Not related")


class ResidentQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> ResidentQuerySet:
        """Residents a person may see.

        Grid workers and branch secretaries: the grids of access.visible_grid_ids; community staff and
        the admin: their community; subdistrict staff: their subdistrict (read only). Department
        liaisons: only residents with a group membership of their department. Anyone who sees a
        group membership (a community's designated officer for a kind) sees its resident.
        Merchants, volunteers and outsiders: none."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.is_superuser:
            return self
        if not roles.works_for_community(user):
            return self.none()
        through_groups = Q(pk__in=GroupMembership.objects.visible_to(user).values("resident_id"))
        if roles.is_department(user):
            return self.filter(through_groups)
        return self.filter(Q(dwelling__building__compound__grid_id__in=access.visible_grid_ids(user)) | through_groups)

    def editable_by(self, user: Any) -> ResidentQuerySet:
        return self.filter(dwelling__building__compound__grid_id__in=access.editable_grid_ids(user))

    def writable_by(self, user: Any) -> bool:
        return access.can_edit_people(user)

    def revealable_by(self, user: Any) -> ResidentQuerySet:
        """Whose identity number and phone a person may reveal: the residents whose record they
        keep (editable_by: the community admin and staff their community's, grid workers those
        of the grids they are on duty in today). Readers (subdistrict staff, departments) never."""
        return self.editable_by(user)

    def living_here(self, on: datetime.date | None = None) -> ResidentQuerySet:
        """Residents who have not moved out by the day (today by default)."""
        day = on or timezone.localdate()
        return self.filter(Q(moved_out__isnull=True) | Q(moved_out__gt=day))

    def in_community(self, community: Community | int) -> ResidentQuerySet:
        community_id = community.pk if isinstance(community, Community) else community
        return self.filter(dwelling__building__compound__grid__community_id=community_id)

    def with_address(self) -> ResidentQuerySet:
        return self.select_related("dwelling__building__compound__grid")

    def search(self, text: str) -> ResidentQuerySet:
        """Find residents by name, address text (compound, building, unit, room), the last
        digits of a phone (4 or more digits) or an exact identity number (by its keyed hash)."""
        text = (text or "").strip()
        if not text:
            return self
        compact = "".join(text.split())
        rule = Q(name__icontains=compact) | Dwelling.objects.matching_address(text, prefix="dwelling__")
        digits = normalise_mobile(compact)
        if digits.isdigit() and 4 <= len(digits) <= 11:
            rule |= Q(mobile__endswith=digits)
        number = normalise_identity_number(compact)
        if len(number) >= 5 and any(char.isdigit() for char in number):
            rule |= Q(id_number_hash=keyed_hash(number))
        return self.filter(rule)

    def with_identity_number(self, number: str, doc_type: str | None = None) -> ResidentQuerySet:
        found = self.filter(id_number_hash=keyed_hash(normalise_identity_number(number)))
        return found.filter(id_type=doc_type) if doc_type else found


class HouseholdQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> HouseholdQuerySet:
        """The households of the residents a person may see."""
        if getattr(user, "is_superuser", False):
            return self
        return self.filter(pk__in=Resident.objects.visible_to(user).values("household_id"))

    def joinable(self, on: datetime.date | None = None) -> HouseholdQuerySet:
        """The households a relative of the householder joins: those whose householder has not
        moved out by the day (today by default)."""
        day = on or timezone.localdate()
        return self.filter(householder__isnull=False).exclude(householder__moved_out__lte=day)


class Household(models.Model):
    """户: a household living in a dwelling, led by its householder (户主). Its members are the
    residents whose `household` points here, each with their relation to the householder."""

    dwelling = models.ForeignKey(
        Dwelling, on_delete=models.PROTECT, related_name="households", verbose_name=_("dwelling")
    )
    householder = models.ForeignKey(
        "Resident",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="households_led",
        verbose_name=_("householder"),
    )

    objects = HouseholdQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["dwelling_id", "pk"]

    def __str__(self) -> str:
        if self.householder_id:
            return str(_("Household of %(name)s") % {"name": self.householder.name})
        return str(_("Household at %(address)s") % {"address": self.dwelling.address})


class Resident(models.Model):
    """实有人口: a person living in the community, at an address (a dwelling), in a household.
    The identity number is encrypted at rest and found through its keyed hash; a resident who
    moves out stays on record with the date (nothing is deleted)."""

    name = models.CharField(_("name"), max_length=100)
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices)
    birth_date = models.DateField(_("date of birth"))
    id_type = models.CharField(
        _("identity document"),
        max_length=32,
        choices=IdentityDocumentType.choices,
        default=IdentityDocumentType.RESIDENT_ID,
    )
    id_number = EncryptedTextField(_("identity number"))
    id_number_hash = models.CharField(_("identity number (keyed hash)"), max_length=64, editable=False)
    mobile = models.CharField(
        _("mobile"),
        max_length=11,
        blank=True,
        help_text=_("Stored as its 11 digits, so that it can be found by its last digits."),
    )
    dwelling = models.ForeignKey(
        Dwelling, on_delete=models.PROTECT, related_name="residents", verbose_name=_("address")
    )
    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("household"),
    )
    relation = models.CharField(_("relation to the householder"), max_length=16, choices=Relation.choices, blank=True)
    registration_status = models.CharField(
        _("registration"), max_length=24, choices=RegistrationStatus.choices, default=RegistrationStatus.RESIDENT
    )
    moved_in = models.DateField(_("moved in"), null=True, blank=True)
    moved_out = models.DateField(_("moved out"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    objects = ResidentQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["id_type", "id_number_hash"], name="resident_unique_identity"),
            models.CheckConstraint(
                condition=Q(moved_out__isnull=True) | Q(moved_in__isnull=True) | Q(moved_out__gte=models.F("moved_in")),
                name="resident_moved_out_after_moved_in",
                violation_error_message=_("The moving-out date cannot be before the moving-in date."),
            ),
        ]
        indexes = [models.Index(fields=["mobile"], name="resident_mobile")]

    def __str__(self) -> str:
        return self.name

    def set_identity_number(self, number: str) -> None:
        """Store the normalised number and its keyed hash together (they must never disagree)."""
        self.id_number = normalise_identity_number(number)
        self.id_number_hash = keyed_hash(self.id_number)

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_mobile(self) -> str:
        return mask_phone(self.mobile)

    @property
    def grid(self) -> Grid:
        return self.dwelling.building.compound.grid

    @property
    def community_id(self) -> int:
        return self.dwelling.building.compound.grid.community_id

    @property
    def has_moved_out(self) -> bool:
        return self.moved_out is not None and self.moved_out <= timezone.localdate()

    @property
    def age(self) -> int:
        today = timezone.localdate()
        return (
            today.year
            - self.birth_date.year
            - ((today.month, today.day) < (self.birth_date.month, self.birth_date.day))
        )


# --- Rented flats (出租房屋) -----------------------------------------------------------------


class TenancyQuerySet(AddressScopedQuerySet):
    """Rented flats, seen and kept by the rule of their dwelling's address."""

    grid_path = "dwelling__building__compound__grid_id"

    def current(self, on: datetime.date | None = None) -> TenancyQuerySet:
        return self.filter(_period_q(on))


class Tenancy(models.Model):
    """出租房屋: a dwelling let by its owner to a tenant from `since` to `until` (the last day;
    open while empty). A tenancy that ends keeps its record."""

    dwelling = models.ForeignKey(
        Dwelling, on_delete=models.PROTECT, related_name="tenancies", verbose_name=_("dwelling")
    )
    owner = models.ForeignKey(
        Resident,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tenancies_let",
        verbose_name=_("owner (in the registry)"),
    )
    owner_name = models.CharField(
        _("owner"), max_length=100, blank=True, help_text=_("The owner's name when they are not in the registry.")
    )
    tenant = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="tenancies", verbose_name=_("tenant"))
    since = models.DateField(_("since"), default=timezone.localdate)
    until = models.DateField(_("until"), null=True, blank=True)

    objects = TenancyQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("rented flat")
        verbose_name_plural = _("rented flats")
        ordering = ["dwelling_id", "-since", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gte=models.F("since")),
                name="tenancy_until_after_since",
                violation_error_message=_("The end of a tenancy cannot be before its start."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dwelling} · {self.tenant}"

    @property
    def owner_display(self) -> str:
        return self.owner.name if self.owner_id else self.owner_name


# --- Special groups and key persons (特殊群体, 重点人群) --------------------------------------


# The kinds, their level scales and the visit rules: grids.models.groups (one home).


# The defaults of a community's access table, until its admin changes them (see
# GroupAccessRule), in this one place: the responsible department sees every kind; the grid
# head, the full-time grid workers and the community police officer of the resident's grid
# (GROUP_DUTIES) every kind but those a specialist works with (精防医生 for severe mental
# disorder, 禁毒社工 for drug users: the department and the designated officer only); the
# part-time grid workers and building heads (HELPER_DUTIES) none.
DEPARTMENT_ONLY_KINDS = frozenset({GroupKind.SEVERE_MENTAL_DISORDER, GroupKind.DRUG_USER})
DEFAULT_GRID_HELPERS_SEE = False
DEFAULT_DEPARTMENT_SEES = True


def default_grid_workers_see(kind: str) -> bool:
    """Whether the grid workers by duty (GROUP_DUTIES) see the kind where the table says nothing."""
    return kind not in DEPARTMENT_ONLY_KINDS


def default_grid_workers_see_sql() -> Case:
    """default_grid_workers_see, as an SQL expression over a row with a `kind` field."""
    return Case(
        When(kind__in=DEPARTMENT_ONLY_KINDS, then=Value(False)),
        default=Value(True),
        output_field=models.BooleanField(),
    )


class GroupAccessRuleQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> GroupAccessRuleQuerySet:
        """The access tables of the communities a person works for (staff read, admin writes)."""
        if getattr(user, "is_superuser", False):
            return self
        if (roles.is_community_staff(user)) and user.community_id:
            return self.filter(community_id=user.community_id)
        return self.none()

    def editable_by(self, user: Any) -> GroupAccessRuleQuerySet:
        if getattr(user, "is_superuser", False):
            return self
        if roles.is_community_admin(user) and user.community_id:
            return self.filter(community_id=user.community_id)
        return self.none()

    def writable_by(self, user: Any) -> bool:
        """The community admin keeps the table (its rows exist from the start: nobody adds any)."""
        return bool(getattr(user, "is_superuser", False)) or roles.is_community_admin(user)

    def ensure_for(self, community: Community) -> None:
        """Create the community's table with the defaults where a kind has no row yet (with
        its history row, like every other change of the table)."""
        existing = set(GroupAccessRule.objects.filter(community=community).values_list("kind", flat=True))
        missing = [GroupAccessRule.at_defaults(community, kind) for kind in GroupKind.values if kind not in existing]
        if not missing:
            return
        try:
            with transaction.atomic():
                bulk_create_with_history(missing, GroupAccessRule)
        except IntegrityError:
            pass  # another request created them at the same moment


class GroupAccessRule(models.Model):
    """Who, besides the community admin, sees a group kind in a community: the grid head, the
    full-time grid workers and the community police officer on duty in the resident's grid
    (`grid_workers`), the part-time grid workers and building heads there (`grid_helpers`), the
    liaisons of the responsible department, and one designated officer. A kind without a row,
    and a new row, use the per-kind defaults (at_defaults; see DEPARTMENT_ONLY_KINDS)."""

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="group_access_rules", verbose_name=_("community")
    )
    kind = models.CharField(_("group"), max_length=32, choices=GroupKind.choices)
    # The field's default cannot depend on the kind: rows are made by at_defaults (ensure_for).
    grid_workers = models.BooleanField(
        _("grid head, full-time grid workers and community police of the resident's grid"),
        default=True,
        help_text=_("By duty. By default every group but severe mental disorder and drug users."),
    )
    grid_helpers = models.BooleanField(
        _("part-time grid workers and building heads"),
        default=DEFAULT_GRID_HELPERS_SEE,
        help_text=_("Of the resident's grid; by default they see no group."),
    )
    department = models.BooleanField(_("the responsible department"), default=DEFAULT_DEPARTMENT_SEES)
    designated_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="designated_group_rules",
        verbose_name=_("designated officer"),
    )

    objects = GroupAccessRuleQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("group access rule")
        verbose_name_plural = _("group access rules")
        ordering = ["community_id", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["community", "kind"], name="groupaccessrule_unique_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.community} · {self.get_kind_display()}"

    @classmethod
    def at_defaults(cls, community: Community, kind: str) -> GroupAccessRule:
        """The kind's line of the table as it stands until the admin changes it (not saved)."""
        return cls(
            community=community,
            kind=kind,
            grid_workers=default_grid_workers_see(kind),
            grid_helpers=DEFAULT_GRID_HELPERS_SEE,
            department=DEFAULT_DEPARTMENT_SEES,
        )


@receiver(post_save, sender=Community, dispatch_uid="grids.group_access_rules_of_a_new_community")
def create_group_access_rules(sender: type[Community], instance: Community, created: bool, **kwargs: Any) -> None:
    """A new community gets its group access table, at the defaults, when it is created, so no
    page or API read ever writes it. (A signal, because the core that creates communities
    imports no app; communities made before this rule got theirs in a migration.)"""
    if created and not kwargs.get("raw"):
        GroupAccessRule.objects.ensure_for(instance)


@access.memoised_for_person
def _group_sight_rule(user: Any) -> Any:
    """The rule of GroupMembershipQuerySet.visible_to for a person (None: no membership), built
    once per request: the residents' list asks it for its scope and again for the groups shown."""
    if not getattr(user, "is_authenticated", False):
        return None
    if user.is_superuser:
        return Q()
    if not roles.works_for_community(user):
        return None
    rules = GroupAccessRule.objects.filter(
        community_id=OuterRef("resident__dwelling__building__compound__grid__community_id"),
        kind=OuterRef("kind"),
    )
    rule: Any = Exists(rules.filter(designated_officer_id=user.pk))
    if roles.is_community_admin(user) and user.community_id:
        rule |= Q(resident__dwelling__building__compound__grid__community_id=user.community_id)
    if roles.is_department(user) and user.department_id:
        rule |= Q(department_id=user.department_id) & Coalesce(
            Subquery(rules.values("department")[:1]),
            Value(DEFAULT_DEPARTMENT_SEES),
            output_field=models.BooleanField(),
        )
    else:
        grid = "resident__dwelling__building__compound__grid_id__in"
        rule |= Q(**{grid: access.current_assignment_grid_ids(user, duties=GROUP_DUTIES)}) & Coalesce(
            Subquery(rules.values("grid_workers")[:1]),
            default_grid_workers_see_sql(),
            output_field=models.BooleanField(),
        )
        rule |= Q(**{grid: access.current_assignment_grid_ids(user, duties=HELPER_DUTIES)}) & Coalesce(
            Subquery(rules.values("grid_helpers")[:1]),
            Value(DEFAULT_GRID_HELPERS_SEE),
            output_field=models.BooleanField(),
        )
    return rule


class GroupMembershipQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> GroupMembershipQuerySet:
        """THE rule for who sees which group membership.

        The community admin sees every group of their community. Otherwise, per the community's
        GroupAccessRule for the kind (the per-kind defaults when it has no row): the grid head,
        full-time grid workers and police on duty today in the resident's grid (`grid_workers`),
        the part-time grid workers and building heads on duty there (`grid_helpers`), the
        liaisons of the responsible department, and the designated officer. Anyone else (other
        staff, subdistrict staff, other grids' workers) sees the resident without the group."""
        rule = _group_sight_rule(user)
        if rule is None:
            return self.none()
        return self.filter(rule)

    def sight(self, people: Iterable[Any]) -> GroupSight:
        """visible_to, answered for many people at once over these memberships: three plain
        queries (the memberships with their grid and community, the access tables of their
        communities, the people's grid assignments today) instead of one rule query per person.
        For set-based jobs (the morning reminders); pages and the API ask visible_to."""
        return GroupSight(self, people)

    def editable_by(self, user: Any) -> GroupMembershipQuerySet:
        """Who keeps a membership (records it, ends it): those who see it, except department
        liaisons (they read) and only for residents they may change or reveal."""
        if roles.is_department(user) or roles.is_subdistrict_staff(user):
            return self.none()
        return self.visible_to(user)

    def writable_by(self, user: Any) -> bool:
        """Whether a person records group memberships at all: the community admin, the grid
        head, full-time grid workers and police on duty somewhere, the part-time grid workers and
        building heads on duty in a community whose table gives them some kind, and the
        designated officers (the rows and kinds: editable_by, manageable_group_kinds)."""
        if getattr(user, "is_superuser", False) or roles.is_community_admin(user):
            return True
        if roles.is_department(user) or roles.is_subdistrict_staff(user) or not roles.works_for_community(user):
            return False
        by_duty = Q(duty__in=GROUP_DUTIES) | Q(
            duty__in=HELPER_DUTIES, grid__community__group_access_rules__grid_helpers=True
        )
        return (
            GridAssignment.objects.current().filter(by_duty, user_id=user.pk).exists()
            or GroupAccessRule.objects.filter(designated_officer_id=user.pk).exists()
        )

    def current(self, on: datetime.date | None = None) -> GroupMembershipQuerySet:
        return self.filter(_period_q(on))


class _MembershipFacts(NamedTuple):
    pk: int
    grid_id: int
    community_id: int
    department_id: int


class _Rule(NamedTuple):
    """A line of a community's access table, as GroupSight and manageable_group_kinds read it."""

    grid_workers: bool
    grid_helpers: bool
    department: bool
    officer_id: int | None

    @classmethod
    def at_defaults(cls, kind: str) -> _Rule:
        return cls(default_grid_workers_see(kind), DEFAULT_GRID_HELPERS_SEE, DEFAULT_DEPARTMENT_SEES, None)

    def by_duty(self, duties: set[str]) -> bool:
        """Whether someone holding these duties in the resident's grid sees the kind."""
        return (self.grid_workers and not duties.isdisjoint(GROUP_DUTIES)) or (
            self.grid_helpers and not duties.isdisjoint(HELPER_DUTIES)
        )


class GroupSight:
    """GroupMembershipQuerySet.visible_to, evaluated in memory for many people over one set of
    memberships (built by GroupMembershipQuerySet.sight). It reads the same facts as the rule
    and decides the same way, branch for branch (tests/grids/test_group_sight.py compares the
    two for every person of a cast, every membership and every setting of the access table):

    - the designated officer of the community's rule for the kind sees it;
    - the community admin sees every group of their community;
    - a department liaison (with a department) sees the memberships their department is
      responsible for, where the rule lets the department see the kind;
    - anyone else who works for the community sees the memberships of residents of the grids
      they are on duty in today: as grid head, full-time grid worker or police where the rule
      lets grid workers see the kind, as part-time grid worker or building head where it lets
      grid helpers see it.

    Superusers see everything; people who do not work for the community, nothing."""

    def __init__(self, memberships: models.QuerySet, people: Iterable[Any]) -> None:
        self.people = {person.pk: person for person in people}
        self._by_line: dict[tuple[int, str], list[_MembershipFacts]] = {}
        grid = "resident__dwelling__building__compound__grid"
        rows = memberships.order_by().values_list(
            "pk", "resident_id", "kind", f"{grid}_id", f"{grid}__community_id", "department_id"
        )
        communities: set[int] = set()
        for pk, resident_id, kind, grid_id, community_id, department_id in rows.iterator(chunk_size=20_000):
            self._by_line.setdefault((resident_id, kind), []).append(
                _MembershipFacts(pk, grid_id, community_id, department_id)
            )
            communities.add(community_id)
        self._rules = {
            (community_id, kind): _Rule(grid_workers, grid_helpers, department, officer_id)
            for community_id, kind, grid_workers, grid_helpers, department, officer_id in (
                GroupAccessRule.objects.filter(community_id__in=communities).values_list(
                    "community_id", "kind", "grid_workers", "grid_helpers", "department", "designated_officer_id"
                )
            )
        }
        # person -> grid -> their duties there today
        self._on_duty: dict[int, dict[int, set[str]]] = {}
        for user_id, grid_id, duty in (
            GridAssignment.objects.current()
            .filter(user_id__in=list(self.people))
            .values_list("user_id", "grid_id", "duty")
        ):
            self._on_duty.setdefault(user_id, {}).setdefault(grid_id, set()).add(duty)

    def sees_membership(self, person: Any, kind: str, facts: _MembershipFacts) -> bool:
        if not getattr(person, "is_authenticated", False):
            return False
        if person.is_superuser:
            return True
        if not roles.works_for_community(person):
            return False
        rule = self._rules.get((facts.community_id, kind)) or _Rule.at_defaults(kind)
        if rule.officer_id is not None and rule.officer_id == person.pk:
            return True
        if roles.is_community_admin(person) and person.community_id and facts.community_id == person.community_id:
            return True
        if roles.is_department(person) and person.department_id:
            return rule.department and facts.department_id == person.department_id
        return rule.by_duty(self._on_duty.get(person.pk, {}).get(facts.grid_id, set()))

    def sees(self, person: Any, resident_id: int, kind: str) -> bool:
        """Whether the person sees the resident's membership of the group (any of them, where
        the resident joined the group more than once)."""
        return any(self.sees_membership(person, kind, facts) for facts in self._by_line.get((resident_id, kind), ()))

    def seen_pks(self, person: Any) -> set[int]:
        """The memberships of this set the person sees."""
        return {
            facts.pk
            for (_resident_id, kind), lines in self._by_line.items()
            for facts in lines
            if self.sees_membership(person, kind, facts)
        }


def manageable_group_kinds(user: Any, resident: Resident) -> set[str]:
    """The group kinds a person may record for a resident: the kinds whose membership they
    would then see, per GroupMembershipQuerySet.visible_to (read the same way, for a row not
    yet saved), except that department liaisons and subdistrict staff only read."""
    if getattr(user, "is_superuser", False):
        return set(GroupKind.values)
    if not roles.works_for_community(user) or roles.is_department(user) or roles.is_subdistrict_staff(user):
        return set()
    community_id = resident.community_id
    if roles.is_community_admin(user) and user.community_id == community_id:
        return set(GroupKind.values)
    rules = {
        kind: _Rule(grid_workers, grid_helpers, department, officer_id)
        for kind, grid_workers, grid_helpers, department, officer_id in GroupAccessRule.objects.filter(
            community_id=community_id
        ).values_list("kind", "grid_workers", "grid_helpers", "department", "designated_officer_id")
    }
    duties = set(
        GridAssignment.objects.current()
        .filter(user_id=user.pk, grid_id=resident.dwelling.building.compound.grid_id)
        .values_list("duty", flat=True)
    )
    allowed = set()
    for kind in GroupKind.values:
        rule = rules.get(kind) or _Rule.at_defaults(kind)
        if rule.officer_id == user.pk or rule.by_duty(duties):
            allowed.add(kind)
    return allowed


# The kinds whose level, when none is chosen, is the scale's default (general care; aftercare
# by the date of release). The others' level is an assessment (a control level, a risk grade,
# the department's level): it must be chosen.
LEVELS_TAKEN_BY_DEFAULT = SPECIAL_GROUP_KINDS | {GroupKind.RELEASED_PRISONER}


class GroupMembership(models.Model):
    """A resident's membership of a special group (特殊群体) or of the key persons (重点人群),
    from `since` to `until` (the last day; open while empty): leaving is recorded, never
    deleted. Stores the level on the group's own scale (grids.models.groups: a care level, a
    control level, aftercare, a risk grade, the department's level) and the responsible
    department; never a diagnosis or an offence."""

    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="group_memberships", verbose_name=_("resident")
    )
    kind = models.CharField(_("group"), max_length=32, choices=GroupKind.choices)
    level = models.CharField(
        _("level"),
        max_length=LEVEL_MAX_LENGTH,
        choices=grouped_level_choices(),
        blank=True,
        help_text=_("On the scale of the group (see grids.models.groups); it sets how often they are visited."),
    )
    disability_grade = models.PositiveSmallIntegerField(
        _("disability grade"),
        null=True,
        blank=True,
        choices=[(grade, str(grade)) for grade in range(1, 5)],
        help_text=_("1 to 4, as on the disability certificate; only for the disability group."),
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="group_memberships",
        verbose_name=_("responsible department"),
    )
    since = models.DateField(_("since"), default=timezone.localdate)
    until = models.DateField(_("until"), null=True, blank=True)
    note = models.CharField(
        _("note"),
        max_length=200,
        blank=True,
        help_text=_(
            "Practical notes only (how to reach them, best time to visit). Never record a diagnosis or an offence."
        ),
    )

    objects = GroupMembershipQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("group membership")
        verbose_name_plural = _("group memberships")
        ordering = ["resident_id", "kind", "-since"]
        constraints = [
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gte=models.F("since")),
                name="groupmembership_until_after_since",
                violation_error_message=_("The end of a membership cannot be before its start."),
            ),
            models.CheckConstraint(
                condition=Q(disability_grade__isnull=True)
                | Q(kind="disability", disability_grade__gte=1, disability_grade__lte=4),
                name="groupmembership_disability_grade",
                violation_error_message=_("A disability grade (1 to 4) belongs only to the disability group."),
            ),
            models.CheckConstraint(
                condition=membership_level_matches_kind(),
                name="groupmembership_level_matches_kind",
                violation_error_message=_("The level is not on the scale of this group."),
            ),
        ]
        indexes = [models.Index(fields=["kind", "until"], name="groupmembership_kind_until")]

    def __str__(self) -> str:
        return f"{self.resident} · {self.get_kind_display()}"

    @property
    def category(self) -> GroupCategory:
        return category_of(self.kind)

    def is_current(self, on: datetime.date | None = None) -> bool:
        day = on or timezone.localdate()
        return self.since <= day and (self.until is None or self.until >= day)

    def clean(self) -> None:
        errors: dict[str, list[Any]] = {}
        if self.kind == GroupKind.DISABILITY and self.disability_grade is None:
            errors.setdefault("disability_grade", []).append(_("Give the disability grade (1 to 4)."))
        if self.kind != GroupKind.DISABILITY and self.disability_grade is not None:
            errors.setdefault("disability_grade", []).append(_("Only the disability group has a grade."))
        if self.kind in GroupKind.values:
            if not self.level and self.kind in LEVELS_TAKEN_BY_DEFAULT:
                self.level = default_level(self.kind, self.since, timezone.localdate())
            problem = level_error(self.kind, self.level) or (
                aftercare_error(self.level, self.since, timezone.localdate())
                if self.kind == GroupKind.RELEASED_PRISONER and isinstance(self.since, datetime.date)
                else None
            )
            if problem:
                errors.setdefault("level", []).append(problem)
        if self.kind == GroupKind.RELEASED_PRISONER and self.since and self.until:
            limit = years_after(self.since, AFTERCARE_YEARS)
            if self.until > limit:
                errors.setdefault("until", []).append(
                    _("Aftercare of people released from prison lasts at most five years (until %(date)s).")
                    % {"date": limit.isoformat()}
                )
        if self.since and self.until and self.until < self.since:
            errors.setdefault("until", []).append(_("The end of a membership cannot be before its start."))
        if errors:
            raise ValidationError(errors)


# --- Unmasked exports (导出审批) --------------------------------------------------------------


class ExportStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class ExportApprovalQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> ExportApprovalQuerySet:
        """Requesters see their own requests; those who decide (decidable_by) the requests they
        may decide."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(Q(requested_by_id=user.pk) | Q(pk__in=self.decidable_by(user).values("pk")))

    def decidable_by(self, user: Any) -> ExportApprovalQuerySet:
        """Who decides a request: the community admin, and the subdistrict's staff for the
        communities of their subdistrict (so a community with one admin is not stuck: nobody
        decides their own request). Anyone else, no one."""
        if getattr(user, "is_superuser", False):
            return self
        if roles.is_community_admin(user) and user.community_id:
            return self.filter(community_id=user.community_id)
        if roles.is_subdistrict_staff(user) and user.subdistrict_id:
            return self.filter(community__subdistrict_id=user.subdistrict_id)
        return self.none()

    def usable_by(self, user: Any, now: datetime.datetime | None = None) -> ExportApprovalQuerySet:
        """Approved, unused, still valid approvals of the person's own requests."""
        moment = now or timezone.now()
        return self.filter(
            requested_by_id=getattr(user, "pk", None),
            status=ExportStatus.APPROVED,
            used_at__isnull=True,
            valid_until__gte=moment,
        )


def export_deciders(approval: ExportApproval) -> models.QuerySet:
    """The active people who may decide the request (ExportApprovalQuerySet.decidable_by, asked
    from the request's side), its requester left out: who is told of a new request."""
    community = approval.community
    return (
        User.objects.filter(is_active=True)
        .filter(
            Q(role=Role.COMMUNITY_ADMIN, community_id=community.pk)
            | Q(role=Role.SUBDISTRICT_STAFF, subdistrict_id=community.subdistrict_id)
        )
        .exclude(pk=approval.requested_by_id)
    )


class ExportApproval(models.Model):
    """The community admin's approval of one unmasked export of the residents registry: asked
    for with a reason, approved or refused, valid until a time, and used once."""

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="export_approvals", verbose_name=_("community")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="export_requests",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    reason = models.TextField(_("reason"))
    status = models.CharField(_("status"), max_length=16, choices=ExportStatus.choices, default=ExportStatus.REQUESTED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="export_decisions",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    objects = ExportApprovalQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("export approval")
        verbose_name_plural = _("export approvals")
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.requested_by} · {self.requested_at:%Y-%m-%d %H:%M} · {self.get_status_display()}"

    @property
    def is_usable(self) -> bool:
        return (
            self.status == ExportStatus.APPROVED
            and self.used_at is None
            and self.valid_until is not None
            and self.valid_until >= timezone.now()
        )
