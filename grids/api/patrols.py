"""API of the patrol work under /api/v1/, enough for a mobile app: checklists and their items,
patrols (start, mark an item, end) and their results, findings (record, add photos, follow up).

Reads are scoped by each model's visible_to through its grid; every relation offered is bounded
the same way. Writes go through grids.actions, like the pages: checklists are kept by their
branch secretary and community staff; patrols and findings are for the people who may patrol
the grid (the models' editable_by and writable_by, from grids.access). A write the state refuses (ending an
ended patrol, following up a closed finding, a finding changed meanwhile) is a 409 with a
message; nothing is changed.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db import models, transaction
from django.db.models import Prefetch
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from grids import actions
from grids.models import (
    MAX_FINDING_PHOTOS,
    Checklist,
    ChecklistItem,
    Compound,
    Finding,
    FindingFollowUp,
    Outcome,
    Patrol,
    PatrolResult,
    SiteType,
    checklist_templates,
)
from shanglong.api import (
    APPEND_ONLY,
    NO_DELETE,
    LatitudeField,
    LongitudeField,
    ScopedFilterSet,
    ScopedModelSerializer,
    ScopedModelViewSet,
    ScopedReadOnlyViewSet,
    api_router,
    checked_photos,
)
from shanglong.workflow_api import TimelineEntrySerializer

# --- Checklists ----------------------------------------------------------------------------


class ChecklistItemSerializer(ScopedModelSerializer):
    is_retired = serializers.BooleanField(read_only=True)

    class Meta:
        model = ChecklistItem
        fields = [
            "id",
            "checklist",
            "text",
            "guidance",
            "site_type",
            "template_key",
            "position",
            "season_from",
            "season_until",
            "retired_at",
            "is_retired",
        ]
        read_only_fields = ["template_key", "position", "retired_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None and "checklist" in attrs and attrs["checklist"] != self.instance.checklist:
            raise serializers.ValidationError({"checklist": [_("An item cannot move to another checklist.")]})
        first = attrs.get("season_from", getattr(self.instance, "season_from", None))
        last = attrs.get("season_until", getattr(self.instance, "season_until", None))
        if (first is None) != (last is None):
            missing = "season_until" if last is None else "season_from"
            raise serializers.ValidationError({missing: [_("A season needs both its first and its last month.")]})
        if "text" in attrs:
            attrs["text"] = attrs["text"].strip()
        return attrs


class ChecklistItemFilterSet(ScopedFilterSet):
    grid = django_filters.NumberFilter(field_name="checklist__grid_id", label=_("Grid"))
    retired = django_filters.BooleanFilter(field_name="retired_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = ChecklistItem
        fields = ["checklist", "site_type"]


class ChecklistItemViewSet(ScopedModelViewSet):
    """The items of the grids' checklists. Editors (the grid's branch secretary, community
    staff) add, change, move and retire them; an item is never deleted (its results stay)."""

    scoped_model = ChecklistItem
    serializer_class = ChecklistItemSerializer
    filterset_class = ChecklistItemFilterSet
    http_method_names = NO_DELETE

    def refine_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.order_by("checklist_id", "position", "pk")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = serializer.validated_data
        with transaction.atomic():
            item = actions.add_checklist_item(
                grid=data["checklist"].grid,
                text=data["text"],
                guidance=data.get("guidance", ""),
                site_type=data.get("site_type", SiteType.OTHER),
                season_from=data.get("season_from"),
                season_until=data.get("season_until"),
                by=self.request.user,
            )
            self.check_written_in_scope(item)
        serializer.instance = item

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance._history_user = self.request.user
        super().perform_update(serializer)

    @extend_schema(
        request=inline_serializer("ChecklistItemMove", {"direction": serializers.ChoiceField(["up", "down"])}),
        responses=ChecklistItemSerializer,
    )
    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk: str | None = None) -> Response:
        """Move the item one place up or down among the items in use."""
        item = self.get_object()
        direction = request.data.get("direction")
        if direction not in ("up", "down"):
            raise serializers.ValidationError({"direction": [_('Say "up" or "down".')]})
        actions.move_checklist_item(item=item, up=direction == "up", by=request.user)
        item.refresh_from_db()
        return Response(self.get_serializer(item).data)

    @extend_schema(request=None, responses=ChecklistItemSerializer)
    @action(detail=True, methods=["post"])
    def retire(self, request: Request, pk: str | None = None) -> Response:
        """Take the item off future patrols (it keeps its results)."""
        item = self.get_object()
        actions.retire_checklist_item(item=item, by=request.user)
        item.refresh_from_db()
        return Response(self.get_serializer(item).data)

    @extend_schema(request=None, responses=ChecklistItemSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, pk: str | None = None) -> Response:
        """Put a retired item back on the checklist, at its end."""
        item = self.get_object()
        actions.restore_checklist_item(item=item, by=request.user)
        item.refresh_from_db()
        return Response(self.get_serializer(item).data)


class ChecklistSerializer(ScopedModelSerializer):
    items = ChecklistItemSerializer(many=True, read_only=True)

    class Meta:
        model = Checklist
        fields = ["id", "grid", "created_at", "items"]
        read_only_fields = ["created_at"]


class ApplyTemplateSerializer(serializers.Serializer):
    site_type = serializers.ChoiceField(choices=[])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        templates = checklist_templates()
        self.fields["site_type"].choices = [(value, label) for value, label in SiteType.choices if value in templates]


class ChecklistFilterSet(ScopedFilterSet):
    class Meta:
        model = Checklist
        fields = ["grid"]


class ChecklistViewSet(ScopedModelViewSet):
    """Each grid's checklist (one per grid) with its items. Editors create a grid's checklist
    and apply templates by site type to it (applying a template twice adds nothing twice)."""

    scoped_model = Checklist
    serializer_class = ChecklistSerializer
    filterset_class = ChecklistFilterSet
    select_related = ("grid",)
    prefetch_related = (Prefetch("items", queryset=ChecklistItem.objects.order_by("position", "pk")),)
    http_method_names = APPEND_ONLY

    def refine_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.order_by("grid__community_id", "grid__code")

    @extend_schema(
        request=ApplyTemplateSerializer,
        responses=inline_serializer(
            "ChecklistTemplateApplied",
            {"added": serializers.IntegerField(), "items": ChecklistItemSerializer(many=True)},
        ),
    )
    @action(detail=True, methods=["post"], url_path="apply-template")
    def apply_template(self, request: Request, pk: str | None = None) -> Response:
        """Add a site type's template items that the checklist does not have yet."""
        checklist = self.get_object()
        form = ApplyTemplateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        added = actions.apply_checklist_template(
            grid=checklist.grid, site_type=form.validated_data["site_type"], by=request.user
        )
        items = ChecklistItemSerializer(added, many=True, context=self.get_serializer_context()).data
        return Response({"added": len(added), "items": items})


