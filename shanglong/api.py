"""The API's base and the core's endpoints (Django REST Framework under /api/v1/).

The base makes scoping the default, the way `visible_to(user)` is for pages:

- `ScopedModelViewSet` / `ScopedReadOnlyViewSet` (the `ScopedViewSetMixin`): the queryset is
  always `scoped_model.objects.visible_to(request.user)` plus the declared `select_related` /
  `prefetch_related`; a class-level `queryset` is refused. Reads need a login; writes follow
  one rule, the scoped model's own (`can_write`: `objects.writable_by(user)` without a row,
  `objects.editable_by(user)` with one), and a created or updated row must still be in scope
  afterwards.
- `ScopedModelSerializer`: every relation it builds is a `ScopedRelatedField`, whose choices are
  the related model's `visible_to(user)`: pointing at another community's row is a 400.
- `ScopedFilterSet`: filter choices are bounded by the same scope.
- `api_router`: apps register their viewsets here in `AppConfig.ready()`; everything is under
  /api/v1/ in the URL namespace "api" (`reverse("api:department-list")`).

Token authentication lives in `shanglong.api_auth` (see its docstring for why).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, cast

import django_filters
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction
from django.db.models import Prefetch
from django.template import loader
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.filterset import FilterSetMetaclass
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated, PermissionDenied, ValidationError
from rest_framework.filters import BaseFilterBackend
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from shanglong.actions import record_access
from shanglong.forms import AttachmentField, PhotosField
from shanglong.masking import mask_phone
from shanglong.media import MAX_PHOTOS_AT_ONCE
from shanglong.models import (
    API_TOKEN_DEFAULT_DAYS,
    API_TOKEN_MAX_DAYS,
    AccessAction,
    ApiToken,
    Community,
    Department,
    DepartmentLevel,
    Notification,
    NotificationQuerySet,
    Subdistrict,
    User,
)
from shanglong.roles import Viewer
from shanglong.throttling import UserRateThrottle
from shanglong.validators import validate_latitude, validate_longitude

# --- Scoping helpers -----------------------------------------------------------------------


# --- Shared by the apps' endpoints ----------------------------------------------------------


# Registries end by a status or a date and trace records stay: no DELETE.
NO_DELETE = ["get", "post", "put", "patch", "head", "options"]
# Trace records (patrols, visits, attendance, hours...) are only added: no PUT, PATCH or DELETE.
APPEND_ONLY = ["get", "post", "head", "options"]


def as_drf_error(error: DjangoValidationError) -> serializers.ValidationError:
    """A model's ValidationError as a 400, for code outside a serializer's validation (a
    Django ValidationError raised inside validate() or validate_<field>() DRF converts itself)."""
    if hasattr(error, "error_dict"):
        return serializers.ValidationError(
            {field: [str(message) for message in messages] for field, messages in error.message_dict.items()}
        )
    return serializers.ValidationError(error.messages)


def run_model_clean(serializer: serializers.ModelSerializer, attrs: dict[str, Any]) -> None:
    """Run the model's own checks on the row as it would be saved, and keep what clean()
    normalised: clean(), then its unique fields and constraints (whose messages live on them,
    see shanglong.constraints), as a ModelForm does for pages. Many-to-many values are checked,
    not assigned (a row not yet saved has no links): a required one must not be empty.
    Call it from validate(): the errors are a 400 keyed by field."""
    model: type[models.Model] = serializer.Meta.model
    instance = model()
    if serializer.instance is not None:  # a copy: a refused update must not touch the original
        for field in model._meta.concrete_fields:
            setattr(instance, field.attname, getattr(serializer.instance, field.attname))
        instance._state.adding, instance._state.db = False, serializer.instance._state.db
    many_to_many = {field.name: field for field in model._meta.many_to_many}
    errors: dict[str, list[Any]] = {}
    for name, value in attrs.items():
        if name not in many_to_many:
            setattr(instance, name, value)
        elif not value and not many_to_many[name].blank:
            errors[name] = [many_to_many[name].error_messages["blank"]]
    checks: list[Callable[..., None]] = [instance.clean, instance.validate_unique, instance.validate_constraints]
    for check in checks:
        try:
            check() if check == instance.clean else check(exclude=set(errors) | set(many_to_many))
        except DjangoValidationError as error:
            errors = error.update_error_dict(errors)
    if errors:
        non_field = errors.pop(NON_FIELD_ERRORS, [])
        if non_field:
            errors[api_settings.NON_FIELD_ERRORS_KEY] = non_field
        raise DjangoValidationError(errors)
    for name in attrs:
        if name not in many_to_many:
            attrs[name] = getattr(instance, name)


def has_visible_to(model: type[models.Model]) -> bool:
    manager = getattr(model, "objects", None)
    return manager is not None and callable(getattr(manager, "visible_to", None))


def visible_queryset(model: type[models.Model] | None, user: Viewer | None) -> models.QuerySet:
    """The one way the API reads rows: the model's own scoping rule for this person; no rows
    without a person (a serializer used outside a request: the schema generator)."""
    model = _require_visible_to(model, "visible_queryset")
    if user is None:
        return model._default_manager.none()
    return cast(Any, model).objects.visible_to(user)


def _require_visible_to(model: type[models.Model] | None, where: str) -> type[models.Model]:
    if model is None or not has_visible_to(model):
        name = model._meta.label if model is not None else "?"
        raise ImproperlyConfigured(
            f"{where}: {name} has no `objects.visible_to(user)`; the API only offers and reads rows through it."
        )
    return model


def signed_in(request: Request) -> User:
    """The caller of a view that needs a login (IsAuthenticated or ScopedPermission let only a
    person through): typed as the User it is."""
    if not request.user.is_authenticated:
        raise NotAuthenticated
    return request.user


# --- Permissions ---------------------------------------------------------------------------


def _is_read(request: Request, view: Any) -> bool:
    return request.method in SAFE_METHODS or getattr(view, "action", None) in getattr(view, "read_actions", ())


class ScopedPermission(BasePermission):
    """Reads need a login (what is read is bounded by the queryset's scope); writes ask the
    view's `can_write(request, obj)`, first without the row, then with it. The view's
    `read_actions` are reads even when they answer a POST."""

    message = _("You may not change these records.")

    def has_permission(self, request: Request, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if _is_read(request, view):
            return True
        if getattr(view, (request.method or "").lower(), None) is None:
            return True  # a method the endpoint does not have: the view answers 405 for everyone
        return bool(view.can_write(request))

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if _is_read(request, view):
            return True
        return bool(view.can_write(request, obj))


# --- Filters -------------------------------------------------------------------------------

_MODEL_FILTERS = (django_filters.ModelChoiceFilter, django_filters.ModelMultipleChoiceFilter)


def _filter_related_model(
    filterset_class: type[django_filters.FilterSet], model_filter: django_filters.Filter
) -> type[models.Model] | None:
    queryset = getattr(model_filter, "queryset", None)
    if isinstance(queryset, models.QuerySet | models.Manager):
        return queryset.model
    model = filterset_class._meta.model
    related = None
    for part in model_filter.field_name.split("__"):
        if model is None:
            return None
        try:
            related = model._meta.get_field(part).related_model
        except FieldDoesNotExist:
            return None
        model = related
    return related


class ScopedFilterSetMetaclass(FilterSetMetaclass):
    """Checks at class build that every model choice filter points at a model with visible_to,
    and leaves the class-level choices empty: only an instance (which knows the request) has any."""

    def __new__(mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any]) -> type:
        new_class = super().__new__(mcs, name, bases, attrs)
        for filter_name, model_filter in new_class.base_filters.items():
            if isinstance(model_filter, _MODEL_FILTERS):
                model = _require_visible_to(_filter_related_model(new_class, model_filter), f"{name}.{filter_name}")
                model_filter.queryset = model._default_manager.none()
        return new_class


class ScopedFilterSet(django_filters.rest_framework.FilterSet, metaclass=ScopedFilterSetMetaclass):
    """A FilterSet whose ModelChoiceFilter / ModelMultipleChoiceFilter choices are the related
    model's `visible_to(request.user)`: filtering by another community's id is a 400."""

    def __init__(
        self,
        data: Any = None,
        queryset: Any = None,
        *,
        request: Any = None,
        prefix: Any = None,
        all_choices: bool = False,
    ) -> None:
        super().__init__(data, queryset, request=request, prefix=prefix)
        user = getattr(request, "user", None)
        for name, model_filter in self.filters.items():
            if not isinstance(model_filter, _MODEL_FILTERS):
                continue
            # Only a filter the request uses needs its choices: building a scoped queryset costs
            # a few ms even unread, and an absent filter never reads its (empty) queryset.
            # The browsable API's filter form offers them all (all_choices).
            if all_choices or (f"{prefix}-{name}" if prefix else name) in self.data:
                model_filter.queryset = visible_queryset(_filter_related_model(type(self), model_filter), user)


class ScopedFilterBackend(DjangoFilterBackend):
    """django-filter's backend, building `filterset_fields` on ScopedFilterSet and refusing a
    filterset_class that is not one."""

    filterset_base = ScopedFilterSet

    def get_filterset_class(self, view: Any, queryset: Any = None) -> type | None:
        filterset_class = super().get_filterset_class(view, queryset)
        if filterset_class is not None and not issubclass(filterset_class, ScopedFilterSet):
            raise ImproperlyConfigured(
                f"{view.__class__.__name__}.filterset_class must subclass shanglong.api.ScopedFilterSet."
            )
        return filterset_class

    def to_html(self, request: Any, queryset: Any, view: Any) -> str | None:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return None
        filterset = filterset_class(**self.get_filterset_kwargs(request, queryset, view), all_choices=True)
        return loader.get_template(self.template).render({"filter": filterset}, request)


# --- Serializers ---------------------------------------------------------------------------


def request_user(field: serializers.Field) -> Any:
    """The user of the request in a field's (or serializer's) context; None without one."""
    request = field.context.get("request")
    return getattr(request, "user", None)


def refuse_change(serializer: serializers.ModelSerializer, attrs: dict[str, Any], name: str, message: Any) -> None:
    """Refuse (400 on the field) a write that would move a saved row to another `name` (its
    owner, its list...): the field may be given, but only with the value it has."""
    if serializer.instance is not None and name in attrs and attrs[name] != getattr(serializer.instance, name):
        raise serializers.ValidationError({name: [message]})


class ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary-key relation whose choices are `model.objects.visible_to(request.user)`, for
    the request in the serializer's context. Without a request there are no choices."""

    queryset: models.QuerySet | None  # never a manager: see __init__

    def __init__(self, model: type[models.Model] | None = None, **kwargs: Any) -> None:
        queryset = kwargs.pop("queryset", None)
        if model is None and queryset is not None:
            model = queryset.model
        if model is None and not kwargs.get("read_only"):
            raise ImproperlyConfigured("ScopedRelatedField needs model=<the related model>.")
        if model is not None:
            _require_visible_to(model, "ScopedRelatedField")
        self.scoped_model = model
        super().__init__(**kwargs)
        if model is not None and not self.read_only:
            # Never read: get_queryset() decides. It is there for the schema generator and
            # fails closed for any code that reads `.queryset` directly.
            self.queryset = model._default_manager.none()

    def get_queryset(self) -> models.QuerySet:
        request = self.context.get("request")
        return visible_queryset(self.scoped_model, getattr(request, "user", None))


