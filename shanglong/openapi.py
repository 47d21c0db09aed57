"""The API's OpenAPI contract beyond what drf-spectacular infers (`DEFAULT_SCHEMA_CLASS`).

`ShanglongAutoSchema` adds, once for every operation, the error answers it can give, each with
the one `Error` component (the body every refusal and every DRF error has):

| status | documented on                                                                    |
|--------|----------------------------------------------------------------------------------|
| 400    | every write (an action may refuse: `ActionRefused`), and reads with query        |
|        | parameters (filters, `page`)                                                     |
| 401    | every operation that needs a login or a token                                    |
| 403    | every write (`NotAllowed`, the scope's write rule, a token creating tokens)      |
| 404    | detail routes (`{id}`) and paginated lists (a page past the end)                 |
| 409    | writes to an existing record (PUT, PATCH, DELETE, POST on `{id}`): `Conflict`    |
| 413    | operations with a request body (over `DATA_UPLOAD_MAX_MEMORY_SIZE`)              |
| 415    | operations with a request body (in a media type the operation does not read)    |
| 429    | every throttled operation                                                        |

A status an operation declares itself keeps its description but gets the `Error` schema, so
there is one error schema in the whole contract.

It also says that a read-only choice field may be blank when its model field may be (DRF drops
`allow_blank` from read-only fields, so the enum would forbid the "" the API returns).

Kept apart from `shanglong.api` because DRF imports the schema class from its settings.
"""

from __future__ import annotations

import copy
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from shanglong.refusals import NotAllowed

ERROR_COMPONENT = "Error"

# The one error body: {"detail", "code"} for refusals and DRF's other errors, {field: [messages]}
# (or {"non_field_errors": [...]}) for invalid input; nested serializers nest their messages.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "Every error answer: `detail` (the message, in the caller's language) with a stable `code` "
        "for refusals, and the messages of each invalid field under its name "
        "(`non_field_errors` for the input as a whole)."
    ),
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, for a person to read."},
        "code": {
            "description": (
                "A stable code (refused, not_allowed, conflict, too_large...), or the messages "
                "about an input field named `code`."
            ),
            "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
        },
        "non_field_errors": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": {
        "description": "The messages about one field (nested for nested input).",
        "anyOf": [
            {"type": "array", "items": {}},
            {"type": "object", "additionalProperties": {}},
        ],
    },
}

ERROR_DESCRIPTIONS = {
    "400": _("The input is invalid or the action is refused; nothing was changed."),
    "401": _("No login or API token, or the token is invalid, expired or revoked."),
    "403": NotAllowed.message,
    "404": _("Not found in what you may see (or a page past the end)."),
    "409": _("The record is not as you saw it (changed meanwhile, or already done); nothing was changed."),
    "413": _("The request body is over the size limit; nothing was changed."),
    "415": _("The request body is of a media type this operation does not read; nothing was changed."),
    "429": _("Too many requests; wait and retry (see Retry-After)."),
}

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ShanglongAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema with the error answers of every operation and blank-able
    read-only choices (see the module's docstring)."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        for status_code in self.error_statuses(operation):
            declared = responses.get(status_code, {})
            responses[status_code] = {
                "description": declared.get("description") or str(ERROR_DESCRIPTIONS[status_code]),
                "content": {"application/json": {"schema": self.error_component().ref}},
            }
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def error_component(self) -> ResolvedComponent:
        component = ResolvedComponent(
            name=ERROR_COMPONENT, type=ResolvedComponent.SCHEMA, object=ERROR_COMPONENT, schema=ERROR_SCHEMA
        )
        self.registry.register_on_missing(component)
        return component

    def error_statuses(self, operation: dict[str, Any]) -> list[str]:
        """The error statuses this operation can answer with (the table of the module's docstring),
        together with any 4xx it declares itself."""
        writes = self.method in WRITE_METHODS
        has_body = "requestBody" in operation
        has_query = any(parameter.get("in") == "query" for parameter in operation.get("parameters", ()))
        on_record = any(parameter.get("in") == "path" for parameter in operation.get("parameters", ()))
        statuses = {code for code in operation.get("responses", {}) if code.startswith("4")}
        if has_body or has_query or writes:
            statuses.add("400")
        if has_body:
            statuses |= {"413", "415"}
        if self._needs_authentication():
            statuses.add("401")
        if writes:
            statuses.add("403")
        if on_record or (self._is_list_view() and self._get_paginator() is not None):
            statuses.add("404")
        if writes and on_record:
            statuses.add("409")
        if self.view.throttle_classes or getattr(self.view, "throttle_scope", None):
            statuses.add("429")
        return sorted(statuses)

    def _needs_authentication(self) -> bool:
        return any(not isinstance(permission, AllowAny) for permission in self.view.get_permissions())

    def _map_serializer_field(self, field: Any, direction: str, bypass_extensions: bool = False) -> Any:
        if isinstance(field, serializers.ChoiceField) and field.read_only and not field.allow_blank:
            model_field = _model_field(field)
            if isinstance(model_field, models.CharField | models.TextField) and model_field.blank:
                field = copy.copy(field)
                field.allow_blank = True
        return super()._map_serializer_field(field, direction, bypass_extensions)


def _model_field(field: serializers.Field) -> models.Field | None:
    """The model field a ModelSerializer field was built from (a plain `source`), if any."""
    parent = field.parent
    model = getattr(getattr(parent, "Meta", None), "model", None)
    if model is None or not field.source or "." in field.source or field.source == "*":
        return None
    try:
        model_field = model._meta.get_field(field.source)
    except FieldDoesNotExist:
        return None
    return model_field if isinstance(model_field, models.Field) else None
