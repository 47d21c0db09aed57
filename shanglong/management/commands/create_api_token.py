"""Issue an API token for a person and print its key (the only time it is shown)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shanglong.actions import record_access
from shanglong.models import API_TOKEN_DEFAULT_DAYS, API_TOKEN_MAX_DAYS, AccessAction, ApiToken, User


class Command(BaseCommand):
    help = "Create an API token for a user and print its key once (send it as 'Authorization: Bearer <key>')."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--days",
            type=int,
            default=API_TOKEN_DEFAULT_DAYS,
            help=f"days until the token expires (1 to {API_TOKEN_MAX_DAYS}, default {API_TOKEN_DEFAULT_DAYS})",
        )
        parser.add_argument("--name", default="command line", help="what the token is for")

    def handle(self, *args: Any, username: str, days: int, name: str, **options: Any) -> None:
        if not 1 <= days <= API_TOKEN_MAX_DAYS:
            raise CommandError(f"--days must be between 1 and {API_TOKEN_MAX_DAYS}.")
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist as error:
            raise CommandError(f"There is no user {username!r}.") from error
        if not user.is_active:
            raise CommandError(f"The account {username!r} is disabled.")
        token, key = ApiToken.objects.issue(user=user, name=name[:100], days=days)
        record_access(
            action=AccessAction.TOKEN_CREATED,
            user=user,
            target=f"api-token:{token.prefix}",
            detail="manage.py create_api_token",
        )
        self.stderr.write(f"Token {token.prefix} for {username}, valid until {token.expires_at:%Y-%m-%d %H:%M %Z}.")
        self.stdout.write(key)
