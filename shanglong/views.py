from __future__ import annotations

import datetime
import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseServerError,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.template import loader
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from shanglong import dashboard, media, roles
from shanglong.actions import record_access
from shanglong.form_tokens import creates_once, form_created
from shanglong.forms import AccountCreateForm, AuditLogFilterForm, CalendarDayForm, ThrottledLoginForm
from shanglong.models import (
    AUDITED_ACTIONS,
    AccessAction,
    AccessLog,
    CalendarDay,
    CalendarDayKind,
    Heartbeat,
    Notification,
    User,
)
from shanglong.roles import Viewer

# --- Authentication ------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    form_class = ThrottledLoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        record_access(action=AccessAction.LOGIN, request=self.request, user=form.get_user())
        return response

    def get_default_redirect_url(self) -> str:
        return start_page_url(self.request.user)


class LogoutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            record_access(action=AccessAction.LOGOUT, request=request)
        return super().post(request, *args, **kwargs)


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change.html"

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        record_access(action=AccessAction.PASSWORD_CHANGE, request=self.request)
        messages.success(self.request, _("Your password has been changed."))
        return response

    def get_success_url(self) -> str:
        return reverse("home")


def start_page_url(user: Viewer) -> str:
    return reverse(roles.START_PAGES.get(getattr(user, "role", ""), "home"))


# --- Start page ----------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    """Every role's start page: the widgets registered for the viewer's role."""
    target = start_page_url(request.user)
    if target != reverse("home"):
        return redirect(target)
    return render(request, "shanglong/home.html", {"widgets": dashboard.widgets_for(request)})


# --- Accounts ------------------------------------------------------------------------------


def account_list(request: HttpRequest) -> HttpResponse:
    """People in the viewer's scope, and a form to create an account (staff only)."""
    if not roles.can_manage_accounts(request.user):
        raise PermissionDenied
    query = (request.GET.get("q") or "").strip()
    people = (
        User.objects.visible_to(request.user)
        .select_related("community", "department")
        .order_by("community__code", "role", "username")
    )
    if query:
        people = people.filter(Q(username__icontains=query) | Q(full_name__icontains=query))
    page = Paginator(people, 50).get_page(request.GET.get("page"))
    return render(request, "shanglong/account_list.html", {"page": page, "query": query})