# --- Patrols -------------------------------------------------------------------------------


class PatrolItemSerializer(serializers.Serializer):
    """A checklist item as a patrol shows it."""

    id = serializers.IntegerField(read_only=True)
    text = serializers.CharField(read_only=True)
    guidance = serializers.CharField(read_only=True)
    site_type = serializers.CharField(read_only=True)


class PatrolResultSerializer(ScopedModelSerializer):
    finding = serializers.SerializerMethodField()

    class Meta:
        model = PatrolResult
        fields = ["id", "patrol", "item", "outcome", "marked_at", "finding"]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_finding(self, result: PatrolResult) -> int | None:
        finding = getattr(result, "finding", None)  # a missing reverse one-to-one is an AttributeError
        return finding.pk if finding is not None else None


class PatrolSerializer(ScopedModelSerializer):
    started_by_name = serializers.CharField(source="started_by.display_name", read_only=True)
    marked = serializers.IntegerField(read_only=True, default=None)
    failed = serializers.IntegerField(read_only=True, default=None)

    class Meta:
        model = Patrol
        fields = [
            "id",
            "grid",
            "started_by",
            "started_by_name",
            "started_at",
            "ended_at",
            "status",
            "marked",
            "failed",
        ]
        read_only_fields = ["started_by", "started_at", "ended_at", "status"]


