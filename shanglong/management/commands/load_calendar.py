"""Load the official holidays and make-up working days into the working-day calendar.

Idempotent: run it after each year's State Council notice is added to
shanglong/data/calendar_cn.json; days entered by hand for other dates stay as they are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from shanglong.workdays import OFFICIAL_CALENDAR_FILE, load_official_calendar


class Command(BaseCommand):
    help = "Load the official public holidays and make-up working days (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, default=OFFICIAL_CALENDAR_FILE, help="The calendar JSON file.")

    def handle(self, *args: Any, **options: Any) -> None:
        count = load_official_calendar(options["file"])
        self.stdout.write(self.style.SUCCESS(f"Working-day calendar: {count} official days loaded."))
