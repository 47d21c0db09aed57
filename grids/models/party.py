"""Party members (党员) of the community's organisations: who they are, where they are organised,
the mobile party members (流动党员) who live away or came from elsewhere with the organisational
life they attend, and the in-work party members who register with the community (在职党员双报到),
the community tasks they claim (认领) with the hours they serve, and the yearly report back to
their employer's organisation.

Scoping: party membership is sensitive. Who sees which member is written once, in
`party_member_rule(user)`; every model here filters with it through the path to its member:

- community staff and the community admin: the members of their community's organisations;
- the secretary of a party organisation: that organisation's members (a branch secretary their
  branch, whatever their primary role);
- subdistrict staff: every community of their subdistrict (read only);
- a person whose account is linked to a member: their own record, mobile record, tasks and hours;
- everyone else (grid workers, merchants, volunteers, department liaisons, outsiders): none.

Who keeps the records (`party_member_edit_rule`): community staff their community's members, a
secretary their organisation's. The member themselves and subdistrict staff read.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import DecimalField, Exists, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from grids.models.organisation import OrganisationKind, PartyOrganisation
from shanglong import roles
from shanglong.masking import mask_phone
from shanglong.refusals import Conflict
from shanglong.validators import validate_mobile

# --- Scoping: THE party-member rule ----------------------------------------------------------

# The organisations a party member can be organised in: the grid branches, the business-district
# joint committee and the resident-unit and enterprise organisations that join it.
MEMBER_ORGANISATION_KINDS = (
    OrganisationKind.GRID_BRANCH,
    OrganisationKind.DISTRICT_JOINT_COMMITTEE,
    OrganisationKind.UNIT_ORGANISATION,
)


def party_member_rule(user: Any, path: str = "") -> Q | None:
    """Q over party members (at `path`, e.g. "registration__member__") a person may see; None
    when they may see none. THE one rule: every party model's visible_to uses it."""
    if not getattr(user, "is_authenticated", False):
        return None
    if user.is_superuser:
        return Q()
    rule = Q(**{f"{path}user_id": user.pk}) | Q(**{f"{path}organisation__secretary_id": user.pk})
    if roles.is_subdistrict_staff(user) and user.subdistrict_id:
        rule |= Q(**{f"{path}organisation__community__subdistrict_id": user.subdistrict_id})
    elif roles.is_community_staff(user) and user.community_id:
        rule |= Q(**{f"{path}organisation__community_id": user.community_id})
    return rule


def party_member_edit_rule(user: Any, path: str = "") -> Q | None:
    """Q over the party members (at `path`) a person may keep: community staff their community's,
    a secretary their organisation's. None when they may keep none."""
    if not getattr(user, "is_authenticated", False):
        return None
    if user.is_superuser:
        return Q()
    rule = Q(**{f"{path}organisation__secretary_id": user.pk})
    if roles.is_community_staff(user) and user.community_id:
        rule |= Q(**{f"{path}organisation__community_id": user.community_id})
    return rule


def member_organisations_for(user: Any) -> models.QuerySet:
    """The organisations a person may put a party member in (the choices of forms and API):
    the member kinds, among the organisations they see, bounded by what they may keep."""
    if not getattr(user, "is_authenticated", False):
        return PartyOrganisation.objects.none()
    organisations = (
        PartyOrganisation.objects.visible_to(user).community_owned().filter(kind__in=MEMBER_ORGANISATION_KINDS)
    )
    if user.is_superuser:
        return organisations
    rule = Q(secretary_id=user.pk)
    if roles.is_community_staff(user) and user.community_id:
        rule |= Q(community_id=user.community_id)
    return organisations.filter(rule)


