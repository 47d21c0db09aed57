"""API of the visit ledger under /api/v1/, enough for a mobile app:

- `ledger-subjects`: the subjects in scope with their standing (due, overdue, visits this
  period), filterable; created and changed by those who keep the grid's registry, never deleted
  (a subject leaves the ledger by `left_on`).
- `visits`: list and record visits (JSON, or multipart with `photos` and `signature` files);
  no update and no delete: `visits/{id}/correct/` records a correction that replaces a visit.
- `ledger-due`: the caller's due and overdue subjects (those in their care; `?scope=all` for
  every subject they see), as My day shows them.

Reads go through LedgerSubject.objects.visible_to (visits through their subject); every relation
offered is bounded the same way (a subject of another grid is a 400 "does not exist"). Writes go
through grids.actions, like the pages.
"""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from grids import actions
from grids.access import editable_grid_ids
from grids.models import (
    SENSITIVE_KINDS,
    Grid,
    GroupMembership,
    LedgerStatus,
    LedgerSubject,
    Visit,
    VisitWay,
)
from shanglong.api import (
    NO_DELETE,
    LatitudeField,
    LongitudeField,
    ScopedFilterSet,
    ScopedModelSerializer,
    ScopedModelViewSet,
    ScopedReadOnlyViewSet,
    ScopedRelatedField,
    ScopedViewSetMixin,
    api_router,
    checked_image,
    checked_photos,
    run_model_clean,
)
from shanglong.models import User

# --- Subjects ------------------------------------------------------------------------------


class StandingFields(serializers.Serializer):
    """A subject's standing today, as LedgerSubjectQuerySet.with_status annotates it."""

    visits_this_period = serializers.IntegerField(read_only=True)
    visits_needed = serializers.IntegerField(read_only=True)
    is_due = serializers.BooleanField(read_only=True)
    is_due_today = serializers.BooleanField(read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)
    period_last_day = serializers.DateField(read_only=True)


class LedgerSubjectSerializer(StandingFields, ScopedModelSerializer):
    team = ScopedRelatedField(model=User, many=True, required=False, help_text=_("The responsible team (包保)."))

    class Meta:
        model = LedgerSubject
        fields = [
            "id",
            "kind",
            "name",
            "resident",
            "group",
            "grid",
            "team",
            "department",
            "level",
            "visits_required",
            "period",
            "face_to_face_only",
            "rule_is_custom",
            "entered_on",
            "left_on",
            "note",
            "visits_this_period",
            "visits_needed",
            "is_due",
            "is_due_today",
            "is_overdue",
            "period_last_day",
        ]
        extra_kwargs = {
            "grid": {"required": False, "help_text": _("Leave out for a group member: their grid is used.")},
            "visits_required": {"required": False},
            "period": {"required": False},
            "name": {"required": False, "help_text": _("Leave out for a group member: their name is used.")},
            "level": {
                "required": False,
                "help_text": _(
                    "On the scale of the group (an enterprise's risk colour; a person's care level, control level,"
                    " aftercare, risk grade or department's level). Leave out for a group member: their level is used."
                ),
            },
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user = self.context["request"].user
        instance = self.instance
        if instance is not None and "kind" in attrs and attrs["kind"] != instance.kind:
            raise serializers.ValidationError({"kind": [_("The kind of a subject cannot change.")]})
        current = {
            name: attrs.get(name, getattr(instance, name, None)) for name in ("kind", "resident", "group", "grid")
        }
        kind = current["kind"]
        if kind in SENSITIVE_KINDS and current["resident"] is not None:
            membership = (
                GroupMembership.objects.visible_to(user)
                .filter(resident=current["resident"], kind=current["group"] or "")
                .first()
            )
            if membership is None:
                raise serializers.ValidationError(
                    {"group": [_("This resident is not in this group, as far as you see.")]}
                )
            line = LedgerSubject(kind=kind)
            for name in ("name", "department", "level", "rule_is_custom"):
                setattr(line, name, attrs.get(name, getattr(instance, name, None)))
            line.follow_membership(membership)
            home = line.grid if line.grid_id is not None else None
            if current["grid"] is not None and home is not None and current["grid"].pk != home.pk:
                raise serializers.ValidationError({"grid": [_("A group member's line is in the grid they live in.")]})
            attrs.update(name=line.name, grid=home, department=line.department, level=line.level)
            current["grid"] = home
        if current["grid"] is None:
            raise serializers.ValidationError({"grid": [_("Choose the grid.")]})
        if not (attrs.get("name") or getattr(instance, "name", "")):
            raise serializers.ValidationError({"name": [_("Give the name.")]})
        if not Grid.objects.filter(pk=current["grid"].pk, pk__in=editable_grid_ids(user)).exists():
            raise serializers.ValidationError({"grid": [_("You do not keep the ledger of this grid.")]})
        run_model_clean(self, attrs)
        return attrs


# The API's statuses: without one, every subject (in the ledger or not) is listed.
LEDGER_API_STATUSES = (LedgerStatus.DUE, LedgerStatus.OVERDUE, LedgerStatus.LEFT)


class LedgerSubjectFilterSet(ScopedFilterSet):
    status = django_filters.ChoiceFilter(
        method="filter_status",
        choices=[(status.value, status.label) for status in LEDGER_API_STATUSES],
        label=_("Status"),
    )
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("Name contains"))

    class Meta:
        model = LedgerSubject
        fields = ["grid", "kind", "group", "level", "period"]

    def filter_status(self, queryset: models.QuerySet, name: str, value: str) -> models.QuerySet:
        return queryset.in_status(value) if value else queryset


