"""Validators for the community's identifiers: mainland mobile numbers (more in later issues)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


def normalise_mobile(value: str) -> str:
    """Strip spaces, dashes and a +86 / 0086 prefix."""
    digits = re.sub(r"[\s\-]", "", value or "")
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    return digits


def validate_mobile(value: str) -> None:
    """A mainland mobile number: 11 digits starting 13-19."""
    if not _MOBILE_RE.match(normalise_mobile(value)):
        raise ValidationError(
            _("Enter a mainland mobile number of 11 digits starting with 1, such as 13812345678."),
            code="invalid_mobile",
        )
