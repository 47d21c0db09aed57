"""Masking of personal data for display: identity numbers and phone numbers."""

from __future__ import annotations


def mask_id_number(value: str | None) -> str:
    """370***********1234: the first three and the last four characters stay."""
    if not value:
        return ""
    value = value.strip()
    if len(value) <= 7:
        return "*" * len(value)
    return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"


def mask_phone(value: str | None) -> str:
    """138****5678: the first three and the last four digits stay."""
    if not value:
        return ""
    value = value.strip()
    if len(value) <= 7:
        return "*" * len(value)
    return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"