class PatrolDetailSerializer(PatrolSerializer):
    """A patrol with the items to mark and what was marked so far."""

    items = serializers.SerializerMethodField()
    results = serializers.SerializerMethodField()

    class Meta(PatrolSerializer.Meta):
        fields = [*PatrolSerializer.Meta.fields, "items", "results"]

    @extend_schema_field(PatrolItemSerializer(many=True))
    def get_items(self, patrol: Patrol) -> list[dict[str, Any]]:
        return PatrolItemSerializer(patrol.items(), many=True).data

    @extend_schema_field(PatrolResultSerializer(many=True))
    def get_results(self, patrol: Patrol) -> list[dict[str, Any]]:
        results = patrol.results.select_related("finding").order_by("item__position", "item_id")
        return PatrolResultSerializer(results, many=True, context=self.context).data


class MarkSerializer(serializers.Serializer):
    """Mark one item of the patrol; on a fail, what was seen may come along (all optional)."""

    item = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    place = serializers.CharField(required=False, allow_blank=True, max_length=200)
    compound = serializers.IntegerField(required=False, allow_null=True)
    merchant_name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    latitude = LatitudeField()
    longitude = LongitudeField()


class PatrolFilterSet(ScopedFilterSet):
    mine = django_filters.BooleanFilter(method="filter_mine", label=_("My own patrols only"))

    class Meta:
        model = Patrol
        fields = ["grid", "status"]

    def filter_mine(self, queryset: models.QuerySet, name: str, value: bool | None) -> models.QuerySet:
        user = getattr(self.request, "user", None)
        return queryset.filter(started_by_id=user.pk) if value and user is not None else queryset


class PatrolViewSet(ScopedModelViewSet):
    """Patrols of the grids in scope. POST starts a patrol in one of the caller's grids (or
    returns the one they have open there, 200); `mark` records an item's outcome (one result
    per item, however often it is sent); `end` ends it (again: 409, nothing changes)."""

    scoped_model = Patrol
    serializer_class = PatrolSerializer
    filterset_class = PatrolFilterSet
    select_related = ("grid", "started_by")
    http_method_names = APPEND_ONLY

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return PatrolDetailSerializer if self.action == "retrieve" else PatrolSerializer

    def refine_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.with_tally().order_by("-started_at", "-pk")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # A grid the person sees but does not patrol: NotYourGrid (403) rises to api_exception_handler.
        patrol, created = actions.start_patrol(grid=serializer.validated_data["grid"], by=request.user)
        patrol = self.get_queryset().get(pk=patrol.pk)
        body = PatrolDetailSerializer(patrol, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=MarkSerializer, responses=PatrolResultSerializer)
    @action(detail=True, methods=["post"])
    def mark(self, request: Request, pk: str | None = None) -> Response:
        """Mark an item pass, fail or not applicable. A fail opens a finding; the optional
        fields describe it. Marking again changes the same result."""
        patrol = self.get_object()
        form = MarkSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        item = ChecklistItem.objects.visible_to(request.user).filter(pk=data["item"]).first()
        if item is None:
            raise serializers.ValidationError({"item": [_("Invalid pk - object does not exist.")]})
        compound = None
        if data.get("compound") is not None:
            compound = Compound.objects.visible_to(request.user).filter(pk=data["compound"], grid=patrol.grid).first()
            if compound is None:
                raise serializers.ValidationError({"compound": [_("This compound is not in the patrol's grid.")]})
        # Refusals (an item not on this patrol 400, an ended patrol 409 ...) rise to the API's handler.
        with transaction.atomic():
            result, finding = actions.mark_patrol_item(
                patrol=patrol, item=item, outcome=data["outcome"], by=request.user
            )
            if finding is not None:
                actions.describe_finding(
                    finding=finding,
                    by=request.user,
                    description=data.get("description"),
                    place=data.get("place"),
                    compound=compound,
                    merchant_name=data.get("merchant_name"),
                    latitude=data.get("latitude"),
                    longitude=data.get("longitude"),
                )
        result = PatrolResult.objects.select_related("finding").get(pk=result.pk)
        return Response(PatrolResultSerializer(result, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses=PatrolSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request: Request, pk: str | None = None) -> Response:
        """End the patrol. Ending an ended patrol is a 409 that changes nothing."""
        patrol = self.get_object()
        actions.end_patrol(patrol=patrol, by=request.user)  # ended already: PatrolAlreadyEnded, a 409
        patrol = self.get_queryset().get(pk=patrol.pk)
        return Response(PatrolSerializer(patrol, context=self.get_serializer_context()).data)


class PatrolResultFilterSet(ScopedFilterSet):
    class Meta:
        model = PatrolResult
        fields = ["patrol", "item", "outcome"]


class PatrolResultViewSet(ScopedReadOnlyViewSet):
    """What the patrols marked, item by item (mark through POST /patrols/{id}/mark/)."""

    scoped_model = PatrolResult
    serializer_class = PatrolResultSerializer
    filterset_class = PatrolResultFilterSet
    select_related = ("finding",)

    def refine_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.order_by("-marked_at", "-pk")


# --- Findings ------------------------------------------------------------------------------


class FollowUpSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    by_name = serializers.CharField(source="by.display_name", read_only=True)
    at = serializers.DateTimeField(read_only=True)
    note = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)


class PhotoSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    url = serializers.SerializerMethodField()

    def get_url(self, attachment: Any) -> str:
        return reverse("attachment", args=[attachment.pk])


class FindingSerializer(ScopedModelSerializer):
    reported_by_name = serializers.CharField(source="reported_by.display_name", read_only=True)
    title = serializers.CharField(read_only=True)
    photos = PhotoSerializer(source="attachments", many=True, read_only=True)
    follow_ups = FollowUpSerializer(many=True, read_only=True)

    class Meta:
        model = Finding
        fields = [
            "id",
            "grid",
            "patrol",
            "result",
            "item",
            "title",
            "description",
            "place",
            "compound",
            "merchant_name",
            "latitude",
            "longitude",
            "reported_by",
            "reported_by_name",
            "reported_at",
            "status",
            "version",
            "closed_at",
            "photos",
            "follow_ups",
        ]
        read_only_fields = [
            "patrol",
            "result",
            "item",
            "reported_by",
            "reported_at",
            "status",
            "version",
            "closed_at",
        ]
        extra_kwargs = {"description": {"required": True, "allow_blank": False}}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        grid, compound = attrs.get("grid"), attrs.get("compound")
        if grid is not None and compound is not None and compound.grid_id != grid.pk:
            raise serializers.ValidationError({"compound": [_("This compound is not in the chosen grid.")]})
        if (attrs.get("latitude") is None) != (attrs.get("longitude") is None):
            raise serializers.ValidationError({"longitude": [_("Give both latitude and longitude, or neither.")]})
        return attrs


class FindingDetailSerializer(FindingSerializer):
    """One finding, with its timeline: the steps of its workflow (FINDING_WORKFLOW), oldest first."""

    timeline = TimelineEntrySerializer(source="follow_ups", many=True, read_only=True)

    class Meta(FindingSerializer.Meta):
        fields = [*FindingSerializer.Meta.fields, "timeline"]


class FollowUpRequestSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000)
    photos = serializers.ListField(
        child=serializers.ImageField(),
        required=False,
        help_text=_("Photos of what was done (multipart only; JPEG, PNG or WebP, the location in their EXIF dropped)."),
    )
    close = serializers.BooleanField(default=False)
    version = serializers.IntegerField(
        required=False, help_text=_("The version you read; a finding changed meanwhile is a 409.")
    )


class FindingFilterSet(ScopedFilterSet):
    class Meta:
        model = Finding
        fields = ["grid", "status", "patrol", "compound"]


