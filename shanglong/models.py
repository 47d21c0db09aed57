"""The core's records: the tenant roots, people, the access log, attachments, notifications.

The core imports no app. Links from people to app objects (a grid assignment, a merchant's
account, a volunteer profile) live in the apps and point at the User.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import secrets
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from shanglong import roles
from shanglong.constraints import UniqueConstraint
from shanglong.roles import Role, Viewer  # Role re-exported: its home is shanglong.roles

# --- Tenancy -------------------------------------------------------------------------------

# 统计用区划代码: the National Bureau of Statistics' 12-digit code of a subdistrict or community
# (province 2, city 2, county 2, township 3, village-level 3 digits), e.g. 370502003000.
validate_area_code = RegexValidator(
    r"^[0-9]{12}\Z", _("Enter the 12-digit statistical area code (digits only)."), code="invalid_area_code"
)


def area_code_field() -> models.CharField:
    """The optional official statistical area code, beside the portal's own slug `code`; NULL
    while unknown (so rows without one never collide)."""
    return models.CharField(
        _("statistical area code"),
        max_length=12,
        null=True,
        blank=True,
        validators=[validate_area_code],
        help_text=_("The official 12-digit statistical area code, for example 370502003000."),
    )


class SubdistrictQuerySet(models.QuerySet):
    def visible_to(self, user: Viewer) -> SubdistrictQuerySet:
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        subdistrict_id = roles.subdistrict_id_of(user)
        if subdistrict_id is None or not roles.works_for_community(user):
            return self.none()
        return self.filter(pk=subdistrict_id)


class Subdistrict(models.Model):
    """街道: an administrative level above communities; its staff oversee all of them."""

    name = models.CharField(_("name"), max_length=100)
    district = models.CharField(_("district"), max_length=100)
    code = models.CharField(_("code"), max_length=32, unique=True)
    area_code = area_code_field()

    objects = SubdistrictQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("subdistrict")
        verbose_name_plural = _("subdistricts")
        ordering = ["code"]
        constraints = [
            UniqueConstraint(
                fields=["area_code"],
                name="subdistrict_unique_area_code",
                error_field="area_code",
                violation_error_message=_("Another subdistrict already has the area code %(area_code)s."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CommunityQuerySet(models.QuerySet):
    def visible_to(self, user: Viewer) -> CommunityQuerySet:
        """Subdistrict staff see their subdistrict's communities; everyone else who works for
        a community sees their own. Merchants and volunteers see their own community's name
        through their own records, not through this list."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        if roles.is_subdistrict_staff(user):
            return self.filter(subdistrict_id=user.subdistrict_id)
        if roles.works_for_community(user) and user.community_id:
            return self.filter(pk=user.community_id)
        return self.none()


