"""A workflow's timeline in the API: the same steps as templates/includes/timeline.html shows,
for any record's detail serializer (`timeline = TimelineEntrySerializer(source=<its timeline
relation>, many=True, read_only=True)`, with the relation prefetched with `by` and
`attachments`). Kept apart from shanglong.workflow so the models that declare workflows never
import DRF."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from shanglong.models import Attachment


class TimelineAttachmentSerializer(serializers.Serializer):
    """A file attached to a step; `url` is served after a scope check."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="original_name", read_only=True)
    content_type = serializers.CharField(source="content_type_header", read_only=True)
    url = serializers.SerializerMethodField()

    def get_url(self, attachment: Attachment) -> str:
        return reverse("attachment", args=[attachment.pk])


class TimelineEntrySerializer(serializers.Serializer):
    """One step of a record's workflow: the codes (ASCII) with their labels in the caller's
    language, who took it and when, the note and the attachments."""

    id = serializers.IntegerField(read_only=True)
    action = serializers.CharField(read_only=True)
    action_label = serializers.CharField(read_only=True)
    from_status = serializers.CharField(read_only=True)
    from_status_label = serializers.CharField(read_only=True)
    to_status = serializers.CharField(source="status", read_only=True)
    to_status_label = serializers.CharField(source="status_label", read_only=True)
    by = serializers.IntegerField(source="by_id", read_only=True)
    by_name = serializers.CharField(source="by.display_name", read_only=True)
    at = serializers.DateTimeField(read_only=True)
    note = serializers.CharField(read_only=True)
    attachments = TimelineAttachmentSerializer(many=True, read_only=True)
