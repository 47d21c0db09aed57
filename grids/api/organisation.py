"""API of the organisation registry under /api/v1/: party organisations, grids (GeoJSON
boundaries), grid assignments and compounds.

Reads are scoped by each model's visible_to (through shanglong.api's scoped viewsets); every
relation offered is bounded the same way; writes are for community staff, on their own
community's rows (the models' editable_by: grids.access, column "edit registry"). The checks
are the same as the pages': Grid.clean and PartyOrganisation.clean (geometry, branch),
grids.geometry.place_compound (a compound's grid from its point).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from grids import geometry
from grids.models import (
    Compound,
    Grid,
    GridAssignment,
    PartyOrganisation,
)
from shanglong import roles
from shanglong.api import (
    NO_DELETE,
    ScopedFilterSet,
    ScopedModelSerializer,
    ScopedModelViewSet,
    api_router,
    run_model_clean,
)

# --- Party organisations -------------------------------------------------------------------


class PartyOrganisationSerializer(ScopedModelSerializer):
    class Meta:
        model = PartyOrganisation
        fields = ["id", "community", "subdistrict", "communities", "name", "kind", "parent", "secretary"]
        extra_kwargs = {"communities": {"required": False}}
        validators: list[Any] = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None and "community" in attrs and attrs["community"] != self.instance.community:
            raise serializers.ValidationError({"community": [_("An organisation cannot move to another community.")]})
        if self.instance is not None and "subdistrict" in attrs and attrs["subdistrict"] != self.instance.subdistrict:
            raise serializers.ValidationError(
                {"subdistrict": [_("An organisation cannot move to another subdistrict.")]}
            )
        run_model_clean(self, attrs)
        return attrs


class PartyOrganisationFilterSet(ScopedFilterSet):
    class Meta:
        model = PartyOrganisation
        fields = ["community", "subdistrict", "kind", "parent"]


class PartyOrganisationViewSet(ScopedModelViewSet):
    """The party organisations: a community's (committee, joint committee, branches, unit
    organisations) and the subdistrict's own (街道党工委, a joint committee spanning several
    communities: `subdistrict` set, `community` empty, `communities` the ones it spans).
    Organisations are referred to by grids and history: not deleted here."""

    scoped_model = PartyOrganisation
    serializer_class = PartyOrganisationSerializer
    filterset_class = PartyOrganisationFilterSet
    prefetch_related = ("communities",)
    http_method_names = NO_DELETE

    def refine_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.order_by("community_id", "subdistrict_id", "kind", "name", "pk")


# --- Grids ---------------------------------------------------------------------------------


class GridSerializer(ScopedModelSerializer):
    boundary = serializers.JSONField(
        help_text=_('A GeoJSON Polygon in WGS84: {"type": "Polygon", "coordinates": [[[lon, lat], ...]]}.')
    )

    class Meta:
        model = Grid
        fields = ["id", "community", "code", "name", "kind", "dedicated_site", "branch", "boundary", "is_active"]
        # The unique (community, code) check is the constraint's, through run_model_clean.
        validators: list[Any] = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None and "community" in attrs and attrs["community"] != self.instance.community:
            raise serializers.ValidationError({"community": [_("A grid cannot move to another community.")]})
        if "code" in attrs:
            attrs["code"] = (attrs["code"] or "").strip()
        run_model_clean(self, attrs)
        return attrs


class GridFilterSet(ScopedFilterSet):
    class Meta:
        model = Grid
        fields = ["community", "branch", "code", "kind", "dedicated_site", "is_active"]


class GridViewSet(ScopedModelViewSet):
    """Grids with their GeoJSON boundaries. A bad polygon, one outside the community or a
    duplicate code is a 400 that says why. Grids end by is_active, they are not deleted."""

    scoped_model = Grid
    serializer_class = GridSerializer
    filterset_class = GridFilterSet
    http_method_names = NO_DELETE

    def refine_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.order_by("community_id", "code")


# --- Assignments ---------------------------------------------------------------------------


class GridAssignmentSerializer(ScopedModelSerializer):
    is_current = serializers.SerializerMethodField()

    class Meta:
        model = GridAssignment
        fields = ["id", "user", "grid", "duty", "since", "until", "is_current"]

    def get_is_current(self, assignment: GridAssignment) -> bool:
        return assignment.is_current()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        person = attrs.get("user", getattr(self.instance, "user", None))
        grid = attrs.get("grid", getattr(self.instance, "grid", None))
        since = attrs.get("since", getattr(self.instance, "since", None)) or timezone.localdate()
        until = attrs.get("until", getattr(self.instance, "until", None))
        errors: dict[str, list[Any]] = {}
        if (
            person is not None
            and grid is not None
            and (person.community_id != grid.community_id or not roles.works_for_community(person))
        ):
            errors["user"] = [_("This person does not work in the grid's community.")]
        if until is not None and until < since:
            errors["until"] = [_("The last day on duty cannot be before the first.")]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class GridAssignmentFilterSet(ScopedFilterSet):
    current = django_filters.BooleanFilter(method="filter_current", label=_("On duty today"))

    class Meta:
        model = GridAssignment
        fields = ["grid", "user", "duty"]

    def filter_current(self, queryset: models.QuerySet, name: str, value: bool | None) -> models.QuerySet:
        if value is None:
            return queryset
        current = queryset.current()
        return current if value else queryset.exclude(pk__in=current.values("pk"))


class GridAssignmentViewSet(ScopedModelViewSet):
    """Who is on duty in which grid. A duty ends by setting `until` (its last day); the record
    stays, so there is no delete."""

    scoped_model = GridAssignment
    serializer_class = GridAssignmentSerializer
    filterset_class = GridAssignmentFilterSet
    select_related = ("grid",)
    http_method_names = NO_DELETE

    def refine_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.order_by("grid_id", "since", "pk")


# --- Compounds -----------------------------------------------------------------------------


class CompoundSerializer(ScopedModelSerializer):
    class Meta:
        model = Compound
        fields = ["id", "grid", "name", "address", "latitude", "longitude", "buildings"]
        extra_kwargs = {"grid": {"required": False, "help_text": _("Leave out to find the grid from the position.")}}
        validators: list[Any] = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        request = self.context["request"]
        editor = request.user
        candidates = Grid.objects.visible_to(editor).editable_by(editor).active()
        if "grid" in attrs:
            chosen = attrs["grid"]
        elif "latitude" in attrs or "longitude" in attrs:
            chosen = None  # a new position without a grid: find the grid again
        else:
            chosen = getattr(self.instance, "grid", None)
        community = None
        if self.instance is not None:
            community = self.instance.grid.community
        elif roles.is_community_staff(editor) and editor.community_id:
            community = editor.community
        grid = geometry.place_compound(
            grid=chosen,
            latitude=attrs.get("latitude", getattr(self.instance, "latitude", None)),
            longitude=attrs.get("longitude", getattr(self.instance, "longitude", None)),
            candidates=candidates,
            community=community,
        )
        attrs["grid"] = grid
        run_model_clean(self, attrs)
        return attrs


class CompoundFilterSet(ScopedFilterSet):
    class Meta:
        model = Compound
        fields = ["grid"]


class CompoundViewSet(ScopedModelViewSet):
    """Residential compounds. Leave out the grid to have it found from the position."""

    scoped_model = Compound
    serializer_class = CompoundSerializer
    filterset_class = CompoundFilterSet
    select_related = ("grid",)
    http_method_names = NO_DELETE

    def refine_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.order_by("grid_id", "name", "pk")


def register() -> None:
    api_router.register("party-organisations", PartyOrganisationViewSet)
    api_router.register("grids", GridViewSet)
    api_router.register("assignments", GridAssignmentViewSet)
    api_router.register("compounds", CompoundViewSet)
