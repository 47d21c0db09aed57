from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, SetPasswordMixin
from django.core.exceptions import ValidationError
from django.forms.utils import ErrorList
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shanglong import media, roles
from shanglong.actions import client_ip, record_access
from shanglong.models import AccessAction, AccessLog, CalendarDay, CalendarDayKind, Community, Department, User
from shanglong.roles import Role, Viewer
from shanglong.validators import validate_latitude, validate_longitude, validate_optional_mobile
from shanglong.workdays import is_weekend

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Positions are kept to six decimals of a degree (about 10 cm), as the models' columns.
POSITION_STEP = Decimal("0.000001")


class ThrottledLoginForm(AuthenticationForm):
    """Login that makes a person wait after too many failures for one account or one address."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("The username or password is not right. Please try again."),
        "throttled": _(
            "Too many failed logins for this account or from this address. Please wait %(minutes)d minutes "
            "and try again, or ask community staff to help."
        ),
    }

    def clean(self) -> dict[str, Any]:
        username = (self.cleaned_data.get("username") or "").strip()
        ip = client_ip(self.request)
        window = datetime.timedelta(minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES)
        if (
            username
            and AccessLog.objects.failed_logins_since(timezone.now() - window, username=username, ip=ip)
            >= settings.LOGIN_FAILURE_LIMIT
        ):
            record_access(action=AccessAction.LOGIN_BLOCKED, request=self.request, username=username)
            raise ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"minutes": settings.LOGIN_FAILURE_WINDOW_MINUTES},
            )
        try:
            return super().clean()
        except ValidationError:
            record_access(action=AccessAction.LOGIN_FAILED, request=self.request, username=username)
            raise


FILE_CHOOSE_AGAIN = _("The file you chose was not saved: choose it again before sending.")
PHOTOS_CHOOSE_AGAIN = _("The photos you chose were not saved: choose them again before sending.")


class ChooseAgainBoundField(forms.BoundField):
    """A browser cannot refill a file input, so a form shown again with errors after a file was
    sent says plainly, under the file field, that it must be chosen again (the field's
    `choose_again`)."""

    @property
    def errors(self) -> ErrorList:
        errors = super().errors
        if self.form.is_bound and self.form.errors and self.data:
            message = str(self.field.choose_again)  # type: ignore[attr-defined]
            errors = self.form.error_class([*errors, message], renderer=self.form.renderer)
        return errors


class AttachmentField(forms.FileField):
    """A file field that runs the shared upload checks (type, size) while the form validates;
    shown again after an error, it says that the file must be chosen again."""

    bound_field_class = ChooseAgainBoundField
    choose_again = FILE_CHOOSE_AGAIN

    def __init__(self, *args: Any, images_only: bool = False, **kwargs: Any) -> None:
        self.images_only = images_only
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        uploaded = super().clean(data, initial)
        if uploaded:
            media.prepare_upload(uploaded, images_only=self.images_only)
            uploaded.seek(0)
        return uploaded

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        if self.images_only:
            attrs["accept"] = "image/jpeg,image/png,image/webp"
        return attrs


class MultiplePhotoInput(forms.FileInput):
    allow_multiple_selected = True


class PhotosField(AttachmentField):
    """Photos chosen at once (never required, 基层减负): at most `max_count`, each through the
    shared upload checks (type, size; the location in the photo's EXIF is dropped when it is
    stored). The API checks its uploads through the same field (shanglong.api.checked_photos)."""

    widget = MultiplePhotoInput
    choose_again = PHOTOS_CHOOSE_AGAIN

    def __init__(self, *, max_count: int = media.MAX_PHOTOS_AT_ONCE, **kwargs: Any) -> None:
        self.max_count = max_count
        kwargs.setdefault("required", False)
        super().__init__(images_only=True, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = [upload for upload in (data if isinstance(data, list | tuple) else [data]) if upload]
        if len(files) > self.max_count:
            raise forms.ValidationError(
                _("Choose at most %(count)d photos."), code="too_many", params={"count": self.max_count}
            )
        return [super(PhotosField, self).clean(upload, initial) for upload in files]


def rounded_position(value: Decimal | None) -> Decimal | None:
    """A coordinate as stored: phones give more decimals than the six (10 cm) kept."""
    return None if value is None else value.quantize(POSITION_STEP)


class PositionFields(forms.Form):
    """A position the person chose to add (the "add my position" button fills these; never
    required). More decimals than kept are accepted, then rounded; half a position is none."""

    latitude = forms.DecimalField(required=False, validators=[validate_latitude], widget=forms.HiddenInput)
    longitude = forms.DecimalField(required=False, validators=[validate_longitude], widget=forms.HiddenInput)

    def clean_latitude(self) -> Decimal | None:
        return rounded_position(self.cleaned_data.get("latitude"))

    def clean_longitude(self) -> Decimal | None:
        return rounded_position(self.cleaned_data.get("longitude"))

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if (cleaned.get("latitude") is None) != (cleaned.get("longitude") is None):
            cleaned["latitude"] = cleaned["longitude"] = None  # half a position is no position
        return cleaned


def grantable_roles(creator: User) -> list[tuple[str, StrOrPromise]]:
    """The roles a person may give to an account they create."""
    if creator.is_superuser:
        allowed = set(Role.values)
    elif roles.is_subdistrict_staff(creator):
        allowed = {Role.SUBDISTRICT_STAFF, Role.COMMUNITY_ADMIN, Role.STAFF, Role.DEPARTMENT}
    elif roles.is_community_admin(creator):
        allowed = {Role.COMMUNITY_ADMIN, Role.STAFF, Role.GRID_WORKER, Role.MERCHANT, Role.VOLUNTEER, Role.DEPARTMENT}
    elif roles.is_community_staff(creator):
        allowed = {Role.GRID_WORKER, Role.MERCHANT, Role.VOLUNTEER, Role.DEPARTMENT}
    else:
        allowed = set()
    return [(value, label) for value, label in Role.choices if value in allowed]


class AccountCreateForm(SetPasswordMixin, forms.ModelForm):
    """Staff create accounts; nobody signs up for a staff role on their own."""

    password1, password2 = SetPasswordMixin.create_password_fields(label1=_("Initial password"))

    class Meta:
        model = User
        fields = ["username", "full_name", "role", "community", "department", "mobile", "email"]

    def __init__(self, *args: Any, creator: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.creator = creator
        cast(forms.ChoiceField, self.fields["role"]).choices = grantable_roles(creator)
        cast(forms.ModelChoiceField, self.fields["community"]).queryset = Community.objects.visible_to(creator)
        self.fields["community"].required = not roles.is_subdistrict_staff(creator)
        cast(forms.ModelChoiceField, self.fields["department"]).queryset = Department.objects.visible_to(creator)
        if roles.is_community_staff(creator):
            self.fields["community"].initial = creator.community_id

    def clean_mobile(self) -> str:
        # Kept as the 11 digits that were checked ("139 1234 5678" is stored 13912345678).
        return validate_optional_mobile(self.cleaned_data.get("mobile"))

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        self.validate_passwords()
        role = cleaned.get("role")
        if role == Role.DEPARTMENT and not cleaned.get("department"):
            self.add_error("department", _("A department liaison needs a department."))
        if role != Role.SUBDISTRICT_STAFF and not cleaned.get("community"):
            self.add_error("community", _("Choose the community this person works in."))
        return cleaned

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]  # Django's documented hook is private, so not in the stubs
        self.validate_password_for_user(self.instance)

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        user = self.set_password_and_save(user, commit=False)
        community = self.cleaned_data.get("community")
        user.subdistrict = community.subdistrict if community else self.creator.subdistrict
        if commit:
            user.save()
        return user


class CalendarDayForm(forms.ModelForm):
    """One exception to the Monday-to-Friday rule: a holiday on a weekday or a worked weekend day."""

    class Meta:
        model = CalendarDay
        fields = ["date", "kind", "name"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        help_texts = {"name": _("The holiday it belongs to, such as 国庆节.")}

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        day, kind = cleaned.get("date"), cleaned.get("kind")
        if day and kind == CalendarDayKind.HOLIDAY and is_weekend(day):
            self.add_error(
                "date",
                _("%(date)s is a Saturday or Sunday, a day off anyway. Enter only the weekdays of a holiday.")
                % {"date": day.isoformat()},
            )
        elif day and kind == CalendarDayKind.MAKEUP_WORKDAY and not is_weekend(day):
            self.add_error(
                "date",
                _("%(date)s is a weekday. A make-up working day is a Saturday or Sunday that is worked.")
                % {"date": day.isoformat()},
            )
        return cleaned

    def validate_unique(self) -> None:
        day = self.cleaned_data.get("date")
        existing = CalendarDay.objects.filter(date=day).first() if day else None
        if day and existing is not None:
            self.add_error(
                "date",
                _("%(date)s is already in the calendar (%(kind)s). Remove it first to change it.")
                % {"date": day.isoformat(), "kind": existing.get_kind_display()},
            )


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.display_name} ({obj.username})"


class AuditLogFilterForm(forms.Form):
    """The audit page's filters: what kind of row, whose, about what, between which days.
    The people offered are those whose rows the auditor may read (AccessLog.visible_to)."""

    KINDS = (
        ("", _("Reveals and exports")),
        ("reveals", _("Reveals")),
        ("exports", _("Exports")),
        ("logins", _("Logins")),
    )

    kind = forms.ChoiceField(label=_("What"), choices=KINDS, required=False)
    person = PersonChoiceField(label=_("Person"), queryset=User.objects.none(), required=False)
    subject = forms.CharField(
        label=_("Record concerned"), max_length=100, required=False, help_text=_("For example resident:12.")
    )
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, auditor: Viewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        community_id = getattr(auditor, "community_id", None)
        if getattr(auditor, "is_superuser", False):
            people = User.objects.all()
        elif community_id:
            people = User.objects.filter(community_id=community_id)
        else:
            people = User.objects.none()
        cast(PersonChoiceField, self.fields["person"]).queryset = people.order_by("username")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", _("The last day cannot be before the first."))
        return cleaned
