from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShanglongConfig(AppConfig):
    """The core: tenancy, people, access log, media, notifications, shared helpers."""

    name = "shanglong"
    verbose_name = _("Platform")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from shanglong import context_processors, widgets  # noqa: F401 (its log-in receiver)
        from shanglong.validators import refuse_control_characters_in_text_inputs

        widgets.register()
        refuse_control_characters_in_text_inputs()
