"""The admin, autodiscovering every app's admin module except django-leaflet's.

leaflet.admin imports GeoDjango, which needs GDAL; we use only Leaflet's template tags and
files, so its admin module is never imported.
"""

from __future__ import annotations

from importlib import import_module

from django.apps import apps
from django.contrib.admin.apps import SimpleAdminConfig
from django.utils.module_loading import module_has_submodule

_SKIPPED = frozenset({"leaflet"})


class PortalAdminConfig(SimpleAdminConfig):
    def ready(self) -> None:
        super().ready()
        for app_config in apps.get_app_configs():
            if app_config.name in _SKIPPED:
                continue
            if module_has_submodule(app_config.module, "admin"):
                import_module(f"{app_config.name}.admin")