class FindingViewSet(ScopedModelViewSet):
    """Findings (发现问题) of the grids in scope. POST records one without a patrol in one of
    the caller's grids; `photos` adds photos (multipart, field "photos"); `follow-up` appends a
    follow-up and may close it. Findings are records: not changed or deleted otherwise."""

    scoped_model = Finding
    serializer_class = FindingSerializer
    filterset_class = FindingFilterSet
    select_related = ("reported_by", "item")
    prefetch_related = (
        "attachments",
        Prefetch("follow_ups", queryset=FindingFollowUp.objects.select_related("by").order_by("at", "pk")),
    )
    http_method_names = APPEND_ONLY
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return FindingSerializer if self.action == "list" else FindingDetailSerializer

    def refine_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        if self.action != "list":  # the timeline's attachments, one query for all its steps
            queryset = queryset.prefetch_related("follow_ups__attachments")
        return queryset.order_by("-reported_at", "-pk")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = serializer.validated_data
        with transaction.atomic():  # a grid the person does not patrol: NotYourGrid (403) rises
            finding = actions.record_finding(
                grid=data["grid"],
                by=self.request.user,
                description=data["description"],
                place=data.get("place", ""),
                compound=data.get("compound"),
                merchant_name=data.get("merchant_name", ""),
                latitude=data.get("latitude"),
                longitude=data.get("longitude"),
            )
            self.check_written_in_scope(finding)
        serializer.instance = self.get_queryset().get(pk=finding.pk)

    @extend_schema(
        request={
            "multipart/form-data": inline_serializer(
                "FindingPhotos", {"photos": serializers.ListField(child=serializers.ImageField())}
            )
        },
        responses=FindingDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def photos(self, request: Request, pk: str | None = None) -> Response:
        """Add photos (JPEG, PNG or WebP; the location in their EXIF is dropped)."""
        finding = self.get_object()
        uploads = checked_photos(request.FILES.getlist("photos"), max_count=MAX_FINDING_PHOTOS)
        if not uploads:
            raise serializers.ValidationError({"photos": [_("Choose at least one photo.")]})
        # Too many photos (400, on "photos") or a closed finding (409) rise to the API's handler.
        actions.describe_finding(finding=finding, by=request.user, photos=uploads)
        finding = self.get_queryset().get(pk=finding.pk)
        return Response(self.get_serializer(finding).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request={
            "application/json": FollowUpRequestSerializer,
            "multipart/form-data": FollowUpRequestSerializer,
        },
        responses=FindingDetailSerializer,
    )
    @action(detail=True, methods=["post"], url_path="follow-up")
    def follow_up(self, request: Request, pk: str | None = None) -> Response:
        """Append a follow-up note (a step of the finding's workflow); with close=true the
        finding is closed. A closed finding, or one changed since the version given, is a 409;
        the answer carries the finding's timeline."""
        finding = self.get_object()
        # The photos go through the pages' own checks; the serializer reads the other fields.
        photos = checked_photos(request.FILES.getlist("photos"), max_count=MAX_FINDING_PHOTOS)
        fields = {name: request.data.get(name) for name in ("note", "close", "version") if name in request.data}
        form = FollowUpRequestSerializer(data=fields)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        if not data["note"].strip():
            raise serializers.ValidationError({"note": [_("Say what was done.")]})
        # A refusal (409 changed or closed, 403 not one's grid) is answered by the API's handler.
        actions.follow_up_finding(
            finding=finding,
            note=data["note"],
            close=data["close"],
            by=request.user,
            version=data.get("version"),
            attachments=photos,
        )
        finding = self.get_queryset().get(pk=finding.pk)
        return Response(self.get_serializer(finding).data)


def register() -> None:
    api_router.register("checklists", ChecklistViewSet)
    api_router.register("checklist-items", ChecklistItemViewSet)
    api_router.register("patrols", PatrolViewSet)
    api_router.register("patrol-results", PatrolResultViewSet)
    api_router.register("findings", FindingViewSet)
