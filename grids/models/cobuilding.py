"""Party building together (党建共建): the joint meeting (联席会议) of the business-district joint
party committee and who sits on it, and the resident units' party organisations that report to
the community (单位双报到) with their co-building agreement (共建协议) and three lists: the unit's
resources (资源清单), the community's needs (需求清单) and the joint projects (项目清单).

Scoping:
- a seat of the joint meeting is seen by whoever sees its joint committee
  (PartyOrganisation.objects.visible_to); it is kept by the superuser and by the community admin
  of a community the committee spans (subdistrict staff read only, as in grids.access);
- a unit registration and its items are seen as the organisations of the community it reports
  to (access.community_scope: the community's staff, admin and department liaisons, the
  subdistrict's staff) and by the unit organisation's secretary; the community's staff and admin
  keep them (access.registry_rule, column "edit registry").

An item moves through UNIT_ITEM_WORKFLOW (shanglong.workflow): open (待对接) -> matched (已对接)
-> in progress (实施中) -> done (已完成), or dropped (已撤销) from any open state, each step a
UnitRegistrationItemStep on its timeline.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from grids import access
from grids.models.organisation import OrganisationKind, PartyOrganisation
from shanglong import roles
from shanglong.masking import mask_phone
from shanglong.models import AppendOnlyQuerySet, Attachment, Community, Department, TimelineEntry
from shanglong.refusals import Conflict, NotAllowed
from shanglong.validators import validate_mobile
from shanglong.workflow import Workflow, step


def _today() -> datetime.date:
    return timezone.localdate()


# --- The joint meeting's roster (联席会议成员) --------------------------------------------------


class SeatKind(models.TextChoices):
    """What takes a seat at the joint meeting."""

    SUBDISTRICT_COMMITTEE = "subdistrict_committee", _("Subdistrict working committee")
    COMMUNITY_COMMITTEE = "community_committee", _("Community party committee")
    UNIT_ORGANISATION = "unit_organisation", _("Resident unit or enterprise party organisation")
    DEPARTMENT = "department", _("Department")


# The organisation kind each organisation seat takes.
SEAT_ORGANISATION_KINDS = {
    SeatKind.SUBDISTRICT_COMMITTEE: OrganisationKind.SUBDISTRICT_COMMITTEE,
    SeatKind.COMMUNITY_COMMITTEE: OrganisationKind.COMMUNITY_COMMITTEE,
    SeatKind.UNIT_ORGANISATION: OrganisationKind.UNIT_ORGANISATION,
}


def roster_edit_rule(user: Any, path: str = "") -> Q | None:
    """Q over the joint committees (at `path`, e.g. "committee__") whose roster a person keeps:
    the community admin those spanning their community, the superuser all. None for the rest."""
    if not getattr(user, "is_authenticated", False):
        return None
    if user.is_superuser:
        return Q()
    if roles.is_community_admin(user) and user.community_id:
        spans = PartyOrganisation.communities.through.objects.filter(community_id=user.community_id)
        return Q(**{f"{path}community_id": user.community_id}) | Q(
            **{f"{path}pk__in": spans.values("partyorganisation_id")}
        )
    return None


def may_keep_roster(user: Any, committee: PartyOrganisation) -> bool:
    rule = roster_edit_rule(user)
    if rule is None or not committee.is_joint_committee:
        return False
    return PartyOrganisation.objects.filter(rule, pk=committee.pk).exists()


class JointMeetingMemberQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> JointMeetingMemberQuerySet:
        return self.filter(committee__in=PartyOrganisation.objects.visible_to(user).values("pk"))

    def editable_by(self, user: Any) -> JointMeetingMemberQuerySet:
        rule = roster_edit_rule(user, "committee__")
        return self.none() if rule is None else self.filter(rule)

    def writable_by(self, user: Any) -> bool:
        return roster_edit_rule(user) is not None

    def current(self, on: datetime.date | None = None) -> JointMeetingMemberQuerySet:
        """Seats held on the day (today by default): taken, and not yet left."""
        day = on or _today()
        return self.filter(since__lte=day).filter(Q(until__isnull=True) | Q(until__gte=day))


class JointMeetingMember(models.Model):
    """A seat at the joint meeting (党建联席会议) of a business-district joint committee: the
    subdistrict working committee, a community committee, a resident unit's or enterprise's
    party organisation, or a department (市场监管所, 派出所 ...), with the person who represents
    it and their position, from `since` to `until` (the last day; leaving is recorded, the seat
    stays on the roster's history)."""

    committee = models.ForeignKey(
        PartyOrganisation,
        on_delete=models.PROTECT,
        related_name="joint_meeting_seats",
        limit_choices_to={"kind": OrganisationKind.DISTRICT_JOINT_COMMITTEE},
        verbose_name=_("joint committee"),
    )
    seat_kind = models.CharField(_("member kind"), max_length=32, choices=SeatKind.choices)
    organisation = models.ForeignKey(
        PartyOrganisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="joint_meeting_memberships",
        verbose_name=_("party organisation"),
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="joint_meeting_memberships",
        verbose_name=_("department"),
    )
    representative = models.CharField(_("representative"), max_length=100)
    position = models.CharField(_("position"), max_length=100, blank=True, help_text=_("For example 党委书记."))
    since = models.DateField(_("member since"), default=timezone.localdate)
    until = models.DateField(_("last day as member"), null=True, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    objects = JointMeetingMemberQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("joint meeting member")
        verbose_name_plural = _("joint meeting members")
        ordering = ["committee_id", "order", "since", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(seat_kind=SeatKind.DEPARTMENT, department__isnull=False, organisation__isnull=True)
                | (~Q(seat_kind=SeatKind.DEPARTMENT) & Q(organisation__isnull=False, department__isnull=True)),
                name="jointmeetingmember_organisation_or_department",
                violation_error_message=_(
                    "A department's seat names the department; any other names the organisation."
                ),
            ),
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gte=models.F("since")),
                name="jointmeetingmember_until_after_since",
                violation_error_message=_("The last day as member cannot be before the first."),
            ),
            models.UniqueConstraint(
                fields=["committee", "organisation"],
                condition=Q(until__isnull=True),
                name="jointmeetingmember_one_open_seat_per_organisation",
            ),
            models.UniqueConstraint(
                fields=["committee", "department"],
                condition=Q(until__isnull=True),
                name="jointmeetingmember_one_open_seat_per_department",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.holder} · {self.representative}"

    @property
    def holder(self) -> str:
        """What takes the seat: the organisation's or the department's name."""
        if self.organisation_id is not None:
            return self.organisation.name
        return self.department.name if self.department_id is not None else ""

    def is_current(self, on: datetime.date | None = None) -> bool:
        day = on or _today()
        return self.since <= day and (self.until is None or self.until >= day)

    def clean(self) -> None:
        errors: dict[str, list[Any]] = {}
        self.representative = (self.representative or "").strip()
        self.position = (self.position or "").strip()
        if self.committee_id is not None and self.committee.kind != OrganisationKind.DISTRICT_JOINT_COMMITTEE:
            errors.setdefault("committee", []).append(
                _("Only a business-district joint committee has a joint meeting.")
            )
        subdistrict_id = self.committee.owner_subdistrict_id if self.committee_id is not None else None
        if self.seat_kind == SeatKind.DEPARTMENT:
            if self.department_id is None:
                errors.setdefault("department", []).append(_("Choose the department that takes the seat."))
            elif self.department.subdistrict_id not in (None, subdistrict_id):
                errors.setdefault("department", []).append(_("The department works in another subdistrict."))
            if self.organisation_id is not None:
                errors.setdefault("organisation", []).append(_("A department's seat names no party organisation."))
        elif self.seat_kind:
            wanted = SEAT_ORGANISATION_KINDS.get(self.seat_kind)
            if self.organisation_id is None:
                errors.setdefault("organisation", []).append(_("Choose the party organisation that takes the seat."))
            elif self.organisation.kind != wanted:
                errors.setdefault("organisation", []).append(
                    _("This organisation is not a %(kind)s.") % {"kind": OrganisationKind(wanted).label}
                )
            elif self.organisation.owner_subdistrict_id != subdistrict_id:
                errors.setdefault("organisation", []).append(_("The organisation belongs to another subdistrict."))
            elif self.organisation_id == self.committee_id:
                errors.setdefault("organisation", []).append(_("The joint committee does not sit on its own meeting."))
            if self.department_id is not None:
                errors.setdefault("department", []).append(_("An organisation's seat names no department."))
        if self.since and self.until and self.until < self.since:
            errors.setdefault("until", []).append(_("The last day as member cannot be before the first."))
        if not errors and self.committee_id is not None and self.since:
            holder = (
                {"organisation_id": self.organisation_id}
                if self.seat_kind != SeatKind.DEPARTMENT
                else {"department_id": self.department_id}
            )
            # Two seats of the same holder may not run on the same day (a seat is held once).
            rule = Q(until__isnull=True) | Q(until__gte=self.since)
            if self.until is not None:
                rule &= Q(since__lte=self.until)
            others = JointMeetingMember.objects.filter(rule, committee_id=self.committee_id, **holder)
            if others.exclude(pk=self.pk).exists():
                field = "organisation" if "organisation_id" in holder else "department"
                errors.setdefault(field, []).append(
                    _("%(holder)s already has a seat on this joint meeting for these dates.") % {"holder": self.holder}
                )
        if errors:
            raise ValidationError(errors)