class LatitudeField(serializers.DecimalField):
    """An optional WGS84 latitude, kept to six decimals (about 10 cm) like the models' columns."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(max_digits=9, decimal_places=6, validators=[validate_latitude], **kwargs)


class LongitudeField(serializers.DecimalField):
    """An optional WGS84 longitude, kept to six decimals like the models' columns."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(max_digits=9, decimal_places=6, validators=[validate_longitude], **kwargs)


def checked_photos(uploads: list[Any], *, max_count: int = MAX_PHOTOS_AT_ONCE, field: str = "photos") -> list[Any]:
    """The photos of a multipart request, through the pages' own field (PhotosField: how many,
    and each one's type and size); a refusal is a 400 under `field`."""
    try:
        return PhotosField(max_count=max_count).clean(uploads)
    except DjangoValidationError as error:
        raise ValidationError({field: error.messages}) from error


def checked_image(upload: Any, *, field: str) -> Any:
    """One optional image of a multipart request (a signature...), through the pages' checks."""
    try:
        return AttachmentField(required=False, images_only=True).clean(upload)
    except DjangoValidationError as error:
        raise ValidationError({field: error.messages}) from error


class MaskedPhoneField(serializers.CharField):
    """A phone or mobile number: written in full, always read masked (138****5678)."""

    def to_representation(self, value: Any) -> str:
        return mask_phone(str(value) if value else "")


class ScopedModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose automatically built relations are ScopedRelatedFields. A
    relation to a model without `visible_to` is refused when the class is built, and so are
    nested relations through `depth` (they would show related rows unscoped)."""

    serializer_related_field = ScopedRelatedField

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        meta = getattr(cls, "Meta", None)
        model = getattr(meta, "model", None)
        if model is None:
            return
        if getattr(meta, "depth", 0):
            raise ImproperlyConfigured(f"{cls.__name__}: `depth` is not allowed; nested rows would bypass scoping.")
        for field in _built_relations(cls, meta, model):
            _require_visible_to(field.related_model, f"{cls.__name__}.{field.name}")

    def build_relational_field(self, field_name: str, relation_info: Any) -> tuple[type, dict[str, Any]]:
        field_class, field_kwargs = super().build_relational_field(field_name, relation_info)
        if "slug_field" in field_kwargs:
            raise ImproperlyConfigured(
                f"{type(self).__name__}.{field_name}: relations through to_field are not supported; declare the field."
            )
        field_kwargs.pop("queryset", None)
        field_kwargs["model"] = relation_info.related_model
        return ScopedRelatedField, field_kwargs


def _built_relations(serializer_class: type, meta: Any, model: type[models.Model]) -> Iterable[Any]:
    """The model relations the serializer will build itself (not the declared fields)."""
    declared = set(getattr(serializer_class, "_declared_fields", {}))
    fields = getattr(meta, "fields", None)
    exclude = set(getattr(meta, "exclude", None) or ())
    if fields == serializers.ALL_FIELDS or fields is None:
        candidates = [
            field
            for field in model._meta.get_fields()
            if field.is_relation and not field.auto_created and field.related_model is not None
        ]
        names = None
    else:
        candidates = []
        for name in fields:
            try:
                field = model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            if field.is_relation and field.related_model is not None:
                candidates.append(field)
        names = set(fields)
    for field in candidates:
        name = field.name
        if name in declared or name in exclude or (names is not None and name not in names):
            continue
        yield field


# --- Viewsets ------------------------------------------------------------------------------

if TYPE_CHECKING:
    # What the mixin is always mixed into, so its methods are checked against DRF's.
    _ViewSetBase = viewsets.GenericViewSet
else:
    _ViewSetBase = object


class ScopedViewSetMixin(_ViewSetBase):
    """The base of every API viewset over scoped data.

    Subclasses set `scoped_model` and may set `select_related` and `prefetch_related`; the
    queryset is `scoped_model.objects.visible_to(request.user)` with those (narrow it further
    in `refine_queryset`). A class-level `queryset` is refused so nobody can bypass scoping.
    Writes: `can_write(request, obj=None)`, the scoped model's own rule (see there); a created
    or updated row must still be visible and writable afterwards, or nothing is saved. Actions
    named in `read_actions` answer a POST but write nothing: they are permitted as reads.
    Extra values for `serializer.save()` come from `save_kwargs(creating=...)`.
    """

    scoped_model: ClassVar[type[models.Model] | None] = None
    select_related: ClassVar[tuple[str, ...]] = ()
    prefetch_related: ClassVar[tuple[str | Prefetch, ...]] = ()
    permission_classes: Sequence[type[BasePermission]] = [ScopedPermission]
    filter_backends: Sequence[type[BaseFilterBackend]] = [ScopedFilterBackend]
    read_actions: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if getattr(cls, "queryset", None) is not None:
            raise ImproperlyConfigured(
                f"{cls.__name__}: a class-level `queryset` is not allowed on a scoped viewset; "
                "set `scoped_model` (and select_related / prefetch_related) instead."
            )
        if cls.scoped_model is not None:
            _require_visible_to(cls.scoped_model, cls.__name__)
            manager = cast(Any, cls.scoped_model).objects
            if callable(getattr(manager, "editable_by", None)) and not callable(getattr(manager, "writable_by", None)):
                raise ImproperlyConfigured(
                    f"{cls.__name__}: {cls.scoped_model._meta.label} has editable_by but no writable_by(user), "
                    "the API's create check."
                )
        if not any(issubclass(permission, ScopedPermission) for permission in cls.permission_classes):
            raise ImproperlyConfigured(f"{cls.__name__}.permission_classes must include ScopedPermission.")
        for backend in cls.filter_backends:
            if issubclass(backend, DjangoFilterBackend) and not issubclass(backend, ScopedFilterBackend):
                raise ImproperlyConfigured(f"{cls.__name__}: use ScopedFilterBackend, not {backend.__name__}.")

    def get_queryset(self) -> models.QuerySet:
        if self.scoped_model is None:
            raise ImproperlyConfigured(f"{type(self).__name__} has no scoped_model.")
        queryset = visible_queryset(self.scoped_model, self.request.user)
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        if self.prefetch_related:
            queryset = queryset.prefetch_related(*self.prefetch_related)
        return self.refine_queryset(queryset)

    def refine_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        """Narrow or annotate the scoped queryset (never widen it)."""
        return queryset

    def can_write(self, request: Request, obj: Any = None) -> bool:
        """THE API's write rule, the same for every viewset: the scoped model's. Without a row
        (a create, and every write before its row is looked up): whether the person writes rows
        of this model at all, `objects.writable_by(user)`; with a row: whether it is among
        `objects.editable_by(user)`. A model without editable_by is not written through the API."""
        manager: Any = getattr(self.scoped_model, "objects", None)
        if not callable(getattr(manager, "editable_by", None)):
            return False
        if obj is None:
            return bool(manager.writable_by(request.user))
        return manager.editable_by(request.user).filter(pk=obj.pk).exists()

    def save_kwargs(self, *, creating: bool) -> dict[str, Any]:
        """Values the view sets on save (who created it, ...), not taken from the payload."""
        return {}

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        self.save_in_scope(serializer, **self.save_kwargs(creating=True))

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        self.save_in_scope(serializer, **self.save_kwargs(creating=False))

    def save_in_scope(self, serializer: serializers.BaseSerializer, **kwargs: Any) -> Any:
        """Save, then check the row is (still) the writer's to see and write; else roll back."""
        with transaction.atomic():
            instance = serializer.save(**kwargs)
            self.check_written_in_scope(instance)
        return instance

    def check_written_in_scope(self, instance: models.Model) -> None:
        # One query: is the written row still in the writer's scope?
        visible = visible_queryset(self.scoped_model, self.request.user).filter(pk=instance.pk).exists()
        if not visible or not self.can_write(self.request, instance):
            message = _("You may not write a record outside your scope.")
            raise ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [message]})


class ScopedModelViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    """List, retrieve, create, update and delete rows of `scoped_model` within the viewer's scope."""

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """DRF's update, except that a PATCH that sets nothing (an empty body, or only fields
        that cannot be written) saves nothing, so it writes no history row either."""
        if not kwargs.get("partial"):
            return super().update(request, *args, **kwargs)
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data:
            self.perform_update(serializer)
            if getattr(instance, "_prefetched_objects_cache", None):
                instance._prefetched_objects_cache = {}
        return Response(serializer.data)


class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """List and retrieve rows of `scoped_model` within the viewer's scope."""


class ScopedRouter(DefaultRouter):
    """A DefaultRouter that names routes after `scoped_model` (scoped viewsets have no
    queryset) and refuses registrations once its URLs were built."""

    def get_default_basename(self, viewset: Any) -> str:
        model = getattr(viewset, "scoped_model", None)
        if model is not None:
            return model._meta.model_name
        return super().get_default_basename(viewset)

    def register(self, prefix: str, viewset: Any, basename: str | None = None) -> None:
        if hasattr(self, "_urls"):
            raise ImproperlyConfigured(
                f"API route {prefix!r} registered after the URLs were built: register in AppConfig.ready()."
            )
        super().register(prefix, viewset, basename)


api_router = ScopedRouter()