@creates_once
def account_create(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated or not roles.can_manage_accounts(request.user):
        raise PermissionDenied
    form = AccountCreateForm(request.POST or None, creator=request.user)
    if request.method == "POST" and form.is_valid():
        person = form.save()
        form_created(request, person)
        messages.success(request, _("Account %(username)s was created.") % {"username": person.username})
        return redirect("account_list")
    return render(request, "shanglong/account_form.html", {"form": form})


# --- Audit ---------------------------------------------------------------------------------


def audit_log(request: HttpRequest) -> HttpResponse:
    """The community's audit administrator reviews who revealed masked data and who exported
    (and the logins), filtered by person, subject and days, newest first.

    Only the audit administrator opens it, not the community admin: under 三员分立 (等保 level 3)
    the administrator who reveals, exports and manages accounts must not be the one who audits
    those acts, or they would review their own trail. The rows are their community's people's
    (AccessLog.objects.visible_to); the break-glass superuser reads them all, as in the Django
    admin; anyone else gets 403."""
    if not roles.can_read_access_log(request.user):
        raise PermissionDenied
    form = AuditLogFilterForm(request.GET or None, auditor=request.user)
    rows = AccessLog.objects.visible_to(request.user).select_related("user")
    kind = ""
    if form.is_valid():
        kind = form.cleaned_data["kind"]
        if form.cleaned_data["person"] is not None:
            rows = rows.filter(user=form.cleaned_data["person"])
        if form.cleaned_data["subject"]:
            rows = rows.filter(target__icontains=form.cleaned_data["subject"].strip())
        if form.cleaned_data["since"]:
            rows = rows.filter(at__gte=_local_midnight(form.cleaned_data["since"]))
        if form.cleaned_data["until"]:
            rows = rows.filter(at__lt=_local_midnight(form.cleaned_data["until"] + datetime.timedelta(days=1)))
    elif form.is_bound:
        rows = rows.none()
    rows = (
        rows.filter(action__in=AUDITED_ACTIONS[kind])
        if kind
        else rows.filter(action__in=[*AUDITED_ACTIONS["reveals"], *AUDITED_ACTIONS["exports"]])
    )
    page = Paginator(rows.order_by("-at", "-pk"), 50).get_page(request.GET.get("page"))
    return render(request, "shanglong/audit_log.html", {"form": form, "page": page})


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


# --- Notifications -------------------------------------------------------------------------


def notification_list(request: HttpRequest) -> HttpResponse:
    notifications = Notification.objects.visible_to(request.user).only(
        "pk", "title", "body", "url", "created_at", "read_at", "kind"
    )
    page = Paginator(notifications, 30).get_page(request.GET.get("page"))
    return render(request, "shanglong/notification_list.html", {"page": page})


@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(Notification.objects.visible_to(request.user), pk=pk)
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
    if notification.url and request.POST.get("follow"):
        return redirect(notification.url)
    return redirect("notification_list")


@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    Notification.objects.visible_to(request.user).unread().update(read_at=timezone.now())
    messages.success(request, _("All messages are marked as read."))
    return redirect("notification_list")


# --- Files ---------------------------------------------------------------------------------


@require_GET
def serve_attachment(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The only way to a stored file: 404 unless the viewer may see the record it belongs to."""
    attachment = media.visible_attachment(request.user, pk)
    if attachment is None:
        raise Http404
    response = FileResponse(
        attachment.file.open("rb"),
        content_type=attachment.content_type_header,
        as_attachment=not attachment.is_image and request.GET.get("inline") != "1",
        filename=attachment.original_name,
    )
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- Health --------------------------------------------------------------------------------


def _check_database() -> dict[str, Any]:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any failure to answer is "down"
        return {"ok": False, "error": error.__class__.__name__}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


def _check_broker() -> dict[str, Any]:
    url = settings.CELERY_BROKER_URL
    started = time.monotonic()
    if url.startswith("filesystem://"):
        folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]
        import os

        ok = os.path.isdir(folder) and os.access(folder, os.W_OK)
        return {"ok": ok, "kind": "filesystem"}
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as error:
        return {"ok": False, "kind": "redis", "error": error.__class__.__name__}
    return {"ok": True, "kind": "redis", "ms": round((time.monotonic() - started) * 1000, 1)}


def _check_scheduler(database_ok: bool) -> dict[str, Any]:
    if not database_ok:
        return {"ok": False}
    try:
        beat = Heartbeat.objects.filter(name="beat").values_list("at", flat=True).first()
    except Exception as error:
        return {"ok": False, "error": error.__class__.__name__}
    if beat is None:
        return {"ok": False, "last_tick": None}
    age = (timezone.now() - beat).total_seconds()
    # Late after three missed ticks (and never stricter than three minutes).
    return {"ok": age < max(180, 3 * settings.HEARTBEAT_INTERVAL), "last_tick": beat.isoformat(), "age_s": round(age)}


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 while the database answers (the broker and scheduler are reported, not required)."""
    database = _check_database()
    broker = _check_broker()
    scheduler = _check_scheduler(database["ok"])
    status = 200 if database["ok"] else 503
    body = {"status": "ok" if status == 200 else "down", "database": database, "broker": broker, "scheduler": scheduler}
    return JsonResponse(body, status=status)


# --- Error pages ---------------------------------------------------------------------------


@login_not_required
def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


@login_not_required
def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


@login_not_required
def error_500(request: HttpRequest) -> HttpResponse:
    # Rendered without the request, so no context processor runs: whatever broke (the database,
    # the session store) must not break the error page as well.
    return HttpResponseServerError(loader.render_to_string("500.html"))


# --- Working-day calendar ------------------------------------------------------------------
# (Kept together here: the page, its form and its two writes.)

CALENDAR_YEARS = range(2000, 2101)


def _calendar_year(value: str | None) -> int:
    try:
        year = int(value or "")
    except ValueError:
        return timezone.localdate().year
    return year if year in CALENDAR_YEARS else timezone.localdate().year


def _render_calendar(request: HttpRequest, year: int, form: CalendarDayForm | None) -> HttpResponse:
    days = list(CalendarDay.objects.filter(date__year=year).order_by("date"))
    editable = roles.can_edit_calendar(request.user)
    if editable and form is None:
        form = CalendarDayForm()
    context = {
        "year": year,
        "days": days,
        "holiday_count": sum(1 for day in days if day.kind == CalendarDayKind.HOLIDAY),
        "makeup_count": sum(1 for day in days if day.kind == CalendarDayKind.MAKEUP_WORKDAY),
        "previous_year": year - 1 if year - 1 in CALENDAR_YEARS else None,
        "next_year": year + 1 if year + 1 in CALENDAR_YEARS else None,
        "can_edit": editable,
        "form": form if editable else None,
    }
    return render(request, "shanglong/calendar.html", context)


@require_GET
def calendar(request: HttpRequest) -> HttpResponse:
    """The working-day calendar of a year: the public holidays that fall on weekdays and the
    weekend days that are worked. Everyone may read it; the community admin keeps it."""
    return _render_calendar(request, _calendar_year(request.GET.get("year")), None)


@require_POST
@creates_once
def calendar_add(request: HttpRequest) -> HttpResponse:
    if not roles.can_edit_calendar(request.user):
        raise PermissionDenied
    form = CalendarDayForm(request.POST)
    if not form.is_valid():
        day = form.cleaned_data.get("date")
        year = day.year if day and day.year in CALENDAR_YEARS else _calendar_year(request.POST.get("year"))
        return _render_calendar(request, year, form)
    day = form.save()
    form_created(request, day)
    messages.success(
        request,
        _("%(date)s was added to the calendar as %(kind)s.")
        % {"date": date_format(day.date, "DATE_FORMAT"), "kind": day.get_kind_display()},
    )
    # To the new row, so the person sees what they added.
    return redirect(f"{reverse('calendar')}?year={day.date.year}#day-{day.date:%Y-%m-%d}")


@require_POST
def calendar_remove(request: HttpRequest, pk: int) -> HttpResponse:
    if not roles.can_edit_calendar(request.user):
        raise PermissionDenied
    day = get_object_or_404(CalendarDay, pk=pk)
    year = day.date.year
    label = date_format(day.date, "DATE_FORMAT")
    day.delete()
    messages.success(request, _("%(date)s was removed from the calendar.") % {"date": label})
    return redirect(f"{reverse('calendar')}?year={year}")
