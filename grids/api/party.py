"""API of the party-member registry under /api/v1/: party members, mobile memberships and the
organisational life they attend, in-work registrations (with the yearly report), claimed tasks
and the hours served on them.

Reads are scoped by each model's visible_to (party_member_rule, through shanglong.api's scoped
viewsets). Every relation offered is bounded to what the caller may keep: members, records and
tasks by editable_by, organisations by member_organisations_for; pointing elsewhere is a 400.
Writes are for community staff and the secretary of the member's organisation; the member
themselves and subdistrict staff read. Phones are written in full and read masked. The checks
are the models' clean(), the same as the pages'.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from grids.actions import mark_in_work_report_sent
from grids.models import (
    ClaimedTask,
    InWorkRegistration,
    InWorkReport,
    MobileDirection,
    MobileMembership,
    OrganisationalLifeAttendance,
    OrganisationKind,
    PartyMember,
    PartyOrganisation,
    ReportAlreadySent,
    Resident,
    ServiceHours,
    TaskStatus,
    member_organisations_for,
)
from shanglong.api import (
    APPEND_ONLY,
    NO_DELETE,
    MaskedPhoneField,
    ScopedFilterSet,
    ScopedModelSerializer,
    ScopedModelViewSet,
    ScopedRelatedField,
    api_router,
    as_drf_error,
    refuse_change,
    request_user,
    run_model_clean,
)
from shanglong.api_auth import refusal_api_response
from shanglong.models import User
from shanglong.validators import validate_optional_mobile

# --- Shared --------------------------------------------------------------------------------


class KeptRelatedField(ScopedRelatedField):
    """A relation to a party record the caller may keep: visible_to and editable_by."""

    def get_queryset(self) -> models.QuerySet:
        user = request_user(self)
        return self.scoped_model.objects.visible_to(user).editable_by(user)


class MemberOrganisationField(ScopedRelatedField):
    """The organisations the caller may put a member in (see member_organisations_for)."""

    def get_queryset(self) -> models.QuerySet:
        return member_organisations_for(request_user(self))


class UnitOrganisationField(ScopedRelatedField):
    """A resident-unit party organisation the caller sees (an in-work member's employer)."""

    def get_queryset(self) -> models.QuerySet:
        return PartyOrganisation.objects.visible_to(request_user(self)).filter(kind=OrganisationKind.UNIT_ORGANISATION)


def _current_year(request: Request | None) -> int:
    raw = request.query_params.get("year") if request is not None else None
    try:
        year = int(raw) if raw else timezone.localdate().year
    except ValueError:
        raise serializers.ValidationError({"year": [_("Give the year as four digits, for example 2025.")]}) from None
    if not 2000 <= year <= 2100:
        raise serializers.ValidationError({"year": [_("Give the year as four digits, for example 2025.")]})
    return year


# --- Party members -----------------------------------------------------------------------------


class PartyMemberSerializer(ScopedModelSerializer):
    organisation = MemberOrganisationField(model=PartyOrganisation)
    resident = ScopedRelatedField(model=Resident, required=False, allow_null=True)
    user = ScopedRelatedField(model=User, required=False, allow_null=True)
    phone = MaskedPhoneField(max_length=20, required=False, allow_blank=True)
    mobile_direction = serializers.ChoiceField(
        choices=MobileDirection.choices,
        read_only=True,
        allow_null=True,
        help_text=_("The direction of the member's current mobile record, if any."),
    )
    in_work = serializers.BooleanField(
        read_only=True, allow_null=True, help_text=_("Whether the member is currently registered as in-work.")
    )

    class Meta:
        model = PartyMember
        fields = [
            "id",
            "name",
            "organisation",
            "resident",
            "user",
            "status",
            "joined_on",
            "phone",
            "shows_identity",
            "left_on",
            "note",
            "mobile_direction",
            "in_work",
        ]
        extra_kwargs = {"name": {"required": False, "allow_blank": True}}
        validators: list[Any] = []

    def validate_phone(self, value: str) -> str:
        return validate_optional_mobile(value)  # DRF turns Django's ValidationError into a 400

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        resident = attrs.get("resident", getattr(self.instance, "resident", None))
        user = attrs.get("user", getattr(self.instance, "user", None))
        if resident is None and user is None:
            raise serializers.ValidationError(
                {"resident": [_("Link the party member to a resident, a portal account, or both.")]}
            )
        name = (attrs.get("name", getattr(self.instance, "name", "")) or "").strip()
        if not name:
            attrs["name"] = resident.name if resident is not None else user.display_name
        run_model_clean(self, attrs)
        return attrs


class PartyMemberFilterSet(ScopedFilterSet):
    mobile = django_filters.ChoiceFilter(
        choices=MobileDirection.choices, method="filter_mobile", label=_("Current mobile direction")
    )
    search = django_filters.CharFilter(method="filter_search", label=_("Name or last digits of the mobile"))
    current = django_filters.BooleanFilter(method="filter_current", label=_("Not left the organisation"))

    class Meta:
        model = PartyMember
        fields = ["organisation", "status", "shows_identity"]

    def filter_mobile(self, queryset: models.QuerySet, name: str, value: str) -> models.QuerySet:
        return queryset.mobile(value) if value else queryset

    def filter_search(self, queryset: models.QuerySet, name: str, value: str) -> models.QuerySet:
        return queryset.search(value)

    def filter_current(self, queryset: models.QuerySet, name: str, value: bool | None) -> models.QuerySet:
        if value is None:
            return queryset
        return queryset.current() if value else queryset.former()


class PartyMemberViewSet(ScopedModelViewSet):
    """Party members (党员). The person is a resident, a portal account, or both; the name may be
    left out to take theirs. Members end by `left_on`, they are not deleted."""

    scoped_model = PartyMember
    serializer_class = PartyMemberSerializer
    filterset_class = PartyMemberFilterSet
    select_related = ("organisation",)
    http_method_names = NO_DELETE

    def refine_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.with_situation().order_by("organisation_id", "name", "pk")


# --- Mobile party members ----------------------------------------------------------------------


class AttendanceSerializer(ScopedModelSerializer):
    mobile_membership = KeptRelatedField(model=MobileMembership)
    recorded_by = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = OrganisationalLifeAttendance
        fields = ["id", "mobile_membership", "date", "kind", "way", "held_by", "note", "recorded_by", "recorded_at"]
        read_only_fields = ["recorded_at"]
        validators: list[Any] = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        run_model_clean(self, attrs)
        return attrs


class AttendanceListSerializer(serializers.ModelSerializer):
    """An attendance inside its mobile record (read only)."""

    class Meta:
        model = OrganisationalLifeAttendance
        fields = ["id", "date", "kind", "way", "held_by", "note"]
        read_only_fields = fields


class MobileMembershipSerializer(ScopedModelSerializer):
    member = KeptRelatedField(model=PartyMember)
    attendances = AttendanceListSerializer(many=True, read_only=True)

    class Meta:
        model = MobileMembership
        fields = [
            "id",
            "member",
            "direction",
            "place",
            "since",
            "until",
            "contact_method",
            "contact_detail",
            "membership_kept_at",
            "note",
            "attendances",
        ]
        validators: list[Any] = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        refuse_change(self, attrs, "member", _("A mobile record cannot move to another member."))
        run_model_clean(self, attrs)
        return attrs


class MobileMembershipFilterSet(ScopedFilterSet):
    current = django_filters.BooleanFilter(method="filter_current", label=_("Running today"))

    class Meta:
        model = MobileMembership
        fields = ["member", "direction"]

    def filter_current(self, queryset: models.QuerySet, name: str, value: bool | None) -> models.QuerySet:
        if value is None:
            return queryset
        current = queryset.current()
        return current if value else queryset.exclude(pk__in=current.values("pk"))


class MobileMembershipViewSet(ScopedModelViewSet):
    """Mobile party members' records (流动党员: outflow or inflow), with the organisational life
    attended. A record ends by `until` (its last day); it is not deleted."""

    scoped_model = MobileMembership
    serializer_class = MobileMembershipSerializer
    filterset_class = MobileMembershipFilterSet
    select_related = ("member__organisation",)
    prefetch_related = (
        Prefetch("attendances", queryset=OrganisationalLifeAttendance.objects.order_by("-date", "-pk")),
    )
    http_method_names = NO_DELETE

    def refine_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.order_by("member_id", "-since", "pk")


class AttendanceFilterSet(ScopedFilterSet):
    class Meta:
        model = OrganisationalLifeAttendance
        fields = ["mobile_membership", "kind", "way"]


class OrganisationalLifeViewSet(ScopedModelViewSet):
    """Organisational life (三会一课 ...) attended by mobile party members. Trace records: listed
    and added, never changed."""

    scoped_model = OrganisationalLifeAttendance
    serializer_class = AttendanceSerializer
    filterset_class = AttendanceFilterSet
    select_related = ("mobile_membership__member__organisation",)
    http_method_names = APPEND_ONLY

    def save_kwargs(self, *, creating: bool) -> dict[str, Any]:
        return {"recorded_by": self.request.user} if creating else {}

    def refine_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.order_by("mobile_membership_id", "-date", "-pk")


# --- In-work party members ---------------------------------------------------------------------


class InWorkRegistrationSerializer(ScopedModelSerializer):
    member = KeptRelatedField(model=PartyMember)
    employer_organisation = UnitOrganisationField(model=PartyOrganisation, required=False, allow_null=True)
    employer = serializers.CharField(read_only=True)
    hours_total = serializers.DecimalField(
        max_digits=8,
        decimal_places=1,
        read_only=True,
        allow_null=True,
        help_text=_("Hours served in the year of ?year= (this year by default)."),
    )

    class Meta:
        model = InWorkRegistration
        fields = [
            "id",
            "member",
            "employer_organisation",
            "employer_name",
            "employer",
            "registered_on",
            "ended_on",
            "note",
            "hours_total",
        ]
        validators: list[Any] = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        refuse_change(self, attrs, "member", _("A registration cannot move to another member."))
        member = attrs.get("member", getattr(self.instance, "member", None))
        employer = attrs.get("employer_organisation", getattr(self.instance, "employer_organisation", None))
        if member is not None and employer is not None and employer.community_id != member.organisation.community_id:
            raise serializers.ValidationError(
                {"employer_organisation": [_("Choose a unit organisation of the member's community.")]}
            )
        run_model_clean(self, attrs)
        return attrs


class InWorkRegistrationFilterSet(ScopedFilterSet):
    current = django_filters.BooleanFilter(method="filter_current", label=_("Registered today"))

    class Meta:
        model = InWorkRegistration
        fields = ["member", "employer_organisation"]

    def filter_current(self, queryset: models.QuerySet, name: str, value: bool | None) -> models.QuerySet:
        if value is None:
            return queryset
        current = queryset.current()
        return current if value else queryset.exclude(pk__in=current.values("pk"))


class ReportTaskSerializer(serializers.ModelSerializer):
    hours_total = serializers.DecimalField(max_digits=8, decimal_places=1, read_only=True)

    class Meta:
        model = ClaimedTask
        fields = ["id", "title", "claimed_on", "status", "completed_on", "hours_total"]
        read_only_fields = fields


class InWorkReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = InWorkReport
        fields = ["id", "year", "sent_at", "sent_by", "hours_reported", "note"]
        read_only_fields = fields


class YearlyReportSerializer(serializers.Serializer):
    """The year's report of one registration: the tasks, the hours (SQL SUM), whether sent."""

    year = serializers.IntegerField()
    hours_total = serializers.DecimalField(max_digits=8, decimal_places=1)
    tasks = ReportTaskSerializer(many=True)
    sent = InWorkReportSerializer(allow_null=True)


class MarkSentSerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class InWorkRegistrationViewSet(ScopedModelViewSet):
    """In-work party members registered with the community (双报到), with the hours served in
    a year (?year=, this year by default). `report` gives a year's report; `mark-report-sent`
    records that it was sent to the employer's organisation (once per year)."""

    scoped_model = InWorkRegistration
    serializer_class = InWorkRegistrationSerializer
    filterset_class = InWorkRegistrationFilterSet
    select_related = ("member__organisation", "employer_organisation")
    http_method_names = NO_DELETE

    def refine_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.with_hours(_current_year(self.request)).order_by("member_id", "-registered_on", "pk")

    @extend_schema(
        parameters=[OpenApiParameter("year", int, description=str(_("The year (this year by default).")))],
        responses=YearlyReportSerializer,
    )
    @action(detail=True, methods=["get"])
    def report(self, request: Request, pk: str | None = None) -> Response:
        registration = self.get_object()
        year = _current_year(request)
        tasks = ClaimedTask.objects.visible_to(request.user).filter(registration=registration)
        tasks = tasks.in_year(year).with_hours(year).order_by("claimed_on", "pk")
        total = ServiceHours.objects.visible_to(request.user).filter(task__registration=registration)
        data = {
            "year": year,
            "hours_total": total.in_year(year).total(),
            "tasks": tasks,
            "sent": InWorkReport.objects.filter(registration=registration, year=year).first(),
        }
        return Response(YearlyReportSerializer(data).data)

    @extend_schema(
        request=MarkSentSerializer,
        responses={
            201: InWorkReportSerializer,
            409: inline_serializer(
                "ReportAlreadySent",
                {"detail": serializers.CharField(), "code": serializers.CharField(), "sent": InWorkReportSerializer()},
            ),
        },
    )
    @action(detail=True, methods=["post"], url_path="mark-report-sent")
    def mark_report_sent(self, request: Request, pk: str | None = None) -> Response:
        registration = self.get_object()
        if not self.can_write(request, registration):
            self.permission_denied(request)
        form = MarkSentSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            report = mark_in_work_report_sent(
                registration=registration,
                year=form.validated_data["year"],
                by=request.user,
                note=form.validated_data["note"],
            )
        except ReportAlreadySent as already:
            # The refusal as every other, with the report that stays, so an app can show it.
            answer = refusal_api_response(already)
            answer.data["sent"] = InWorkReportSerializer(already.report).data
            return answer
        except DjangoValidationError as error:
            raise as_drf_error(error) from error
        return Response(InWorkReportSerializer(report).data, status=status.HTTP_201_CREATED)


class ServiceHoursListSerializer(serializers.ModelSerializer):
    """Hours inside their task (read only)."""

    class Meta:
        model = ServiceHours
        fields = ["id", "served_on", "hours", "note"]
        read_only_fields = fields


class ClaimedTaskSerializer(ScopedModelSerializer):
    registration = KeptRelatedField(model=InWorkRegistration)
    hours_total = serializers.DecimalField(
        max_digits=8, decimal_places=1, read_only=True, allow_null=True, help_text=_("All hours served on the task.")
    )
    service_hours = ServiceHoursListSerializer(many=True, read_only=True)

    class Meta:
        model = ClaimedTask
        fields = [
            "id",
            "registration",
            "title",
            "description",
            "claimed_on",
            "status",
            "completed_on",
            "hours_total",
            "service_hours",
        ]
        validators: list[Any] = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        refuse_change(self, attrs, "registration", _("A task cannot move to another registration."))
        status_ = attrs.get("status", getattr(self.instance, "status", None))
        completed_on = attrs.get("completed_on", getattr(self.instance, "completed_on", None))
        if status_ == TaskStatus.COMPLETED and completed_on is None:
            attrs["completed_on"] = timezone.localdate()
        run_model_clean(self, attrs)
        return attrs


class ClaimedTaskFilterSet(ScopedFilterSet):
    class Meta:
        model = ClaimedTask
        fields = ["registration", "status"]


class ClaimedTaskViewSet(ScopedModelViewSet):
    """Community tasks claimed by in-work party members (认领), with the hours served on each
    (`hours_total` summed in SQL). Tasks end by status (completed, withdrawn)."""

    scoped_model = ClaimedTask
    serializer_class = ClaimedTaskSerializer
    filterset_class = ClaimedTaskFilterSet
    select_related = ("registration__member__organisation",)
    prefetch_related = (Prefetch("service_hours", queryset=ServiceHours.objects.order_by("served_on", "pk")),)
    http_method_names = NO_DELETE

    def refine_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.with_hours().order_by("registration_id", "claimed_on", "pk")


class ServiceHoursSerializer(ScopedModelSerializer):
    task = KeptRelatedField(model=ClaimedTask)
    recorded_by = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = ServiceHours
        fields = ["id", "task", "served_on", "hours", "note", "recorded_by", "recorded_at"]
        read_only_fields = ["recorded_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        run_model_clean(self, attrs)
        return attrs


class ServiceHoursFilterSet(ScopedFilterSet):
    year = django_filters.NumberFilter(method="filter_year", label=_("Year served"), min_value=2000, max_value=2100)

    class Meta:
        model = ServiceHours
        fields = ["task"]

    def filter_year(self, queryset: models.QuerySet, name: str, value: Any) -> models.QuerySet:
        return queryset.in_year(int(value)) if value else queryset


class ServiceHoursViewSet(ScopedModelViewSet):
    """Hours served on claimed tasks. Trace records: listed and added, never changed."""

    scoped_model = ServiceHours
    serializer_class = ServiceHoursSerializer
    filterset_class = ServiceHoursFilterSet
    select_related = ("task__registration__member__organisation",)
    http_method_names = APPEND_ONLY

    def save_kwargs(self, *, creating: bool) -> dict[str, Any]:
        return {"recorded_by": self.request.user} if creating else {}

    def refine_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.order_by("task_id", "served_on", "pk")


def register() -> None:
    api_router.register("party-members", PartyMemberViewSet)
    api_router.register("mobile-memberships", MobileMembershipViewSet)
    api_router.register("organisational-life", OrganisationalLifeViewSet)
    api_router.register("in-work-registrations", InWorkRegistrationViewSet)
    api_router.register("claimed-tasks", ClaimedTaskViewSet)
    api_router.register("service-hours", ServiceHoursViewSet)