# --- OpenAPI -------------------------------------------------------------------------------


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "shanglong.api_auth.BearerTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "<prefix>.<secret>",
            "description": str(_("An API token from POST /api/v1/tokens/ or `manage.py create_api_token`.")),
        }


class ApiSchemaView(SpectacularAPIView):
    """The OpenAPI 3 schema, for people who are logged in or hold a token (anonymous: 401)."""

    permission_classes = [IsAuthenticated]


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI from the vendored sidecar files, with its start script served as a file so
    the page works under the Content-Security-Policy. A page: anonymous visitors go to login."""

    permission_classes = [IsAuthenticated]
    template_name = "shanglong/api_docs.html"
    url_name = "api-schema"

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        view: Any = super().as_view(**initkwargs)
        # DRF exempts its views from LoginRequiredMiddleware; this one is a page like the others.
        view.login_required = True
        return view


# --- Core serializers ----------------------------------------------------------------------


class NamedRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class MeSerializer(ScopedModelSerializer):
    community = NamedRefSerializer(read_only=True, allow_null=True)
    subdistrict = NamedRefSerializer(read_only=True, allow_null=True)
    department = NamedRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = User
        fields = ["id", "username", "full_name", "role", "community", "subdistrict", "department"]
        read_only_fields = fields


class SubdistrictSerializer(ScopedModelSerializer):
    class Meta:
        model = Subdistrict
        fields = ["id", "name", "district", "code", "area_code"]


class CommunitySerializer(ScopedModelSerializer):
    class Meta:
        model = Community
        fields = [
            "id",
            "subdistrict",
            "name",
            "code",
            "area_code",
            "area_km2",
            "center_latitude",
            "center_longitude",
            "boundary",
        ]


class DepartmentSerializer(ScopedModelSerializer):
    phone = MaskedPhoneField(max_length=32, required=False, allow_blank=True)

    class Meta:
        model = Department
        fields = ["id", "name", "level", "subdistrict", "community", "contact", "phone"]
        extra_kwargs = {"subdistrict": {"required": False}, "community": {"required": False}}
        validators: list[Any] = []  # one name per place: the constraints, through run_model_clean

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """A department hangs at the level it says: a community's has its community only, a
        subdistrict's its subdistrict only, a district's neither."""
        current = {
            name: attrs.get(name, getattr(self.instance, name, None)) for name in ("level", "subdistrict", "community")
        }
        level = current["level"]
        if level == DepartmentLevel.COMMUNITY:
            if current["community"] is None:
                raise ValidationError({"community": _("A community department needs its community.")})
            current["subdistrict"] = None
        elif level == DepartmentLevel.SUBDISTRICT:
            if current["subdistrict"] is None:
                raise ValidationError({"subdistrict": _("A subdistrict department needs its subdistrict.")})
            current["community"] = None
        else:
            current["subdistrict"] = current["community"] = None
        attrs["subdistrict"], attrs["community"] = current["subdistrict"], current["community"]
        # One name per place: the constraints of each kind of place say so (NULLs are distinct).
        run_model_clean(self, attrs)
        return super().validate(attrs)


class NotificationSerializer(ScopedModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "created_at", "read_at"]
        read_only_fields = fields


class ApiTokenSerializer(ScopedModelSerializer):
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at", "is_active"]
        read_only_fields = fields


class ApiTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text=_("What the token is for, e.g. the app's name."))
    days = serializers.IntegerField(
        min_value=1,
        max_value=API_TOKEN_MAX_DAYS,
        default=API_TOKEN_DEFAULT_DAYS,
        help_text=_("Days until the token expires (1 to 365, 90 by default)."),
    )


class ApiTokenIssuedSerializer(ApiTokenSerializer):
    key = serializers.CharField(
        read_only=True, help_text=_("The full key, shown only in this response: send it as 'Bearer <key>'.")
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]
        read_only_fields = fields


# --- Core endpoints ------------------------------------------------------------------------


class MeView(APIView):
    """The person calling: who they are and where they belong."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        # One query: the caller with their community, subdistrict and department. It is their
        # own row, so no visible_to is needed.
        person = User.objects.select_related("community", "subdistrict", "department").get(pk=signed_in(request).pk)
        return Response(MeSerializer(person, context={"request": request}).data)


