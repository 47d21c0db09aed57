"""Uniqueness rules that speak to people: the one home of every "already taken" message.

A `UniqueConstraint` here is Django's, with two additions that stay out of the migrations (its
deconstruction is Django's own class, so the database and the migration files do not change
when a message does):

- its violation is an error of one field, `error_field` (the code or the name a person chose,
  not the community it belongs to), so pages show it next to that field and the API under it;
- its message may name the row's values: `%(code)s`, `%(community)s`, any of `fields`.

Pages get the check from ModelForm (which validates constraints), the API from
`shanglong.api.run_model_clean`; neither writes its own duplicate query. Conditional constraints
and NULLs behave as in the database: a row whose fields hold a NULL never collides.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, models


class UniqueConstraint(models.UniqueConstraint):
    """A database uniqueness rule whose violation names the field a person should change."""

    def __init__(self, *expressions: Any, error_field: str, **kwargs: Any) -> None:
        super().__init__(*expressions, **kwargs)
        self.error_field = error_field

    def deconstruct(self) -> tuple[str, Sequence[Any], dict[str, Any]]:
        _path, args, kwargs = super().deconstruct()
        return "django.db.models.UniqueConstraint", args, kwargs

    def clone(self) -> UniqueConstraint:
        _path, args, kwargs = self.deconstruct()
        return type(self)(*args, error_field=self.error_field, **kwargs)

    def get_violation_error_message(self) -> str:
        # Formatted with the row's values in validate(): Django's own formatting knows only %(name)s.
        return str(self.violation_error_message)

    def validate(
        self, model: type[models.Model], instance: models.Model, exclude: Any = None, using: str = DEFAULT_DB_ALIAS
    ) -> None:
        try:
            super().validate(model, instance, exclude=exclude, using=using)
        except ValidationError as violation:
            values = {name: getattr(instance, name) for name in self.fields}
            error = ValidationError(
                self.violation_error_message or self.default_violation_error_message,
                code=self.violation_error_code or "unique",
                params=values,
            )
            raise ValidationError({self.error_field: error}) from violation