class Community(models.Model):
    """社区: the tenant root. Every top-level record belongs to one, directly or through a grid."""

    subdistrict = models.ForeignKey(
        Subdistrict, on_delete=models.PROTECT, related_name="communities", verbose_name=_("subdistrict")
    )
    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("code"), max_length=32, unique=True)
    area_km2 = models.DecimalField(_("area (km²)"), max_digits=8, decimal_places=3, null=True, blank=True)
    boundary = models.JSONField(_("boundary (GeoJSON, WGS84)"), null=True, blank=True)
    center_latitude = models.DecimalField(_("centre latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    center_longitude = models.DecimalField(_("centre longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    facts = models.JSONField(_("facts and figures"), default=dict, blank=True)
    area_code = area_code_field()

    objects = CommunityQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        ordering = ["code"]
        constraints = [
            UniqueConstraint(
                fields=["area_code"],
                name="community_unique_area_code",
                error_field="area_code",
                violation_error_message=_("Another community already has the area code %(area_code)s."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DepartmentLevel(models.TextChoices):
    COMMUNITY = "community", _("Community")
    SUBDISTRICT = "subdistrict", _("Subdistrict")
    DISTRICT = "district", _("District")


DEPARTMENT_NAME_TAKEN = _("There is already a department of this name at this place.")


class DepartmentQuerySet(models.QuerySet):
    def visible_to(self, user: Viewer) -> DepartmentQuerySet:
        """Departments are a shared directory: everyone working in a subdistrict sees the
        departments of its communities, of the subdistrict itself and of the district."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        subdistrict_id = roles.subdistrict_id_of(user)
        if subdistrict_id is None or not roles.works_for_community(user):
            return self.none()
        return self.filter(
            Q(level=DepartmentLevel.DISTRICT)
            | Q(subdistrict_id=subdistrict_id)
            | Q(community__subdistrict_id=subdistrict_id)
        )

    def editable_by(self, user: Viewer) -> DepartmentQuerySet:
        """The departments a person keeps: community staff their own community's (the
        subdistrict's and the district's are kept above them), a superuser all."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        if roles.is_community_staff(user) and user.community_id:
            return self.filter(community_id=user.community_id)
        return self.none()

    def writable_by(self, user: Viewer) -> bool:
        """Whether a person keeps departments at all (the API's create check)."""
        if not user.is_authenticated:
            return False
        return user.is_superuser or bool(roles.is_community_staff(user) and user.community_id)


class Department(models.Model):
    """职能部门: a functional department (司法所, 派出所, 执法中队, 民政 ...) that takes cases,
    requests and ledger subjects."""

    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=16, choices=DepartmentLevel.choices)
    subdistrict = models.ForeignKey(
        Subdistrict,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="departments",
        verbose_name=_("subdistrict"),
    )
    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="departments",
        verbose_name=_("community"),
    )
    contact = models.CharField(_("contact person"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)

    objects = DepartmentQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["level", "name"]
        constraints = [
            # One name per owner. NULLs are distinct in a plain unique constraint, so each kind of
            # owner (community, subdistrict, the district itself) gets its own conditional one.
            UniqueConstraint(
                fields=["name", "community"],
                condition=Q(community__isnull=False),
                name="department_unique_in_community",
                error_field="name",
                violation_error_message=DEPARTMENT_NAME_TAKEN,
            ),
            UniqueConstraint(
                fields=["name", "subdistrict"],
                condition=Q(community__isnull=True, subdistrict__isnull=False),
                name="department_unique_in_subdistrict",
                error_field="name",
                violation_error_message=DEPARTMENT_NAME_TAKEN,
            ),
            UniqueConstraint(
                fields=["name"],
                condition=Q(community__isnull=True, subdistrict__isnull=True),
                name="department_unique_in_district",
                error_field="name",
                violation_error_message=DEPARTMENT_NAME_TAKEN,
            ),
        ]

    def __str__(self) -> str:
        return self.name


# --- People --------------------------------------------------------------------------------


class PortalUserManager(UserManager["User"]):
    def get_queryset(self) -> UserQuerySet:
        return UserQuerySet(self.model, using=self._db)

    def visible_to(self, user: Viewer) -> UserQuerySet:
        return self.get_queryset().visible_to(user)


class UserQuerySet(models.QuerySet):
    def visible_to(self, user: Viewer) -> UserQuerySet:
        """Who appears in people pickers: the viewer's own community's people (or the whole
        subdistrict's, for subdistrict staff). Merchants, volunteers and outsiders see only
        themselves."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        if roles.is_subdistrict_staff(user):
            return self.filter(Q(subdistrict_id=user.subdistrict_id) | Q(community__subdistrict_id=user.subdistrict_id))
        if roles.works_for_community(user) and user.community_id:
            return self.filter(community_id=user.community_id)
        return self.filter(pk=user.pk)


class User(AbstractUser):
    """A person who logs in. The role picks the start page; the community or subdistrict
    bounds what they may see; the department is set for department liaisons."""

    role = models.CharField(_("role"), max_length=32, choices=Role.choices, default=Role.STAFF)
    full_name = models.CharField(_("full name"), max_length=100, blank=True)
    mobile = models.CharField(_("mobile"), max_length=20, blank=True)
    subdistrict = models.ForeignKey(
        Subdistrict,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("subdistrict"),
    )
    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("community"),
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("department"),
    )

    objects: ClassVar[PortalUserManager] = PortalUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.get_full_name() or self.username


# --- Access log ----------------------------------------------------------------------------


class AccessAction(models.TextChoices):
    LOGIN = "login", _("Login")
    LOGIN_FAILED = "login_failed", _("Failed login")
    LOGIN_BLOCKED = "login_blocked", _("Login refused (too many failures)")
    LOGOUT = "logout", _("Logout")
    PASSWORD_CHANGE = "password_change", _("Password change")
    REVEAL = "reveal", _("Reveal of masked data")
    EXPORT = "export", _("Export")
    EXPORT_UNMASKED = "export_unmasked", _("Unmasked export")
    FILE_DOWNLOAD = "file_download", _("File download")
    TOKEN_CREATED = "token_created", _("API token created")
    TOKEN_REVOKED = "token_revoked", _("API token revoked")


# What the audit administrator reviews: reveals and exports of people's data, and the logins.
AUDITED_ACTIONS = {
    "reveals": (AccessAction.REVEAL,),
    "exports": (AccessAction.EXPORT, AccessAction.EXPORT_UNMASKED),
    "logins": (AccessAction.LOGIN, AccessAction.LOGIN_FAILED, AccessAction.LOGIN_BLOCKED),
}


class RevealReason(models.TextChoices):
    """Why a person reveals a masked identity number or mobile; kept with the reveal's
    access-log row (its detail: `{"reason": code, "text": words}`)."""

    HOME_VISIT = "home_visit", _("Checking on a home visit")
    SERVICE = "service", _("Handling a service matter")
    EMERGENCY = "emergency", _("Emergency contact")
    DEPARTMENT_REQUEST = "department_request", _("Assisting a department's inquiry")
    OTHER = "other", _("Other (say why)")


def reveal_detail(*, reason: str, text: str) -> str:
    """The detail of a reveal's access-log row: the reason code and the person's words."""
    return json.dumps({"reason": reason, "text": text}, ensure_ascii=False)


class AppendOnlyError(RuntimeError):
    """A trace (the access log, visits, follow-ups) cannot be edited or deleted from the application."""


class AppendOnlyQuerySet(models.QuerySet):
    """The queryset of a trace: rows are added, never updated or deleted in bulk. A subclass
    names its error (a subclass of AppendOnlyError) and the message that says what to do."""

    append_only_error: type[AppendOnlyError] = AppendOnlyError
    append_only_message = "These records are append-only."

    def update(self, **kwargs: Any) -> int:
        raise self.append_only_error(self.append_only_message)

    def delete(self) -> tuple[int, dict[str, int]]:
        raise self.append_only_error(self.append_only_message)


class AppendOnlyModel(models.Model):
    """A row of a trace: saved once, never changed or deleted (see AppendOnlyQuerySet)."""

    append_only_error: type[AppendOnlyError] = AppendOnlyError
    append_only_message = "These records are append-only."

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise self.append_only_error(self.append_only_message)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise self.append_only_error(self.append_only_message)


ACCESS_LOG_APPEND_ONLY = "The access log is append-only; old rows leave only by purge_expired()."


class AccessLogQuerySet(AppendOnlyQuerySet):
    append_only_message = ACCESS_LOG_APPEND_ONLY

    def purge_expired(self, *, now: datetime.datetime | None = None) -> int:
        """Remove rows older than the retention period (never less than 180 days)."""
        days = max(180, settings.ACCESS_LOG_RETENTION_DAYS)
        cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
        expired = AccessLog.objects.filter(at__lt=cutoff)
        return expired._raw_delete(expired.db)

    def failed_logins_since(self, since: datetime.datetime, *, username: str, ip: str | None) -> int:
        who = Q(username__iexact=username)
        if ip:
            who |= Q(ip=ip)
        return self.filter(action=AccessAction.LOGIN_FAILED, at__gte=since).filter(who).count()

    def visible_to(self, user: Viewer) -> AccessLogQuerySet:
        """The rows an audit administrator reviews: those of the people of their own community
        (a login that names no known account belongs to nobody's community). Nobody else reads
        the log in the portal but the break-glass superuser, who reads it all (as in the Django
        admin)."""
        if getattr(user, "is_superuser", False):
            return self
        community_id = getattr(user, "community_id", None)
        if not roles.is_audit_admin(user) or not community_id:
            return self.none()
        return self.filter(user__community_id=community_id)


class AccessLog(AppendOnlyModel):
    """Who did what sensitive thing, when, from where: logins, failed logins, reveals of
    masked data, exports. Append-only; kept at least 180 days."""

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,  # trace protects who it names: accounts end by is_active
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    username = models.CharField(_("username"), max_length=150, blank=True, db_index=True)
    action = models.CharField(_("action"), max_length=32, choices=AccessAction.choices)
    target = models.CharField(_("what"), max_length=255, blank=True)
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=255, blank=True)
    detail = models.TextField(_("detail"), blank=True)

    objects = AccessLogQuerySet.as_manager()
    append_only_message = ACCESS_LOG_APPEND_ONLY

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-at"]
        indexes = [models.Index(fields=["action", "at"], name="accesslog_action_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action}"

    @property
    def reveal_reason(self) -> tuple[str, str] | None:
        """(reason label, the person's words) of a reveal whose detail records them."""
        if self.action != AccessAction.REVEAL or not self.detail.startswith("{"):
            return None
        try:
            recorded = json.loads(self.detail)
        except ValueError:
            return None
        code = str(recorded.get("reason", ""))
        label = RevealReason(code).label if code in RevealReason.values else code
        return str(label), str(recorded.get("text", ""))


# --- Attachments ---------------------------------------------------------------------------


class AttachmentQuerySet(models.QuerySet):
    def for_record(self, record: models.Model) -> AttachmentQuerySet:
        return self.filter(
            content_type=ContentType.objects.get_for_model(record, for_concrete_model=False),
            object_id=record.pk,
        )


class Attachment(models.Model):
    """A stored file (photo, scan, document) that belongs to one record. It is served only
    through a view that checks the viewer may see that record (its model's visible_to)."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    file = models.FileField(_("file"), upload_to="attachments/%Y/%m/", max_length=255)
    original_name = models.CharField(_("original name"), max_length=255)
    content_type_header = models.CharField(_("file type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        indexes = [models.Index(fields=["content_type", "object_id"], name="attachment_record")]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_image(self) -> bool:
        return self.content_type_header.startswith("image/")


# --- Timelines ----------------------------------------------------------------------------


class TimelineEntry(AppendOnlyModel):
    """One step of a record's workflow (shanglong.workflow): who took which action when, the
    status it found the record in and the one it left it in, the note they wrote, and any
    files they attached (Attachment rows of the step). Append-only: a correction is another
    step.

    Each workflow has a concrete subclass with a PROTECT foreign key to its record (a finding's
    FindingFollowUp), so a record's timeline is a plain indexed relation and the trace protects
    what it points at. `status` is the status afterwards: the name the first timeline, the
    finding's follow-ups, has always had. The Workflow sets `workflow` on its subclass, which
    gives the labels of the codes stored here."""

    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(_("at"), default=timezone.now)
    action = models.CharField(_("action"), max_length=32)
    from_status = models.CharField(_("status before"), max_length=32)
    status = models.CharField(_("status afterwards"), max_length=32)
    note = models.TextField(_("note"), blank=True)

    attachments = GenericRelation(Attachment, content_type_field="content_type", object_id_field="object_id")

    workflow: Any = None  # the shanglong.workflow.Workflow whose steps these are

    class Meta:
        abstract = True

    def action_label(self) -> str:
        return self.workflow.action_label(self.action) if self.workflow else self.action

    def from_status_label(self) -> str:
        return self.workflow.status_label(self.from_status) if self.workflow else self.from_status

    def status_label(self) -> str:
        return self.workflow.status_label(self.status) if self.workflow else self.status


# --- Notifications -------------------------------------------------------------------------


class NotificationQuerySet(models.QuerySet):
    def visible_to(self, user: Viewer) -> NotificationQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(recipient=user)

    def editable_by(self, user: Viewer) -> NotificationQuerySet:
        """A person marks their own messages read: their inbox is theirs to write."""
        return self.visible_to(user)

    def writable_by(self, user: Viewer) -> bool:
        return user.is_authenticated

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)

    def undelivered(self) -> NotificationQuerySet:
        return self.filter(delivered_at__isnull=True)


class Notification(models.Model):
    """One message to one person, shown in their inbox and sent through the channels.

    The dedupe key is unique per recipient, so a sweep may insert in bulk while ignoring
    conflicts and never tells anyone the same thing twice."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    kind = models.CharField(_("kind"), max_length=64)
    dedupe_key = models.CharField(_("dedupe key"), max_length=200)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    delivery_report = models.CharField(_("delivery report"), max_length=255, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "dedupe_key"], name="notification_dedupe_per_recipient"),
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_inbox"),
            models.Index(fields=["delivered_at"], name="notification_outbox"),
        ]

    def __str__(self) -> str:
        return self.title


# --- Scheduler heartbeat -------------------------------------------------------------------


class Heartbeat(models.Model):
    """The last time a periodic job ran, so /healthz can tell whether beat is ticking."""

    name = models.CharField(max_length=64, primary_key=True)
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.name} {self.at:%Y-%m-%d %H:%M:%S}"


# --- Working-day calendar ------------------------------------------------------------------


class CalendarDayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Public holiday")
    MAKEUP_WORKDAY = "makeup_workday", _("Make-up working day")


class CalendarDay(models.Model):
    """A day that breaks the Monday-to-Friday rule: a public holiday on a weekday, or a
    weekend day that is worked (调休). Time limits in working days are counted on these."""

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=CalendarDayKind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("working-day calendar")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()}"


# --- API tokens ----------------------------------------------------------------------------


API_TOKEN_DEFAULT_DAYS = 90
API_TOKEN_MAX_DAYS = 365


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def visible_to(self, user: Viewer) -> ApiTokenQuerySet:
        """A person sees and revokes their own tokens only (administrators use the admin)."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(user=user)

    def editable_by(self, user: Viewer) -> ApiTokenQuerySet:
        """A person creates and revokes their own tokens."""
        return self.visible_to(user)

    def writable_by(self, user: Viewer) -> bool:
        return user.is_authenticated

    def active(self, *, now: datetime.datetime | None = None) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())

    def issue(self, *, user: User, name: str, days: int = API_TOKEN_DEFAULT_DAYS) -> tuple[ApiToken, str]:
        """Create a token and return it with its full key `<prefix>.<secret>`: the only moment
        the key exists in clear. Only the SHA-256 of the secret is stored."""
        if not 1 <= days <= API_TOKEN_MAX_DAYS:
            raise ValueError(f"An API token lives 1 to {API_TOKEN_MAX_DAYS} days, not {days}.")
        secret = secrets.token_urlsafe(32)
        now = timezone.now()
        while True:
            prefix = secrets.token_hex(6)
            if not self.filter(prefix=prefix).exists():
                break
        token = self.create(
            user=user,
            name=name,
            prefix=prefix,
            key_hash=hashlib.sha256(secret.encode()).hexdigest(),
            created_at=now,
            expires_at=now + datetime.timedelta(days=days),
        )
        return token, f"{prefix}.{secret}"


class ApiToken(models.Model):
    """A key an app (a phone app, a script of the district's data office) uses to call the API
    for one person. It expires (90 days by default, at most a year) and can be revoked; the
    secret is shown once and never stored, only its SHA-256."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, unique=True)
    key_hash = models.CharField(_("key hash (SHA-256)"), max_length=64)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()
    # The full key of a token just issued, for the one answer that shows it; never stored.
    key: str

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    def secret_matches(self, secret: str) -> bool:
        """Constant-time comparison of the presented secret's hash with the stored one."""
        return hmac.compare_digest(self.key_hash, hashlib.sha256(secret.encode()).hexdigest())

    def revoke(self) -> bool:
        """Revoke the token; False when it was already revoked (the first revocation stays)."""
        now = timezone.now()
        changed = ApiToken.objects.filter(pk=self.pk, revoked_at__isnull=True).update(revoked_at=now)
        if changed:
            self.revoked_at = now
        return bool(changed)


class FormSubmissionQuerySet(models.QuerySet["FormSubmission"]):
    def sent(self, *, user: User, form: str, token: str) -> FormSubmission | None:
        """The earlier sending of this create form with this token by this person, if any."""
        return self.filter(user=user, form=form, token=token).first()

    def purge_expired(self, *, now: datetime.datetime | None = None) -> int:
        """Forget the sendings older than FORM_TOKEN_DAYS: a form kept open that long is shown
        again before it is sent. One DELETE over the index on created_at."""
        cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.FORM_TOKEN_DAYS)
        return FormSubmission.objects.filter(created_at__lt=cutoff).delete()[0]


class FormSubmission(models.Model):
    """A create form that was sent and made a record: the form's one-time token, who sent it,
    what it made and the page that shows it. Sending the same form again (Back, then Save)
    finds this row and shows that page instead of making a second record
    (shanglong.form_tokens.creates_once)."""

    token = models.CharField(_("form token"), max_length=64)
    form = models.CharField(_("form"), max_length=200)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    model_label = models.CharField(_("record type"), max_length=100, blank=True)
    object_id = models.CharField(_("record"), max_length=64, blank=True)
    url = models.CharField(_("shown at"), max_length=500)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    objects = FormSubmissionQuerySet.as_manager()

    class Meta:
        verbose_name = _("sent form")
        verbose_name_plural = _("sent forms")
        constraints = [
            models.UniqueConstraint(fields=["user", "form", "token"], name="formsubmission_unique_token"),
        ]

    def __str__(self) -> str:
        return f"{self.form} → {self.model_label}:{self.object_id}"
