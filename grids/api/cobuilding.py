"""API of party building together under /api/v1/: the joint meeting's roster (联席会议成员),
the units' registrations with the community (单位双报到) with their co-building agreement, and
the lines of their three lists with the steps each line takes (UNIT_ITEM_WORKFLOW).

Reads are scoped by each model's visible_to (grids.models.cobuilding); every relation offered is
bounded the same way (a unit organisation among those the caller sees, a registration among those
they keep); pointing elsewhere is a 400. Writes are the models' editable_by: the community admin
keeps the roster of a joint committee spanning their community, the community's staff its
registrations and their lines; subdistrict staff read. A step on a line carries the version the
caller read: a line moved meanwhile or already finished is a 409 and nothing changes.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from grids.actions import attach_agreement, move_unit_registration_item
from grids.models import (
    ItemAction,
    JointMeetingMember,
    OrganisationKind,
    PartyOrganisation,
    UnitRegistration,
    UnitRegistrationItem,
    UnitRegistrationItemStep,
)
from shanglong.api import (
    NO_DELETE,
    MaskedPhoneField,
    ScopedFilterSet,
    ScopedModelSerializer,
    ScopedModelViewSet,
    ScopedRelatedField,
    api_router,
    refuse_change,
    request_user,
    run_model_clean,
    signed_in,
)
from shanglong.validators import validate_optional_mobile
from shanglong.workflow_api import TimelineAttachmentSerializer, TimelineEntrySerializer

# --- The joint meeting's roster --------------------------------------------------------------


class JointCommitteeField(ScopedRelatedField):
    """A business-district joint committee the caller sees."""

    def get_queryset(self) -> models.QuerySet:
        return PartyOrganisation.objects.visible_to(request_user(self)).filter(
            kind=OrganisationKind.DISTRICT_JOINT_COMMITTEE
        )


class JointMeetingMemberSerializer(ScopedModelSerializer):
    committee = JointCommitteeField(model=PartyOrganisation)
    holder = serializers.CharField(read_only=True, help_text=_("The name of the organisation or department."))

    class Meta:
        model = JointMeetingMember
        fields = [
            "id",
            "committee",
            "seat_kind",
            "organisation",
            "department",
            "holder",
            "representative",
            "position",
            "since",
            "until",
            "order",
        ]
        validators: list[Any] = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        refuse_change(self, attrs, "committee", _("A seat cannot move to another joint meeting."))
        run_model_clean(self, attrs)
        return attrs


class JointMeetingMemberFilterSet(ScopedFilterSet):
    class Meta:
        model = JointMeetingMember
        fields = ["committee", "seat_kind"]


class JointMeetingMemberViewSet(ScopedModelViewSet):
    """The seats at the joint meeting (联席会议) of a business-district joint committee: the
    subdistrict working committee, community committees, resident units' organisations and
    departments, each with its representative. Leaving is recorded by `until`; seats are not
    deleted."""

    scoped_model = JointMeetingMember
    serializer_class = JointMeetingMemberSerializer
    filterset_class = JointMeetingMemberFilterSet
    select_related = ("organisation", "department")
    http_method_names = NO_DELETE

    def refine_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.order_by("committee_id", "order", "since", "pk")


# --- Unit registrations ----------------------------------------------------------------------


class UnitOrganisationField(ScopedRelatedField):
    """A community's resident-unit party organisation the caller sees."""

    def get_queryset(self) -> models.QuerySet:
        return (
            PartyOrganisation.objects.visible_to(request_user(self))
            .community_owned()
            .filter(kind=OrganisationKind.UNIT_ORGANISATION)
        )


class KeptRegistrationField(ScopedRelatedField):
    """A unit registration the caller keeps (visible_to and editable_by)."""

    def get_queryset(self) -> models.QuerySet:
        user = request_user(self)
        return UnitRegistration.objects.visible_to(user).editable_by(user)


class UnitRegistrationSerializer(ScopedModelSerializer):
    unit_organisation = UnitOrganisationField(model=PartyOrganisation)
    contact_phone = MaskedPhoneField(max_length=20, required=False, allow_blank=True)
    agreement_files = TimelineAttachmentSerializer(source="attachments", many=True, read_only=True)

    class Meta:
        model = UnitRegistration
        fields = [
            "id",
            "unit_organisation",
            "community",
            "registered_on",
            "ended_on",
            "contact_name",
            "contact_phone",
            "agreement_signed_on",
            "agreement_until",
            "agreement_summary",
            "agreement_files",
        ]
        validators: list[Any] = []

    def validate_contact_phone(self, value: str) -> str:
        return validate_optional_mobile(value)  # DRF turns Django's ValidationError into a 400

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        refuse_change(self, attrs, "community", _("A registration cannot move to another community."))
        refuse_change(self, attrs, "unit_organisation", _("A registration cannot move to another unit."))
        run_model_clean(self, attrs)
        return attrs


class UnitRegistrationFilterSet(ScopedFilterSet):
    class Meta:
        model = UnitRegistration
        fields = ["community", "unit_organisation"]


