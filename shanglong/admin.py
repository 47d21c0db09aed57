from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from shanglong.models import (
    AccessLog,
    ApiToken,
    Attachment,
    CalendarDay,
    Community,
    Department,
    Notification,
    Subdistrict,
    User,
)


@admin.register(Subdistrict)
class SubdistrictAdmin(SimpleHistoryAdmin):
    list_display = ["name", "district", "code", "area_code"]
    search_fields = ["name", "code", "area_code"]


@admin.register(Community)
class CommunityAdmin(SimpleHistoryAdmin):
    list_display = ["name", "subdistrict", "code", "area_code", "area_km2"]
    search_fields = ["name", "code", "area_code"]
    list_filter = ["subdistrict"]


@admin.register(Department)
class DepartmentAdmin(SimpleHistoryAdmin):
    list_display = ["name", "level", "subdistrict", "community", "contact", "phone"]
    list_filter = ["level"]


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    list_display = ["username", "full_name", "role", "community", "department", "is_active"]
    list_filter = ["role", "community", "is_active", "is_superuser"]
    search_fields = ["username", "full_name"]
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        (_("Portal"), {"fields": ("role", "full_name", "mobile", "subdistrict", "community", "department")}),
    )


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    """Read-only: the access log cannot be edited or deleted from the application."""

    list_display = ["at", "username", "action", "target", "ip"]
    list_filter = ["action"]
    search_fields = ["username", "target", "ip"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "recipient", "kind", "title", "read_at", "delivered_at"]
    list_filter = ["kind"]
    raw_id_fields = ["recipient"]


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ["uploaded_at", "original_name", "content_type", "object_id", "size"]
    raw_id_fields = ["uploaded_by"]


@admin.register(CalendarDay)
class CalendarDayAdmin(SimpleHistoryAdmin):
    list_display = ["date", "kind", "name"]
    list_filter = ["kind"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Read-mostly: tokens are issued by their owner (API or create_api_token, which show the
    key once); here they can only be looked at and revoked."""

    list_display = ["prefix", "name", "user", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["prefix", "name", "user__username"]
    raw_id_fields = ["user"]
    readonly_fields = ["user", "name", "prefix", "key_hash", "created_at", "expires_at", "last_used_at", "revoked_at"]
    actions = ["revoke_tokens"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke_tokens(self, request: HttpRequest, queryset: Any) -> None:
        revoked = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, _("%(count)d tokens revoked.") % {"count": revoked})
