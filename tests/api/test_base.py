"""The API base refuses, when a class is built, what would bypass scoping."""

from __future__ import annotations

import django_filters
import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated

from shanglong.api import (
    ScopedFilterSet,
    ScopedModelSerializer,
    ScopedModelViewSet,
    ScopedReadOnlyViewSet,
    ScopedRelatedField,
)
from shanglong.models import Attachment, Community, Department, DepartmentLevel, Heartbeat, Subdistrict
from tests.api.matrix import api_client


def test_a_scoped_viewset_refuses_a_class_level_queryset():
    with pytest.raises(ImproperlyConfigured, match="queryset"):

        class LeakyViewSet(ScopedModelViewSet):
            scoped_model = Department
            queryset = Department.objects.all()


def test_a_scoped_viewset_refuses_a_model_without_visible_to():
    with pytest.raises(ImproperlyConfigured, match="visible_to"):

        class HeartbeatViewSet(ScopedReadOnlyViewSet):
            scoped_model = Heartbeat


def test_a_scoped_viewset_keeps_its_scoped_permission():
    with pytest.raises(ImproperlyConfigured, match="ScopedPermission"):

        class OpenViewSet(ScopedReadOnlyViewSet):
            scoped_model = Department
            permission_classes = [IsAuthenticated]


def test_a_serializer_refuses_a_relation_to_a_model_without_visible_to():
    with pytest.raises(ImproperlyConfigured, match="content_type"):

        class AttachmentSerializer(ScopedModelSerializer):
            class Meta:
                model = Attachment
                fields = ["id", "content_type", "object_id"]


def test_a_serializer_may_declare_such_a_relation_itself():
    class AttachmentSerializer(ScopedModelSerializer):
        content_type = serializers.PrimaryKeyRelatedField(read_only=True)

        class Meta:
            model = Attachment
            fields = ["id", "content_type", "object_id"]

    assert AttachmentSerializer().fields["content_type"].read_only


def test_a_serializer_refuses_nested_depth():
    with pytest.raises(ImproperlyConfigured, match="depth"):

        class NestedSerializer(ScopedModelSerializer):
            class Meta:
                model = Department
                fields = ["id", "community"]
                depth = 1


def test_built_relations_are_scoped_related_fields():
    class DepartmentSerializer(ScopedModelSerializer):
        class Meta:
            model = Department
            fields = ["id", "name", "level", "community", "subdistrict"]

    fields = DepartmentSerializer().fields
    assert isinstance(fields["community"], ScopedRelatedField)
    assert isinstance(fields["subdistrict"], ScopedRelatedField)
    # Without a request there is nobody to scope for, so no choices at all.
    assert not fields["community"].get_queryset().exists()


def test_a_filterset_refuses_a_choice_filter_on_a_model_without_visible_to():
    with pytest.raises(ImproperlyConfigured, match="content_type"):

        class AttachmentFilterSet(ScopedFilterSet):
            content_type = django_filters.ModelChoiceFilter(queryset=ContentType.objects.all())

            class Meta:
                model = Attachment
                fields = ["content_type"]


@pytest.mark.django_db
def test_a_duplicate_department_is_a_400_not_a_server_error(staff, community):
    Department.objects.create(name="调解室", level=DepartmentLevel.COMMUNITY, community=community)
    response = api_client(staff).post(
        reverse("api:department-list"),
        {"name": "调解室", "level": "community", "community": community.pk},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert Department.objects.filter(name="调解室").count() == 1


@pytest.mark.parametrize("route", ["api:community-list", "api:subdistrict-list"])
def test_a_method_an_endpoint_does_not_have_is_405_for_staff_too(route, staff, community):
    """Staff may write, but a read-only endpoint has no POST: 405 (Method Not Allowed), not 403,
    and nothing is created."""
    before = (Community.objects.count(), Subdistrict.objects.count())
    response = api_client(staff).post(reverse(route), {"name": "x"}, content_type="application/json")
    assert response.status_code == 405, response.content
    assert (Community.objects.count(), Subdistrict.objects.count()) == before