class AgreementUploadSerializer(serializers.Serializer):
    agreement_file = serializers.FileField(help_text=_("The signed agreement: a PDF, or a photo (JPEG, PNG, WebP)."))


class UnitRegistrationViewSet(ScopedModelViewSet):
    """Resident units' party organisations registered with the community (单位双报到), with their
    co-building agreement (共建协议). `agreement` stores the signed file (multipart, field
    "agreement_file": a PDF or a photo). Registrations end by `ended_on`; they are not deleted."""

    scoped_model = UnitRegistration
    serializer_class = UnitRegistrationSerializer
    filterset_class = UnitRegistrationFilterSet
    select_related = ("unit_organisation", "community")
    prefetch_related = ("attachments",)
    http_method_names = NO_DELETE
    parser_classes = [JSONParser, MultiPartParser]

    def refine_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.order_by("community_id", "-registered_on", "pk")

    @extend_schema(
        request={"multipart/form-data": AgreementUploadSerializer}, responses={201: UnitRegistrationSerializer}
    )
    @action(detail=True, methods=["post"])
    def agreement(self, request: Request, pk: str | None = None) -> Response:
        """Store the signed co-building agreement with the registration; any other file is a 400."""
        registration = self.get_object()
        form = AgreementUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        attach_agreement(
            registration=registration, uploaded=form.validated_data["agreement_file"], by=signed_in(request)
        )
        registration = self.get_queryset().get(pk=registration.pk)
        return Response(self.get_serializer(registration).data, status=status.HTTP_201_CREATED)


# --- The lines of the three lists --------------------------------------------------------------


class UnitRegistrationItemSerializer(ScopedModelSerializer):
    registration = KeptRegistrationField(model=UnitRegistration)

    class Meta:
        model = UnitRegistrationItem
        fields = [
            "id",
            "registration",
            "item_list",
            "title",
            "description",
            "status",
            "version",
            "created_at",
            "finished_at",
        ]
        read_only_fields = ["status", "version", "created_at", "finished_at"]
        validators: list[Any] = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        refuse_change(self, attrs, "registration", _("An item cannot move to another registration."))
        refuse_change(self, attrs, "item_list", _("An item cannot move to another list."))
        run_model_clean(self, attrs)
        return attrs


class UnitRegistrationItemDetailSerializer(UnitRegistrationItemSerializer):
    """One line with its timeline: the steps it took, oldest first."""

    timeline = TimelineEntrySerializer(source="steps", many=True, read_only=True)

    class Meta(UnitRegistrationItemSerializer.Meta):
        fields = [*UnitRegistrationItemSerializer.Meta.fields, "timeline"]


class ItemStepRequestSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=ItemAction.choices)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    version = serializers.IntegerField(help_text=_("The version you read; an item moved meanwhile is a 409."))


class UnitRegistrationItemFilterSet(ScopedFilterSet):
    class Meta:
        model = UnitRegistrationItem
        fields = ["registration", "item_list", "status"]


class UnitRegistrationItemViewSet(ScopedModelViewSet):
    """The lines of the units' three lists: resources (资源清单), needs (需求清单) and joint
    projects (项目清单). A line is added open; `step` moves it (match, start, complete, drop)
    with the version read: a line moved meanwhile or finished is a 409. Lines are not deleted."""

    scoped_model = UnitRegistrationItem
    serializer_class = UnitRegistrationItemSerializer
    filterset_class = UnitRegistrationItemFilterSet
    http_method_names = NO_DELETE

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return UnitRegistrationItemSerializer if self.action == "list" else UnitRegistrationItemDetailSerializer

    def refine_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        if self.action != "list":
            steps = UnitRegistrationItemStep.objects.select_related("by").prefetch_related("attachments")
            queryset = queryset.prefetch_related(Prefetch("steps", queryset=steps.order_by("at", "pk")))
        return queryset.order_by("registration_id", "item_list", "created_at", "pk")

    @extend_schema(request=ItemStepRequestSerializer, responses=UnitRegistrationItemDetailSerializer)
    @action(detail=True, methods=["post"])
    def step(self, request: Request, pk: str | None = None) -> Response:
        """Take one step on the line (UNIT_ITEM_WORKFLOW). A step the line's state does not
        allow is a 400; a line moved since `version` or already done or dropped is a 409."""
        item = self.get_object()
        form = ItemStepRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        # Refusals (400, 403, 409) are answered by the API's handler; nothing is written.
        move_unit_registration_item(
            item=item, action=data["action"], by=signed_in(request), note=data["note"], version=data["version"]
        )
        item = self.get_queryset().get(pk=item.pk)
        return Response(self.get_serializer(item).data)


def register() -> None:
    api_router.register("joint-meeting-members", JointMeetingMemberViewSet)
    api_router.register("unit-registrations", UnitRegistrationViewSet)
    api_router.register("unit-registration-items", UnitRegistrationItemViewSet)
