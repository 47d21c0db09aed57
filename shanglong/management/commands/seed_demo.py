"""Load the demo data set: every installed app's `demo.seed(context)`, in app order.

Idempotent: running it again changes nothing.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.module_loading import module_has_submodule

from shanglong.demo import DEMO_PASSWORD, DEMO_USERS
from shanglong.roles import Role


class Command(BaseCommand):
    help = "Load the Shanglong demo data (idempotent) and print the demo logins."

    def handle(self, *args: Any, **options: Any) -> None:
        context: dict[str, Any] = {}
        with transaction.atomic():
            for app_config in apps.get_app_configs():
                if app_config.name.startswith(("django.", "rest_framework", "drf_", "django_")):
                    continue
                if module_has_submodule(app_config.module, "demo"):
                    import_module(f"{app_config.name}.demo").seed(context)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Demo logins (password for all: {DEMO_PASSWORD}):"))
        for username, full_name, role, superuser, _department in DEMO_USERS:
            extra = " + superuser" if superuser else ""
            self.stdout.write(f"  {username:<18} {full_name}  {Role(role).label}{extra}")
        for username, full_name, role in context.get("extra_logins", []):
            self.stdout.write(f"  {username:<18} {full_name}  {Role(role).label}")