def can_keep_party_members(user: Any) -> bool:
    """Whether a person keeps any party members at all (one query for a secretary)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or (roles.is_community_staff(user) and user.community_id):
        return True
    return (
        PartyOrganisation.objects.community_owned()
        .filter(secretary_id=user.pk, kind__in=MEMBER_ORGANISATION_KINDS)
        .exists()
    )


def can_keep_member(user: Any, member: PartyMember) -> bool:
    """Whether a person may keep this member's records: party_member_edit_rule for one row, in
    Python (the member's organisation must be loaded)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    organisation = member.organisation
    if organisation.secretary_id == user.pk:
        return True
    return bool(roles.is_community_staff(user) and user.community_id and organisation.community_id == user.community_id)


def year_bounds(year: int) -> tuple[datetime.date, datetime.date]:
    """The first and last day of a year (a range the database can use an index for)."""
    return datetime.date(year, 1, 1), datetime.date(year, 12, 31)


def _today() -> datetime.date:
    return timezone.localdate()


def _runs_within(start: str, end: str, first: datetime.date, last: datetime.date | None) -> Q:
    """Q over records running from `start` to `end` (the last day; open while empty) that run on
    at least one day from `first` to `last` (open-ended when None): current records, a year's
    records, and the records a new one would overlap."""
    rule = Q(**{f"{end}__isnull": True}) | Q(**{f"{end}__gte": first})
    return rule if last is None else rule & Q(**{f"{start}__lte": last})


class _MemberScopedQuerySet(models.QuerySet):
    """visible_to / editable_by through the path from the row to its party member."""

    member_path = ""

    def visible_to(self, user: Any) -> Any:
        rule = party_member_rule(user, self.member_path)
        return self.none() if rule is None else self.filter(rule)

    def editable_by(self, user: Any) -> Any:
        rule = party_member_edit_rule(user, self.member_path)
        return self.none() if rule is None else self.filter(rule)

    def writable_by(self, user: Any) -> bool:
        return can_keep_party_members(user)


# --- Party members ---------------------------------------------------------------------------


class MemberStatus(models.TextChoices):
    FULL = "full", _("Full member")
    PROBATIONARY = "probationary", _("Probationary member")


class PartyMemberQuerySet(_MemberScopedQuerySet):
    member_path = ""

    def current(self, on: datetime.date | None = None) -> PartyMemberQuerySet:
        """Members who have not left their organisation by the day (today by default)."""
        day = on or _today()
        return self.filter(Q(left_on__isnull=True) | Q(left_on__gt=day))

    def former(self, on: datetime.date | None = None) -> PartyMemberQuerySet:
        """Members who left their organisation (transferred out) by the day."""
        return self.filter(left_on__lte=on or _today())

    def with_situation(self, on: datetime.date | None = None) -> PartyMemberQuerySet:
        """Annotate `mobile_direction` (the direction of the current mobile record, or None) and
        `in_work` (a current in-work registration): two subqueries in the same query."""
        day = on or _today()
        current_mobile = MobileMembership.objects.filter(member_id=OuterRef("pk")).current(day)
        current_registration = InWorkRegistration.objects.filter(member_id=OuterRef("pk")).current(day)
        return self.annotate(
            mobile_direction=Subquery(current_mobile.order_by("-since").values("direction")[:1]),
            in_work=Exists(current_registration),
        )

    def mobile(self, direction: str, on: datetime.date | None = None) -> PartyMemberQuerySet:
        """Members with a current mobile record of the direction (outflow or inflow)."""
        day = on or _today()
        return self.filter(
            Exists(MobileMembership.objects.filter(member_id=OuterRef("pk"), direction=direction).current(day))
        )

    def search(self, text: str) -> PartyMemberQuerySet:
        text = "".join((text or "").split())
        if not text:
            return self
        rule = Q(name__icontains=text)
        if text.isdigit() and len(text) >= 4:
            rule |= Q(phone__endswith=text)
        return self.filter(rule)


class PartyMember(models.Model):
    """党员: a member of the party organised in one of the community's organisations (a grid
    branch, the business-district joint committee or a resident-unit organisation).

    The person is the resident of the registry, the portal account, or both (a member with an
    account sees their own record, tasks and hours): at least one of them is required. A member
    who leaves (transferred out) keeps the record with `left_on`.

    亮身份: a party-member merchant shows their identity at the shop. The merchant registry (a
    higher app) points down here from its Merchant; `shows_identity` is the member's consent to
    be shown as a party member in public.
    """

    resident = models.OneToOneField(
        "grids.Resident",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="party_member",
        verbose_name=_("resident"),
        error_messages={"unique": _("This resident is already a party member.")},
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="party_member",
        verbose_name=_("portal account"),
        error_messages={"unique": _("This account is already linked to a party member.")},
    )
    name = models.CharField(_("name"), max_length=100)
    organisation = models.ForeignKey(
        PartyOrganisation,
        on_delete=models.PROTECT,
        related_name="members",
        limit_choices_to={"kind__in": MEMBER_ORGANISATION_KINDS},
        verbose_name=_("party organisation"),
    )
    status = models.CharField(_("status"), max_length=16, choices=MemberStatus.choices, default=MemberStatus.FULL)
    joined_on = models.DateField(_("joined the party on"))
    phone = models.CharField(_("mobile"), max_length=11, blank=True, validators=[validate_mobile])
    shows_identity = models.BooleanField(
        _("shows party identity"),
        default=False,
        help_text=_("The member agrees to be shown as a party member in public (亮身份), for example at their shop."),
    )
    left_on = models.DateField(
        _("left the organisation on"),
        null=True,
        blank=True,
        help_text=_("For a member transferred out of the organisation; the record stays."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = PartyMemberQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("party member")
        verbose_name_plural = _("party members")
        ordering = ["organisation_id", "name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(resident__isnull=False) | Q(user__isnull=False),
                name="partymember_resident_or_user",
                violation_error_message=_("Link the party member to a resident, a portal account, or both."),
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=models.F("joined_on")),
                name="partymember_left_after_joined",
                violation_error_message=_("A member cannot leave before joining the party."),
            ),
        ]
        indexes = [models.Index(fields=["organisation", "left_on"], name="partymember_organisation_left")]

    def __str__(self) -> str:
        return self.name

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def community_id(self) -> int:
        return self.organisation.community_id

    def has_left(self, on: datetime.date | None = None) -> bool:
        return self.left_on is not None and self.left_on <= (on or _today())

    def clean(self) -> None:
        # "A resident, an account or both" is the check constraint's (validate_constraints says it).
        errors: dict[str, list[Any]] = {}
        if self.organisation_id is not None:
            organisation = self.organisation
            if organisation.kind not in MEMBER_ORGANISATION_KINDS:
                errors.setdefault("organisation", []).append(
                    _("A member is organised in a grid branch, the joint committee or a unit organisation.")
                )
            elif organisation.community_id is None:
                # The subdistrict's organisations lead; members are kept by a community.
                errors.setdefault("organisation", []).append(
                    _("A member is organised in one of a community's organisations, not the subdistrict's.")
                )
            if self.resident_id is not None and self.resident.community_id != organisation.community_id:
                errors.setdefault("resident", []).append(_("The resident lives in another community."))
            if self.user_id is not None and self.user.community_id not in (None, organisation.community_id):
                errors.setdefault("user", []).append(_("This account belongs to another community."))
        if self.joined_on and self.joined_on > _today():
            errors.setdefault("joined_on", []).append(_("The date of joining cannot be in the future."))
        if self.joined_on and self.left_on and self.left_on < self.joined_on:
            errors.setdefault("left_on", []).append(_("A member cannot leave before joining the party."))
        if errors:
            raise ValidationError(errors)


# --- Mobile party members (流动党员) ---------------------------------------------------------


class MobileDirection(models.TextChoices):
    OUTFLOW = "outflow", _("Outflow (living away)")
    INFLOW = "inflow", _("Inflow (from elsewhere)")


class ContactMethod(models.TextChoices):
    WECHAT = "wechat", _("WeChat group")
    PHONE = "phone", _("Phone")
    ONLINE_PLATFORM = "online_platform", _("Online party platform")
    LETTER = "letter", _("Written report")
    IN_PERSON = "in_person", _("In person")


class MobileMembershipQuerySet(_MemberScopedQuerySet):
    member_path = "member__"

    def current(self, on: datetime.date | None = None) -> MobileMembershipQuerySet:
        """Records running on the day (today by default): started and not ended."""
        day = on or _today()
        return self.filter(_runs_within("since", "until", day, day))


class MobileMembership(models.Model):
    """流动党员: a party member living away from their organisation (outflow: where to, since
    when, how they keep in contact) or living here while organised elsewhere (inflow: from where,
    where their membership is kept), from `since` to `until` (the last day; open while empty).
    The organisational life they attend is recorded session by session (OrganisationalLifeAttendance)."""

    member = models.ForeignKey(
        PartyMember, on_delete=models.PROTECT, related_name="mobile_memberships", verbose_name=_("party member")
    )
    direction = models.CharField(_("direction"), max_length=8, choices=MobileDirection.choices)
    place = models.CharField(
        _("place"), max_length=200, help_text=_("Outflow: where the member lives now. Inflow: where they came from.")
    )
    since = models.DateField(_("since"), default=timezone.localdate)
    until = models.DateField(_("until"), null=True, blank=True, help_text=_("The last day; empty while it lasts."))
    contact_method = models.CharField(_("how they keep in contact"), max_length=16, choices=ContactMethod.choices)
    contact_detail = models.CharField(
        _("contact details"), max_length=200, blank=True, help_text=_("For example the name of the WeChat group.")
    )
    membership_kept_at = models.CharField(
        _("membership kept at"),
        max_length=200,
        blank=True,
        help_text=_("Inflow: the party organisation that keeps the member's membership."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = MobileMembershipQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("mobile party membership")
        verbose_name_plural = _("mobile party memberships")
        ordering = ["member_id", "-since", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gte=models.F("since")),
                name="mobilemembership_until_after_since",
                violation_error_message=_("The end cannot be before the start."),
            ),
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(until__isnull=True),
                name="mobilemembership_one_open_per_member",
                violation_error_message=_("This member already has an open mobile record; end it first."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} · {self.get_direction_display()} · {self.place}"

    def is_current(self, on: datetime.date | None = None) -> bool:
        day = on or _today()
        return self.since <= day and (self.until is None or self.until >= day)

    def clean(self) -> None:
        errors: dict[str, list[Any]] = {}
        if self.since and self.until and self.until < self.since:
            errors.setdefault("until", []).append(
                ValidationError(_("The end cannot be before the start."), code="until_before_since")
            )
        if self.direction == MobileDirection.INFLOW and not (self.membership_kept_at or "").strip():
            errors.setdefault("membership_kept_at", []).append(
                _("Say which party organisation keeps the membership of an inflow member.")
            )
        if self.member_id is not None and self.since and "until" not in errors:
            overlapping = MobileMembership.objects.filter(_runs_within("since", "until", self.since, self.until))
            if overlapping.filter(member_id=self.member_id).exclude(pk=self.pk).exists():
                errors.setdefault("since", []).append(_("This member has another mobile record for these dates."))
        if errors:
            raise ValidationError(errors)


class LifeKind(models.TextChoices):
    """三会一课 and the other regular sessions of a branch's organisational life."""

    BRANCH_MEETING = "branch_meeting", _("Branch general meeting")
    COMMITTEE_MEETING = "committee_meeting", _("Branch committee meeting")
    GROUP_MEETING = "group_meeting", _("Party group meeting")
    PARTY_LESSON = "party_lesson", _("Party lesson")
    THEME_DAY = "theme_day", _("Theme party day")
    LIFE_MEETING = "life_meeting", _("Organisational life meeting")


class AttendanceWay(models.TextChoices):
    ONLINE = "online", _("Online")
    IN_PERSON = "in_person", _("In person")


class OrganisationalLifeAttendanceQuerySet(_MemberScopedQuerySet):
    member_path = "mobile_membership__member__"


class OrganisationalLifeAttendance(models.Model):
    """One session of organisational life (三会一课, theme party day ...) a mobile party member
    attended, online or in person, on a day of their mobile record. A trace record: added,
    never edited."""

    mobile_membership = models.ForeignKey(
        MobileMembership, on_delete=models.PROTECT, related_name="attendances", verbose_name=_("mobile record")
    )
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind of organisational life"), max_length=24, choices=LifeKind.choices)
    way = models.CharField(_("online or in person"), max_length=16, choices=AttendanceWay.choices)
    held_by = models.CharField(
        _("held by"),
        max_length=200,
        blank=True,
        help_text=_("The organisation that held it, when it is not the member's own."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    objects = OrganisationalLifeAttendanceQuerySet.as_manager()

    class Meta:
        verbose_name = _("organisational life attended")
        verbose_name_plural = _("organisational life attended")
        ordering = ["mobile_membership_id", "-date", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["mobile_membership", "date", "kind"],
                name="organisationallifeattendance_once_per_day_kind",
                violation_error_message=_("This session is already recorded for that day."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()} ({self.get_way_display()})"

    def clean(self) -> None:
        if self.date is None or self.mobile_membership_id is None:
            return
        record = self.mobile_membership
        if self.date > _today():
            raise ValidationError({"date": _("The date cannot be in the future.")})
        if self.date < record.since or (record.until is not None and self.date > record.until):
            raise ValidationError(
                {
                    "date": _("The date is outside the mobile record (%(since)s to %(until)s).")
                    % {"since": record.since.isoformat(), "until": record.until.isoformat() if record.until else "…"}
                }
            )
        # The unique constraint, said next to the field: a form or serializer without the
        # mobile record among its fields does not check it.
        recorded = OrganisationalLifeAttendance.objects.filter(
            mobile_membership_id=self.mobile_membership_id, date=self.date, kind=self.kind
        )
        if recorded.exclude(pk=self.pk).exists():
            raise ValidationError({"kind": _("This session is already recorded for that day.")})


# --- In-work party members (在职党员双报到) ---------------------------------------------------


class InWorkRegistrationQuerySet(_MemberScopedQuerySet):
    member_path = "member__"

    def current(self, on: datetime.date | None = None) -> InWorkRegistrationQuerySet:
        day = on or _today()
        return self.filter(_runs_within("registered_on", "ended_on", day, day))

    def active_in(self, year: int) -> InWorkRegistrationQuerySet:
        """Registrations that ran on at least one day of the year."""
        return self.filter(_runs_within("registered_on", "ended_on", *year_bounds(year)))

    def with_hours(self, year: int) -> InWorkRegistrationQuerySet:
        """Annotate `hours_total`: the hours served on all its tasks in the year (SQL SUM)."""
        first, last = year_bounds(year)
        total = Sum("tasks__service_hours__hours", filter=Q(tasks__service_hours__served_on__range=(first, last)))
        return self.annotate(hours_total=Coalesce(total, Value(Decimal("0")), output_field=HOURS_FIELD))


HOURS_FIELD = DecimalField(max_digits=8, decimal_places=1)


class InWorkRegistration(models.Model):
    """在职党员双报到: a party member organised at their employer who registers with the community
    where they live, to serve it: they claim community tasks and serve hours, and once a year the
    community reports back to their employer's organisation (see `InWorkReport`).

    The member's membership stays with their employer's organisation: one of the community's
    resident-unit organisations, or, when it is outside the community, named in free text. Their
    PartyMember.organisation is the community organisation they report to (usually the grid
    branch where they live)."""

    member = models.ForeignKey(
        PartyMember, on_delete=models.PROTECT, related_name="in_work_registrations", verbose_name=_("party member")
    )
    employer_organisation = models.ForeignKey(
        PartyOrganisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="registered_employees",
        limit_choices_to={"kind": OrganisationKind.UNIT_ORGANISATION},
        verbose_name=_("employer's party organisation"),
    )
    employer_name = models.CharField(
        _("employer's party organisation (if not listed)"),
        max_length=200,
        blank=True,
        help_text=_("For an employer outside the community, for example 东营区人社局机关党支部."),
    )
    registered_on = models.DateField(_("registered on"), default=timezone.localdate)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = InWorkRegistrationQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("in-work member registration")
        verbose_name_plural = _("in-work member registrations")
        ordering = ["member_id", "-registered_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("registered_on")),
                name="inworkregistration_ended_after_registered",
                violation_error_message=_("The end cannot be before the registration."),
            ),
            models.CheckConstraint(
                condition=Q(employer_organisation__isnull=False) | ~Q(employer_name=""),
                name="inworkregistration_has_employer",
                violation_error_message=_("Choose the employer's party organisation or type its name."),
            ),
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(ended_on__isnull=True),
                name="inworkregistration_one_open_per_member",
                violation_error_message=_("This member is already registered; end that registration first."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} · {self.employer}"

    @property
    def employer(self) -> str:
        if self.employer_organisation_id is not None:
            return self.employer_organisation.name
        return self.employer_name

    def is_current(self, on: datetime.date | None = None) -> bool:
        day = on or _today()
        return self.registered_on <= day and (self.ended_on is None or self.ended_on >= day)

    def report_years(self, latest: int = 5) -> list[int]:
        """The years (newest first, at most `latest`) a yearly report can be made for: those
        the registration ran in, up to this year."""
        last = min(_today().year, self.ended_on.year if self.ended_on else _today().year)
        first = max(self.registered_on.year, last - latest + 1)
        return list(range(last, first - 1, -1))

    def clean(self) -> None:
        errors: dict[str, list[Any]] = {}
        self.employer_name = (self.employer_name or "").strip()
        if self.employer_organisation_id is None and not self.employer_name:
            errors.setdefault("employer_organisation", []).append(
                _("Choose the employer's party organisation or type its name.")
            )
        if (
            self.employer_organisation_id is not None
            and self.employer_organisation.kind != OrganisationKind.UNIT_ORGANISATION
        ):
            errors.setdefault("employer_organisation", []).append(_("Choose a resident-unit party organisation."))
        if self.registered_on and self.ended_on and self.ended_on < self.registered_on:
            errors.setdefault("ended_on", []).append(
                ValidationError(_("The end cannot be before the registration."), code="until_before_since")
            )
        if self.member_id is not None and self.registered_on and "ended_on" not in errors:
            others = InWorkRegistration.objects.filter(
                _runs_within("registered_on", "ended_on", self.registered_on, self.ended_on)
            )
            if others.filter(member_id=self.member_id).exclude(pk=self.pk).exists():
                errors.setdefault("registered_on", []).append(
                    _("This member has another registration for these dates.")
                )
        if errors:
            raise ValidationError(errors)


class TaskStatus(models.TextChoices):
    CLAIMED = "claimed", _("In progress")
    COMPLETED = "completed", _("Completed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ClaimedTaskQuerySet(_MemberScopedQuerySet):
    member_path = "registration__member__"

    def in_year(self, year: int) -> ClaimedTaskQuerySet:
        """The tasks of a year's report: claimed in the year, or served on in the year."""
        first, last = year_bounds(year)
        served = ServiceHours.objects.filter(task_id=OuterRef("pk"), served_on__range=(first, last))
        return self.filter(Q(claimed_on__range=(first, last)) | Exists(served))

    def with_hours(self, year: int | None = None) -> ClaimedTaskQuerySet:
        """Annotate `hours_total`: the hours served on the task (in the year, if given; SQL SUM)."""
        condition = None
        if year is not None:
            condition = Q(service_hours__served_on__range=year_bounds(year))
        total = Sum("service_hours__hours", filter=condition)
        return self.annotate(hours_total=Coalesce(total, Value(Decimal("0")), output_field=HOURS_FIELD))


class ClaimedTask(models.Model):
    """认领: a community task an in-work party member took on (tutoring at the children's
    classroom, a kiosk shift a month, a care visit ...), with the hours served on it."""

    registration = models.ForeignKey(
        InWorkRegistration, on_delete=models.PROTECT, related_name="tasks", verbose_name=_("registration")
    )
    title = models.CharField(_("task"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    claimed_on = models.DateField(_("claimed on"), default=timezone.localdate)
    status = models.CharField(_("status"), max_length=16, choices=TaskStatus.choices, default=TaskStatus.CLAIMED)
    completed_on = models.DateField(_("completed on"), null=True, blank=True)

    objects = ClaimedTaskQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("claimed task")
        verbose_name_plural = _("claimed tasks")
        ordering = ["registration_id", "claimed_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(completed_on__isnull=True) | Q(completed_on__gte=models.F("claimed_on")),
                name="claimedtask_completed_after_claimed",
                violation_error_message=_("A task cannot be completed before it was claimed."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        errors: dict[str, list[Any]] = {}
        if self.claimed_on and self.claimed_on > _today():
            errors.setdefault("claimed_on", []).append(_("The date cannot be in the future."))
        if self.registration_id is not None and self.claimed_on and self.claimed_on < self.registration.registered_on:
            errors.setdefault("claimed_on", []).append(_("A task cannot be claimed before the member registered."))
        if self.completed_on and self.claimed_on and self.completed_on < self.claimed_on:
            errors.setdefault("completed_on", []).append(_("A task cannot be completed before it was claimed."))
        if self.status == TaskStatus.CLAIMED and self.completed_on:
            errors.setdefault("completed_on", []).append(_("A task in progress has no completion date."))
        if errors:
            raise ValidationError(errors)


class ServiceHoursQuerySet(_MemberScopedQuerySet):
    member_path = "task__registration__member__"

    def in_year(self, year: int) -> ServiceHoursQuerySet:
        return self.filter(served_on__range=year_bounds(year))

    def total(self) -> Decimal:
        """The sum of the hours (one SQL aggregate)."""
        return self.aggregate(total=Coalesce(Sum("hours"), Value(Decimal("0")), output_field=HOURS_FIELD))["total"]


class ServiceHours(models.Model):
    """Hours an in-work party member served on a claimed task on one day. A trace record:
    added, never edited."""

    task = models.ForeignKey(
        ClaimedTask, on_delete=models.PROTECT, related_name="service_hours", verbose_name=_("task")
    )
    served_on = models.DateField(_("served on"))
    hours = models.DecimalField(
        _("hours"),
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("24"))],
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    objects = ServiceHoursQuerySet.as_manager()

    class Meta:
        verbose_name = _("hours served")
        verbose_name_plural = _("hours served")
        ordering = ["task_id", "served_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(hours__gt=0) & Q(hours__lte=24),
                name="servicehours_between_0_and_24",
                violation_error_message=_("Hours served in a day are more than 0 and at most 24."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task} · {self.served_on:%Y-%m-%d} · {self.hours}"

    def clean(self) -> None:
        if self.served_on is None or self.task_id is None:
            return
        if self.served_on > _today():
            raise ValidationError({"served_on": _("The date cannot be in the future.")})
        if self.served_on < self.task.claimed_on:
            raise ValidationError({"served_on": _("Hours cannot be served before the task was claimed.")})


class ReportAlreadySent(Conflict):
    """The year's report of this registration was already marked sent (the first sending stays)."""

    code = "report_already_sent"
    message = _("This year's report was already marked as sent; the first sending stays.")

    def __init__(self, report: InWorkReport) -> None:
        super().__init__()
        self.report = report

    def __str__(self) -> str:
        # Who sent it and when: the person asking can check with them instead of sending again.
        return gettext("This report was already marked sent on %(date)s by %(person)s; nothing was changed.") % {
            "date": timezone.localtime(self.report.sent_at).strftime("%Y-%m-%d"),
            "person": self.report.sent_by,
        }


class InWorkReportQuerySet(_MemberScopedQuerySet):
    member_path = "registration__member__"


class InWorkReport(models.Model):
    """The yearly report of an in-work member's service, sent back to their employer's party
    organisation: who marked it sent, and when. One per registration and year; the first
    sending stays."""

    registration = models.ForeignKey(
        InWorkRegistration, on_delete=models.PROTECT, related_name="reports", verbose_name=_("registration")
    )
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("sent by")
    )
    hours_reported = models.DecimalField(_("hours reported"), max_digits=8, decimal_places=1)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = InWorkReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("yearly report to the employer")
        verbose_name_plural = _("yearly reports to employers")
        ordering = ["registration_id", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["registration", "year"], name="inworkreport_once_per_year"),
        ]

    def __str__(self) -> str:
        return f"{self.registration} · {self.year}"