# --- Unit registration (单位双报到) -------------------------------------------------------------


class UnitScopedQuerySet(models.QuerySet):
    """visible_to: the registrations (at `community_path`'s row) of the communities the person's
    role covers (as the community's organisations), and those of the units they are secretary
    of; editable_by: the community's staff and admin (column "edit registry")."""

    community_path = "community"

    def visible_to(self, user: Any) -> UnitRegistrationQuerySet:
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.is_superuser:
            return self
        rule = Q(**{f"{self._unit_path}secretary_id": user.pk})
        whole_communities = access.community_scope(user, self.community_path)
        if whole_communities is not None:
            rule |= whole_communities
        return self.filter(rule)

    @property
    def _unit_path(self) -> str:
        prefix = self.community_path.removesuffix("community")
        return f"{prefix}unit_organisation__"

    def editable_by(self, user: Any) -> UnitRegistrationQuerySet:
        rule = access.registry_rule(user, self.community_path)
        return self.none() if rule is None else self.filter(rule)

    def writable_by(self, user: Any) -> bool:
        return access.can_edit_registry(user)


class UnitRegistrationQuerySet(UnitScopedQuerySet):
    def current(self, on: datetime.date | None = None) -> UnitRegistrationQuerySet:
        day = on or _today()
        return self.filter(registered_on__lte=day).filter(Q(ended_on__isnull=True) | Q(ended_on__gte=day))

    def with_item_counts(self) -> UnitRegistrationQuerySet:
        """Annotate, for each list, `<list>_active` (items not yet done or dropped) and
        `<list>_done` (done): one query with the registrations (SQL COUNT ... FILTER)."""
        counts = {}
        for item_list in ItemList.values:
            in_list = Q(items__item_list=item_list)
            counts[f"{item_list}_active"] = Count("items", filter=in_list & Q(items__status__in=ACTIVE_ITEM_STATUSES))
            counts[f"{item_list}_done"] = Count("items", filter=in_list & Q(items__status=ItemStatus.DONE))
        return self.annotate(**counts)


