from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GridsConfig(AppConfig):
    """Organisation and grid work: party organisations, grids, who is on duty, compounds."""

    name = "grids"
    verbose_name = _("Organisation and grids")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from grids import api, widgets
        from shanglong import roles

        widgets.register()
        api.register()
        # The grid worker starts the day on My day (read at request time by shanglong.views).
        roles.START_PAGES[roles.Role.GRID_WORKER] = "grids:my_day"