class LedgerSubjectViewSet(ScopedModelViewSet):
    """The ledger's subjects in the caller's scope, each with its standing today. Subjects are
    kept (POST, PATCH) by community staff for their community and by grid workers for the grids
    they are on duty in; they leave the ledger by `left_on` and are never deleted."""

    scoped_model = LedgerSubject
    serializer_class = LedgerSubjectSerializer
    filterset_class = LedgerSubjectFilterSet
    select_related = ("grid",)
    prefetch_related = ("team",)
    http_method_names = NO_DELETE

    def refine_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.with_status().order_by("grid_id", "kind", "name", "pk")

    def _save(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        team = data.pop("team", None)
        subject = serializer.instance if serializer.instance is not None else LedgerSubject()
        for name, value in data.items():
            setattr(subject, name, value)
        with transaction.atomic():
            actions.save_ledger_subject(
                subject=subject,
                team=team if team is not None else (subject.team.all() if subject.pk else []),
                by=self.request.user,
            )
            self.check_written_in_scope(subject)
        serializer.instance = self.get_queryset().get(pk=subject.pk)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        self._save(serializer)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        self._save(serializer)


# --- Visits --------------------------------------------------------------------------------


class VisitSerializer(ScopedModelSerializer):
    workers = ScopedRelatedField(
        model=User, many=True, required=False, help_text=_("Who else came (the caller is added).")
    )
    raise_finding = serializers.BooleanField(
        write_only=True, required=False, default=False, help_text=_("Report the problems as a finding of the grid.")
    )
    latitude = LatitudeField()
    longitude = LongitudeField()
    photos = serializers.SerializerMethodField(help_text=_("Links to the visit's photos."))
    signature_url = serializers.SerializerMethodField()
    corrected_by = serializers.SerializerMethodField()

    class Meta:
        model = Visit
        fields = [
            "id",
            "subject",
            "workers",
            "visited_at",
            "way",
            "joint_department",
            "found",
            "help_given",
            "problems",
            "raise_finding",
            "finding",
            "latitude",
            "longitude",
            "photos",
            "signature_url",
            "corrects",
            "correction_reason",
            "corrected_by",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = ["finding", "corrects", "correction_reason", "recorded_by", "recorded_at"]
        extra_kwargs = {"visited_at": {"required": False}}

    @extend_schema_field(serializers.ListField(child=serializers.URLField()))
    def get_photos(self, visit: Visit) -> list[str]:
        return [reverse("attachment", args=[photo.pk]) for photo in visit.attachments.all()]

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_signature_url(self, visit: Visit) -> str | None:
        return reverse("attachment", args=[visit.signature_id]) if visit.signature_id else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_corrected_by(self, visit: Visit) -> int | None:
        correction = getattr(visit, "correction", None)
        return correction.pk if correction is not None else None

    def validate_visited_at(self, value: Any) -> Any:
        if value > timezone.now() + datetime.timedelta(minutes=10):
            raise serializers.ValidationError(_("A visit cannot be in the future."))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("way") == VisitWay.JOINT and not attrs.get("joint_department"):
            raise serializers.ValidationError({"joint_department": [_("Choose the department you visited with.")]})
        if attrs.get("way") != VisitWay.JOINT:
            attrs["joint_department"] = None
        if attrs.get("raise_finding") and not (attrs.get("problems") or "").strip():
            raise serializers.ValidationError({"problems": [_("Describe the problem to report it as a finding.")]})
        return attrs


class VisitCorrectionSerializer(VisitSerializer):
    class Meta(VisitSerializer.Meta):
        read_only_fields = ["subject", "finding", "corrects", "recorded_by", "recorded_at"]
        extra_kwargs = {"visited_at": {"required": False}, "correction_reason": {"required": True}}

    def validate_correction_reason(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError(_("Say why the visit is corrected."))
        return value


class VisitFilterSet(ScopedFilterSet):
    since = django_filters.IsoDateTimeFilter(field_name="visited_at", lookup_expr="gte", label=_("Visited since"))
    until = django_filters.IsoDateTimeFilter(field_name="visited_at", lookup_expr="lt", label=_("Visited before"))
    counted = django_filters.BooleanFilter(method="filter_counted", label=_("Only visits that count (not corrected)"))

    class Meta:
        model = Visit
        fields = ["subject", "way"]

    def filter_counted(self, queryset: models.QuerySet, name: str, value: bool | None) -> models.QuerySet:
        if value is None:
            return queryset
        counted = queryset.counted()
        return counted if value else queryset.exclude(pk__in=counted.values("pk"))


def _uploads(request: Request) -> dict[str, Any]:
    """The photos and the signature of a multipart request, through the visit form's checks."""
    photos = checked_photos(request.FILES.getlist("photos") if hasattr(request.FILES, "getlist") else [])
    return {"photos": photos, "signature": checked_image(request.FILES.get("signature"), field="signature")}


def _visit_values(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "way": data["way"],
        "visited_at": data.get("visited_at"),
        "workers": data.get("workers") or [],
        "joint_department": data.get("joint_department"),
        "found": data.get("found", ""),
        "help_given": data.get("help_given", ""),
        "problems": data.get("problems", ""),
        "raise_finding": bool(data.get("raise_finding")),
        "latitude": data.get("latitude"),
        "longitude": data.get("longitude"),
    }


class VisitViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Visits (走访) to the subjects in scope. POST records one (JSON, or multipart with
    `photos` and a `signature` image); visits are never changed or deleted: POST
    `visits/{id}/correct/` records a correction that replaces the visit in every count (409 when
    it was already corrected)."""

    scoped_model = Visit
    serializer_class = VisitSerializer
    filterset_class = VisitFilterSet
    select_related = ("correction",)
    prefetch_related = ("workers", "attachments")
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def refine_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.order_by("-visited_at", "-pk")

    def _record(self, **values: Any) -> Visit:
        # NotYourSubject and FindingNotAllowed (403, naming their field) rise to api_exception_handler.
        with transaction.atomic():
            visit = values.pop("action")(**values)
            self.check_written_in_scope(visit)
        return self.get_queryset().get(pk=visit.pk)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = serializer.validated_data
        serializer.instance = self._record(
            action=actions.record_visit,
            subject=data["subject"],
            by=self.request.user,
            **_visit_values(data),
            **_uploads(self.request),
        )

    @extend_schema(request=VisitCorrectionSerializer, responses={201: VisitSerializer})
    @action(detail=True, methods=["post"], serializer_class=VisitCorrectionSerializer)
    def correct(self, request: Request, pk: str | None = None) -> Response:
        """Correct a visit: the body is the visit as it should have been, with the reason."""
        visit = self.get_object()
        serializer = VisitCorrectionSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        correction = self._record(
            action=actions.correct_visit,
            visit=visit,
            by=request.user,
            correction_reason=serializer.validated_data["correction_reason"],
            **_visit_values(serializer.validated_data),
            **_uploads(request),
        )
        return Response(VisitSerializer(correction, context=self.get_serializer_context()).data, status=201)


# --- Due list ------------------------------------------------------------------------------


class DueSubjectSerializer(StandingFields, ScopedModelSerializer):
    suggested_way = serializers.CharField(read_only=True, help_text=_("The way to preselect when recording a visit."))

    class Meta:
        model = LedgerSubject
        fields = [
            "id",
            "kind",
            "name",
            "group",
            "grid",
            "level",
            "visits_required",
            "period",
            "face_to_face_only",
            "visits_this_period",
            "visits_needed",
            "is_due",
            "is_due_today",
            "is_overdue",
            "period_last_day",
            "suggested_way",
        ]
        read_only_fields = fields


@extend_schema(
    parameters=[
        OpenApiParameter(
            "scope", str, enum=["mine", "all"], description=_("mine (default): the subjects in your care.")
        )
    ]
)
class LedgerDueViewSet(ScopedReadOnlyViewSet):
    """What needs a visit: the caller's due and overdue subjects (overdue first, then those due
    today, then by the end of their period), as My day lists them. `?scope=all` lists every
    subject the caller sees that needs a visit."""

    scoped_model = LedgerSubject
    serializer_class = DueSubjectSerializer
    select_related = ("grid",)

    def refine_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        day = timezone.localdate()
        if self.request.query_params.get("scope") != "all":
            queryset = queryset.in_care_of(self.request.user, day)
        return queryset.in_status(LedgerStatus.NEEDS_VISIT, day).order_by(
            "-is_overdue", "-is_due_today", "period_last_day", "name", "pk"
        )


def register() -> None:
    api_router.register("ledger-subjects", LedgerSubjectViewSet)
    api_router.register("visits", VisitViewSet)
    api_router.register("ledger-due", LedgerDueViewSet, basename="ledger-due")