class SubdistrictViewSet(ScopedReadOnlyViewSet):
    """Subdistricts the caller works in (subdistrict staff and community workers: their own)."""

    scoped_model = Subdistrict
    serializer_class = SubdistrictSerializer
    filterset_fields = ["code", "area_code"]


class CommunityViewSet(ScopedReadOnlyViewSet):
    """Communities the caller works for: their own, or every community of their subdistrict."""

    scoped_model = Community
    serializer_class = CommunitySerializer
    filterset_fields = ["subdistrict", "code", "area_code"]


class DepartmentViewSet(ScopedModelViewSet):
    """The shared directory of departments; community staff keep their own community's."""

    scoped_model = Department
    serializer_class = DepartmentSerializer
    filterset_fields = ["level", "subdistrict", "community"]
    # Departments are referred to by cases and accounts: they are not deleted through the API.
    http_method_names = ["get", "post", "put", "patch", "head", "options"]


class NotificationFilterSet(ScopedFilterSet):
    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull", label=_("Unread only"))

    class Meta:
        model = Notification
        fields = ["kind"]


class NotificationViewSet(ScopedReadOnlyViewSet):
    """The caller's own inbox. Marking as read is the only write, and it is their own."""

    scoped_model = Notification
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilterSet

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        notification = self.get_object()
        if notification.read_at is None:
            notification.read_at = timezone.now()
            Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
        return Response(self.get_serializer(notification).data)

    @extend_schema(
        request=None,
        responses=inline_serializer("NotificationsReadAll", {"marked": serializers.IntegerField()}),
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        marked = cast(NotificationQuerySet, self.get_queryset()).unread().update(read_at=timezone.now())
        return Response({"marked": marked})


class ApiTokenCreateThrottle(UserRateThrottle):  # fails open, like every API limit
    scope = "api_token_create"


class ApiTokenViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """The caller's own API tokens: list, create (from a logged-in session; the key is shown
    once), revoke."""

    scoped_model = ApiToken
    serializer_class = ApiTokenSerializer

    def get_throttles(self) -> list[Any]:
        throttles = super().get_throttles()
        if self.action == "create":
            throttles.append(ApiTokenCreateThrottle())
        return throttles

    @extend_schema(request=ApiTokenCreateSerializer, responses={201: ApiTokenIssuedSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not isinstance(request.successful_authenticator, SessionAuthentication):
            # A leaked token must not be able to mint fresh ones.
            raise PermissionDenied(_("API tokens are created from a logged-in session, not with a token."))
        form = ApiTokenCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        token, key = ApiToken.objects.issue(
            user=signed_in(request), name=form.validated_data["name"], days=form.validated_data["days"]
        )
        token.key = key
        record_access(action=AccessAction.TOKEN_CREATED, request=request, target=f"api-token:{token.prefix}")
        return Response(ApiTokenIssuedSerializer(token, context=self.get_serializer_context()).data, status=201)

    @extend_schema(request=None, responses=ApiTokenSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        token = self.get_object()
        token.revoke()
        record_access(action=AccessAction.TOKEN_REVOKED, request=request, target=f"api-token:{token.prefix}")
        return Response(self.get_serializer(token).data, status=status.HTTP_200_OK)


api_router.register("subdistricts", SubdistrictViewSet)
api_router.register("communities", CommunityViewSet)
api_router.register("departments", DepartmentViewSet)
api_router.register("notifications", NotificationViewSet)
api_router.register("tokens", ApiTokenViewSet)