class UnitRegistration(models.Model):
    """单位双报到: a resident unit's or enterprise's party organisation reports to the community
    it is in, signs a co-building agreement (共建协议) with it and keeps three lists with it: the
    unit's resources, the community's needs and their joint projects (UnitRegistrationItem).
    The agreement file (PDF or picture) is an Attachment of the registration. A registration
    ends by `ended_on`; the record stays."""

    unit_organisation = models.ForeignKey(
        PartyOrganisation,
        on_delete=models.PROTECT,
        related_name="unit_registrations",
        limit_choices_to={"kind": OrganisationKind.UNIT_ORGANISATION},
        verbose_name=_("unit party organisation"),
    )
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="unit_registrations", verbose_name=_("community")
    )
    registered_on = models.DateField(_("registered on"), default=timezone.localdate)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=100)
    contact_phone = models.CharField(_("contact's mobile"), max_length=11, blank=True, validators=[validate_mobile])
    agreement_signed_on = models.DateField(_("agreement signed on"), null=True, blank=True)
    agreement_until = models.DateField(_("agreement valid until"), null=True, blank=True)
    agreement_summary = models.TextField(
        _("what the agreement says"), blank=True, help_text=_("What each side undertakes, in a few lines.")
    )

    attachments = GenericRelation(Attachment, content_type_field="content_type", object_id_field="object_id")

    objects = UnitRegistrationQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("unit registration")
        verbose_name_plural = _("unit registrations")
        ordering = ["community_id", "-registered_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("registered_on")),
                name="unitregistration_ended_after_registered",
                violation_error_message=_("The end cannot be before the registration."),
            ),
            models.CheckConstraint(
                condition=Q(agreement_until__isnull=True)
                | (Q(agreement_signed_on__isnull=False) & Q(agreement_until__gte=models.F("agreement_signed_on"))),
                name="unitregistration_agreement_until_after_signed",
                violation_error_message=_("The agreement cannot end before it was signed."),
            ),
            models.UniqueConstraint(
                fields=["unit_organisation", "community"],
                condition=Q(ended_on__isnull=True),
                name="unitregistration_one_open_per_unit",
                violation_error_message=_("This unit is already registered with the community; end that first."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit_organisation} · {self.community}"

    def is_current(self, on: datetime.date | None = None) -> bool:
        day = on or _today()
        return self.registered_on <= day and (self.ended_on is None or self.ended_on >= day)

    @property
    def masked_contact_phone(self) -> str:
        """The contact's mobile as pages show it (138****5678), as the party members' are."""
        return mask_phone(self.contact_phone)

    def clean(self) -> None:
        errors: dict[str, list[Any]] = {}
        self.contact_name = (self.contact_name or "").strip()
        if self.unit_organisation_id is not None:
            unit = self.unit_organisation
            if unit.kind != OrganisationKind.UNIT_ORGANISATION:
                errors.setdefault("unit_organisation", []).append(
                    _("Choose a resident unit's or enterprise's party organisation.")
                )
            elif self.community_id is not None and unit.community_id != self.community_id:
                errors.setdefault("unit_organisation", []).append(
                    _("A unit reports to the community it is in: this organisation belongs to another community.")
                )
        if self.registered_on and self.ended_on and self.ended_on < self.registered_on:
            errors.setdefault("ended_on", []).append(_("The end cannot be before the registration."))
        if self.agreement_until and not self.agreement_signed_on:
            errors.setdefault("agreement_signed_on", []).append(_("Give the day the agreement was signed."))
        elif self.agreement_until and self.agreement_until < self.agreement_signed_on:
            errors.setdefault("agreement_until", []).append(_("The agreement cannot end before it was signed."))
        if self.agreement_signed_on and self.agreement_signed_on > _today():
            errors.setdefault("agreement_signed_on", []).append(_("The date cannot be in the future."))
        if errors:
            raise ValidationError(errors)


class ItemList(models.TextChoices):
    """The three lists of a unit registration."""

    RESOURCE = "resource", _("Resource list")
    NEED = "need", _("Need list")
    PROJECT = "project", _("Project list")


class ItemStatus(models.TextChoices):
    OPEN = "open", _("Waiting to be matched")
    MATCHED = "matched", _("Matched")
    IN_PROGRESS = "in_progress", _("Under way")
    DONE = "done", _("Done")
    DROPPED = "dropped", _("Dropped")


ACTIVE_ITEM_STATUSES = (ItemStatus.OPEN, ItemStatus.MATCHED, ItemStatus.IN_PROGRESS)


class ItemAction(models.TextChoices):
    """The steps of an item's workflow (UNIT_ITEM_WORKFLOW)."""

    MATCH = "match", _("Match")
    START = "start", _("Start")
    COMPLETE = "complete", _("Complete")
    DROP = "drop", _("Drop")


class UnitRegistrationItemQuerySet(UnitScopedQuerySet):
    community_path = "registration__community"


class UnitRegistrationItem(models.Model):
    """One line of a unit registration's lists: a resource the unit offers (会议室场地, 党员志愿者),
    a need of the community (老旧小区停车, 青少年暑期托管) or a joint project (商河路夜间照明), with
    where it stands. It moves through UNIT_ITEM_WORKFLOW; each step is on its timeline."""

    registration = models.ForeignKey(
        UnitRegistration, on_delete=models.PROTECT, related_name="items", verbose_name=_("unit registration")
    )
    item_list = models.CharField(_("list"), max_length=16, choices=ItemList.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=ItemStatus.choices, default=ItemStatus.OPEN)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("added at"), default=timezone.now)
    finished_at = models.DateTimeField(_("done or dropped at"), null=True, blank=True)

    objects = UnitRegistrationItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("list item")
        verbose_name_plural = _("list items")
        ordering = ["registration_id", "item_list", "created_at", "pk"]
        indexes = [models.Index(fields=["registration", "item_list", "status"], name="unititem_registration_list")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_finished(self) -> bool:
        return self.status not in ACTIVE_ITEM_STATUSES

    def clean(self) -> None:
        self.title = (self.title or "").strip()
        if not self.title:
            raise ValidationError({"title": _("Say what the item is.")})


UNIT_ITEM_STEPS_APPEND_ONLY = "The steps of a list item are append-only."


class UnitRegistrationItemStepQuerySet(AppendOnlyQuerySet, UnitScopedQuerySet):
    append_only_message = UNIT_ITEM_STEPS_APPEND_ONLY
    community_path = "item__registration__community"


class UnitRegistrationItemStep(TimelineEntry):
    """One step on a list item, its timeline row (shanglong.workflow). Append-only."""

    item = models.ForeignKey(
        UnitRegistrationItem, on_delete=models.PROTECT, related_name="steps", verbose_name=_("list item")
    )

    objects = UnitRegistrationItemStepQuerySet.as_manager()
    append_only_message = UNIT_ITEM_STEPS_APPEND_ONLY

    class Meta:
        verbose_name = _("list item step")
        verbose_name_plural = _("list item steps")
        ordering = ["item_id", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.item} · {self.status}"


# --- The item's workflow ---------------------------------------------------------------------


class NotYourUnitRegistration(NotAllowed):
    code = "not_your_unit_registration"
    message = _("Only the community's staff keep the unit registrations of their community.")


class ItemFinished(Conflict):
    code = "item_finished"
    message = _("This item is done or dropped; nothing was changed.")


class ItemChanged(Conflict):
    code = "item_changed"
    message = _("Someone else moved this item meanwhile; nothing was changed. Look at it again and retry.")


def may_move_item(user: Any, item: UnitRegistrationItem) -> bool:
    """The community's staff and admin move the items of their community's registrations."""
    return UnitRegistration.objects.editable_by(user).filter(pk=item.registration_id).exists()


def _finished(at: datetime.datetime) -> dict[str, Any]:
    return {"finished_at": at}


UNIT_ITEM_WORKFLOW = Workflow(
    statuses=ItemStatus,
    timeline=UnitRegistrationItemStep,
    record_field="item",
    transitions=[
        step(
            ItemAction.MATCH,
            sources=[ItemStatus.OPEN],
            target=ItemStatus.MATCHED,
            allowed=may_move_item,
            label=ItemAction.MATCH.label,
        ),
        step(
            ItemAction.START,
            sources=[ItemStatus.MATCHED],
            target=ItemStatus.IN_PROGRESS,
            allowed=may_move_item,
            label=ItemAction.START.label,
        ),
        step(
            ItemAction.COMPLETE,
            sources=[ItemStatus.IN_PROGRESS],
            target=ItemStatus.DONE,
            allowed=may_move_item,
            label=ItemAction.COMPLETE.label,
            sets=_finished,
        ),
        step(
            ItemAction.DROP,
            sources=ACTIVE_ITEM_STATUSES,
            target=ItemStatus.DROPPED,
            allowed=may_move_item,
            label=ItemAction.DROP.label,
            sets=_finished,
        ),
    ],
    not_allowed=NotYourUnitRegistration,
    changed=ItemChanged,
    state_refusals={ItemStatus.DONE: ItemFinished, ItemStatus.DROPPED: ItemFinished},
)
