"""API of the people registry under /api/v1/: addresses (residential buildings, dwellings),
residents, group memberships, rented flats (tenancies) and the group access table.

Masked by default: identity numbers and mobiles are written in full and always read masked;
`POST residents/{id}/reveal/` shows one value in full to a person entitled to it and records it
in the access log. Groups appear only through GroupMembership.objects.visible_to (the one rule).
Writes go through grids.actions, as the pages' do.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from grids.actions import (
    REVEAL_REASON_TEXT_LENGTH,
    REVEALABLE_FIELDS,
    move_out_resident,
    record_group_membership,
    record_tenancy,
    reveal_resident_field,
    save_resident,
)
from grids.models import (
    Dwelling,
    GroupAccessRule,
    GroupKind,
    GroupMembership,
    Resident,
    ResidentialBuilding,
    Tenancy,
    manageable_group_kinds,
)
from shanglong import roles
from shanglong.api import (
    NO_DELETE,
    MaskedPhoneField,
    ScopedFilterSet,
    ScopedModelSerializer,
    ScopedModelViewSet,
    ScopedRelatedField,
    api_router,
    run_model_clean,
)
from shanglong.masking import mask_id_number
from shanglong.models import RevealReason, User
from shanglong.validators import (
    normalise_identity_number,
    validate_identity_document,
    validate_optional_mobile,
)

# --- Addresses -----------------------------------------------------------------------------


class ResidentialBuildingSerializer(ScopedModelSerializer):
    class Meta:
        model = ResidentialBuilding
        fields = ["id", "compound", "name"]
        validators: list[Any] = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        run_model_clean(self, attrs)
        return attrs


class ResidentialBuildingViewSet(ScopedModelViewSet):
    """The buildings of the address book (标准地址), by compound."""

    scoped_model = ResidentialBuilding
    serializer_class = ResidentialBuildingSerializer
    filterset_fields = ["compound"]
    http_method_names = NO_DELETE

    def refine_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.order_by("compound_id", "name", "pk")


class DwellingSerializer(ScopedModelSerializer):
    address = serializers.CharField(read_only=True)

    class Meta:
        model = Dwelling
        fields = ["id", "building", "unit", "room", "address"]
        validators: list[Any] = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        run_model_clean(self, attrs)
        return attrs


class DwellingViewSet(ScopedModelViewSet):
    """Dwellings (flats and rooms) at standard addresses."""

    scoped_model = Dwelling
    serializer_class = DwellingSerializer
    filterset_fields = ["building"]
    select_related = ("building__compound",)
    http_method_names = NO_DELETE

    def refine_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.order_by("building_id", "unit", "room", "pk")


# --- Residents -----------------------------------------------------------------------------


class MaskedIdNumberField(serializers.CharField):
    """An identity number: written in full, always read masked (370***********1234)."""

    def to_representation(self, value: Any) -> str:
        return mask_id_number(str(value) if value else "")

    def to_internal_value(self, data: Any) -> str:
        return normalise_identity_number(super().to_internal_value(data))


class MembershipSummarySerializer(serializers.ModelSerializer):
    department_name = serializers.CharField(source="department.name", read_only=True)

    class Meta:
        model = GroupMembership
        fields = ["id", "kind", "level", "disability_grade", "department", "department_name", "since", "until"]
        read_only_fields = fields


class ResidentSerializer(ScopedModelSerializer):
    id_number = MaskedIdNumberField(max_length=32, required=False)
    mobile = MaskedPhoneField(max_length=20, required=False, allow_blank=True)
    address = serializers.CharField(source="dwelling.address", read_only=True)
    grid = serializers.IntegerField(source="dwelling.building.compound.grid_id", read_only=True)
    community = serializers.IntegerField(source="community_id", read_only=True)
    groups = MembershipSummarySerializer(
        source="visible_groups",
        many=True,
        read_only=True,
        help_text=_("The groups the caller may see (current and ended)."),
    )

    class Meta:
        model = Resident
        fields = [
            "id",
            "name",
            "gender",
            "birth_date",
            "id_type",
            "id_number",
            "mobile",
            "dwelling",
            "address",
            "grid",
            "community",
            "household",
            "relation",
            "registration_status",
            "moved_in",
            "moved_out",
            "groups",
        ]
        read_only_fields = ["household", "moved_out"]
        validators: list[Any] = []

    def validate_mobile(self, value: str) -> str:
        return validate_optional_mobile(value)  # DRF turns Django's ValidationError into a 400

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance = self.instance
        number = attrs.get("id_number")
        if instance is None and not number:
            raise serializers.ValidationError({"id_number": [_("Enter the identity document number.")]})
        doc_type = attrs.get("id_type", getattr(instance, "id_type", None))
        birth_date = attrs.get("birth_date", getattr(instance, "birth_date", None))
        gender = attrs.get("gender", getattr(instance, "gender", None))
        try:
            checked = validate_identity_document(
                doc_type, number or instance.id_number, birth_date=birth_date, gender=gender
            )
        except DjangoValidationError as error:
            raise serializers.ValidationError({"id_number": [str(message) for message in error.messages]}) from error
        if number:
            attrs["id_number"] = checked
            duplicates = Resident.objects.with_identity_number(checked, doc_type)
            if instance is not None:
                duplicates = duplicates.exclude(pk=instance.pk)
            if duplicates.exists():
                raise serializers.ValidationError(
                    {"id_number": [_("A resident with this identity number is already in the registry.")]}
                )
        return attrs

    def create(self, validated_data: dict[str, Any]) -> Resident:
        number = validated_data.pop("id_number")
        resident = Resident(**validated_data)
        return save_resident(resident=resident, id_number=number, by=self.context["request"].user)

    def update(self, instance: Resident, validated_data: dict[str, Any]) -> Resident:
        number = validated_data.pop("id_number", None)
        for name, value in validated_data.items():
            setattr(instance, name, value)
        return save_resident(resident=instance, id_number=number, by=self.context["request"].user)

    def to_representation(self, instance: Resident) -> dict[str, Any]:
        if not hasattr(instance, "visible_groups"):
            request = self.context["request"]
            instance.visible_groups = list(
                GroupMembership.objects.visible_to(request.user).filter(resident=instance).select_related("department")
            )
        return super().to_representation(instance)


class ResidentFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(
        method="filter_search", label=_("Name, address, last 4+ digits of the phone, or exact ID number")
    )
    kind = django_filters.ChoiceFilter(
        method="filter_kind", choices=GroupKind.choices, label=_("In this group now (groups you may see)")
    )
    living = django_filters.BooleanFilter(
        method="filter_living", label=_("true: living here today; false: moved out (leave out for both)")
    )
    compound = django_filters.ModelChoiceFilter(
        field_name="dwelling__building__compound", label=_("Compound"), queryset=None
    )

    class Meta:
        model = Resident
        fields = ["registration_status", "household"]

    def filter_search(self, queryset: models.QuerySet, name: str, value: str) -> models.QuerySet:
        return queryset.search(value)

    def filter_kind(self, queryset: models.QuerySet, name: str, value: str) -> models.QuerySet:
        if not value:
            return queryset
        members = GroupMembership.objects.visible_to(self.request.user).current().filter(kind=value)
        return queryset.filter(pk__in=members.values("resident_id"))

    def filter_living(self, queryset: models.QuerySet, name: str, value: bool | None) -> models.QuerySet:
        if value is None:
            return queryset
        living = queryset.living_here()
        return living if value else queryset.exclude(pk__in=living.values("pk"))


class MoveOutSerializer(serializers.Serializer):
    moved_out = serializers.DateField()


class RevealSerializer(serializers.Serializer):
    field = serializers.ChoiceField(choices=list(REVEALABLE_FIELDS))
    # Why the full value is needed; checked by reveal_resident_field (a missing reason, or
    # "other" without words, is a 400 and nothing is shown or logged).
    reason = serializers.ChoiceField(choices=RevealReason.choices, required=False, allow_blank=True)
    reason_text = serializers.CharField(
        required=False, allow_blank=True, max_length=REVEAL_REASON_TEXT_LENGTH, help_text=_("Needed for other.")
    )


class RevealRequestSerializer(RevealSerializer):
    """The documented body of a reveal: the reason is part of the contract. (The view reads
    with RevealSerializer, so a person who may not reveal hears 403 before any 400.)"""

    reason = serializers.ChoiceField(choices=RevealReason.choices)


class ResidentViewSet(ScopedModelViewSet):
    """Residents, masked. Departments see only residents in a group of their department.
    A resident who moves out stays on record: there is no delete."""

    scoped_model = Resident
    serializer_class = ResidentSerializer
    # A reveal writes nothing: it is a read with an access-log line; reveal_resident_field decides.
    read_actions = frozenset({"reveal"})
    filterset_class = ResidentFilterSet
    select_related = ("dwelling__building__compound__grid",)
    http_method_names = NO_DELETE

    def refine_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        groups = GroupMembership.objects.visible_to(self.request.user).select_related("department")
        return queryset.prefetch_related(
            Prefetch("group_memberships", queryset=groups.order_by("kind", "-since"), to_attr="visible_groups")
        ).order_by("name", "pk")

    @extend_schema(
        request=RevealRequestSerializer,
        responses=inline_serializer(
            "RevealedValue", {"field": serializers.CharField(), "value": serializers.CharField()}
        ),
    )
    @action(detail=True, methods=["post"])
    def reveal(self, request: Request, pk: str | None = None) -> Response:
        """Show the identity number or mobile in full, for a reason (recorded with it in the
        access log). Without a reason, or "other" without words: 400, nothing shown or logged."""
        resident = self.get_object()
        form = RevealSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        # A person who may see the resident but not reveal: PermissionDenied, a 403. No reason:
        # RevealReasonMissing (ActionRefused), a 400 from api_exception_handler.
        value = reveal_resident_field(
            resident=resident,
            field=form.validated_data["field"],
            reason=form.validated_data.get("reason", ""),
            reason_text=form.validated_data.get("reason_text", ""),
            request=request,
        )
        response = Response({"field": form.validated_data["field"], "value": value})
        response["Cache-Control"] = "private, no-store"
        return response

    @extend_schema(request=MoveOutSerializer, responses=ResidentSerializer)
    @action(detail=True, methods=["post"], url_path="move-out")
    def move_out(self, request: Request, pk: str | None = None) -> Response:
        """Record that the resident moved out (the record stays; open groups and tenancies end)."""
        resident = self.get_object()
        form = MoveOutSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            # Moved out already: ResidentAlreadyMovedOut (409) rises to api_exception_handler.
            move_out_resident(resident=resident, on=form.validated_data["moved_out"], by=request.user)
        except DjangoValidationError as error:
            raise serializers.ValidationError({"moved_out": error.messages}) from error
        return Response(self.get_serializer(self.get_queryset().get(pk=resident.pk)).data)


# --- Group memberships ---------------------------------------------------------------------


class GroupMembershipSerializer(ScopedModelSerializer):
    department_name = serializers.CharField(source="department.name", read_only=True)

    class Meta:
        model = GroupMembership
        fields = [
            "id",
            "resident",
            "kind",
            "level",
            "disability_grade",
            "department",
            "department_name",
            "since",
            "until",
            "note",
        ]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user = self.context["request"].user
        if self.instance is not None:
            for name in ("resident", "kind"):
                if name in attrs and attrs[name] != getattr(self.instance, name):
                    raise serializers.ValidationError({name: [_("Record a new membership instead.")]})
        resident = attrs.get("resident", getattr(self.instance, "resident", None))
        kind = attrs.get("kind", getattr(self.instance, "kind", None))
        if resident is not None and kind not in manageable_group_kinds(user, resident):
            raise serializers.ValidationError({"kind": [_("You may not record this group for this resident.")]})
        run_model_clean(self, attrs)
        return attrs

    def create(self, validated_data: dict[str, Any]) -> GroupMembership:
        return record_group_membership(membership=GroupMembership(**validated_data), by=self.context["request"].user)

    def update(self, instance: GroupMembership, validated_data: dict[str, Any]) -> GroupMembership:
        for name, value in validated_data.items():
            setattr(instance, name, value)
        return record_group_membership(membership=instance, by=self.context["request"].user)


class GroupMembershipFilterSet(ScopedFilterSet):
    current = django_filters.BooleanFilter(method="filter_current", label=_("Current today"))

    class Meta:
        model = GroupMembership
        fields = ["resident", "kind", "level", "department"]

    def filter_current(self, queryset: models.QuerySet, name: str, value: bool | None) -> models.QuerySet:
        if value is None:
            return queryset
        current = queryset.current()
        return current if value else queryset.exclude(pk__in=current.values("pk"))


class GroupMembershipViewSet(ScopedModelViewSet):
    """Special groups and key persons, for the roles that work with each (see
    GroupMembership.objects.visible_to). Leaving a group is recorded with `until`; no delete."""

    scoped_model = GroupMembership
    serializer_class = GroupMembershipSerializer
    filterset_class = GroupMembershipFilterSet
    select_related = ("department",)
    http_method_names = NO_DELETE

    def refine_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.order_by("resident_id", "kind", "-since", "pk")


# --- Rented flats --------------------------------------------------------------------------


class TenancySerializer(ScopedModelSerializer):
    class Meta:
        model = Tenancy
        fields = ["id", "dwelling", "owner", "owner_name", "tenant", "since", "until"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        owner = attrs.get("owner", getattr(self.instance, "owner", None))
        owner_name = attrs.get("owner_name", getattr(self.instance, "owner_name", ""))
        if owner is None and not owner_name:
            raise serializers.ValidationError({"owner_name": [_("Name the owner, or choose them from the registry.")]})
        since = attrs.get("since", getattr(self.instance, "since", None))
        until = attrs.get("until", getattr(self.instance, "until", None))
        if since and until and until < since:
            raise serializers.ValidationError({"until": [_("The end of a tenancy cannot be before its start.")]})
        return attrs

    def create(self, validated_data: dict[str, Any]) -> Tenancy:
        return record_tenancy(tenancy=Tenancy(**validated_data), by=self.context["request"].user)

    def update(self, instance: Tenancy, validated_data: dict[str, Any]) -> Tenancy:
        for name, value in validated_data.items():
            setattr(instance, name, value)
        return record_tenancy(tenancy=instance, by=self.context["request"].user)


class TenancyViewSet(ScopedModelViewSet):
    """Rented flats (出租房屋): owner, tenant and dates. A tenancy ends with `until`; no delete."""

    scoped_model = Tenancy
    serializer_class = TenancySerializer
    filterset_fields = ["dwelling", "tenant", "owner"]
    http_method_names = NO_DELETE

    def refine_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.order_by("dwelling_id", "-since", "pk")


# --- Group access table --------------------------------------------------------------------


class GroupAccessRuleSerializer(ScopedModelSerializer):
    designated_officer = ScopedRelatedField(model=User, allow_null=True, required=False)

    class Meta:
        model = GroupAccessRule
        fields = ["id", "community", "kind", "grid_workers", "grid_helpers", "department", "designated_officer"]
        read_only_fields = ["community", "kind"]

    def validate_designated_officer(self, value: User | None) -> User | None:
        community_id = getattr(self.instance, "community_id", None)
        if value is not None and (value.community_id != community_id or not roles.works_for_community(value)):
            raise serializers.ValidationError(_("Choose a person who works for this community."))
        return value


class GroupAccessRuleViewSet(ScopedModelViewSet):
    """The community's table of who sees which group; community staff read it, the community
    admin changes it. Every kind has a row (made with the defaults when the community is created)."""

    scoped_model = GroupAccessRule
    serializer_class = GroupAccessRuleSerializer
    filterset_fields = ["kind"]
    http_method_names = ["get", "put", "patch", "head", "options"]

    def refine_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.order_by("community_id", "kind")


def register() -> None:
    api_router.register("residential-buildings", ResidentialBuildingViewSet)
    api_router.register("dwellings", DwellingViewSet)
    api_router.register("residents", ResidentViewSet)
    api_router.register("group-memberships", GroupMembershipViewSet)
    api_router.register("tenancies", TenancyViewSet)
    api_router.register("group-access-rules", GroupAccessRuleViewSet)
