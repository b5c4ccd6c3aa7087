"""Deactivate a user: no more logins, and their sessions and API tokens end at once."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.services import user_deactivate


class Command(BaseCommand):
    help = "Deactivate USERNAME, ending all their sessions and revoking their API tokens."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username}.")
        user_deactivate(user)
        self.stdout.write(f"Deactivated {username}; their sessions and API tokens have ended.")
