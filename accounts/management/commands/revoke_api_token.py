"""Revoke an API token by the first characters shown when it was made."""

from django.core.management.base import BaseCommand, CommandError

from accounts.api_tokens import api_token_revoke
from accounts.models import ApiToken


class Command(BaseCommand):
    help = "Revoke the API token whose first characters are PREFIX (as printed at creation)."

    def add_arguments(self, parser):
        parser.add_argument("prefix")

    def handle(self, *args, prefix, **options):
        tokens = list(ApiToken.objects.filter(prefix=prefix, revoked_at__isnull=True))
        if len(tokens) != 1:
            raise CommandError(f"{len(tokens)} live tokens start with {prefix!r}; expected one.")
        api_token_revoke(tokens[0])
        self.stdout.write(f"Revoked {tokens[0]}.")
