from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _

# psycopg keeps 100 prepared statements a connection; the daily pages of all roles run about 180
# distinct queries (bench/page_cost.py's paths), so at 100 a worker evicts the plans it needs
# next. A cached plan of a scoped query holds about 140 kB in its PostgreSQL backend.
PREPARED_STATEMENTS_PER_CONNECTION = 256


def keep_more_prepared_statements(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "postgresql" and hasattr(connection.connection, "prepared_max"):
        connection.connection.prepared_max = PREPARED_STATEMENTS_PER_CONNECTION


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
        connection_created.connect(keep_more_prepared_statements, dispatch_uid="shanglong.prepared_statements")
