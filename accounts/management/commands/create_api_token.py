"""Make an API token for an integration and print it once; only its SHA-256 is kept."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.api_tokens import api_token_create
from accounts.models import ApiToken
from programmes.models import CrisisCentre


class Command(BaseCommand):
    help = (
        "Create an API token acting for USERNAME as staff of one crisis centre. The token is "
        "printed once and cannot be shown again; revoke it with revoke_api_token."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--crisis-centre", required=True, help="The crisis centre's name.")
        parser.add_argument("--scope", choices=ApiToken.Scope.values, default=ApiToken.Scope.READ)
        parser.add_argument("--name", required=True, help="Which integration uses it.")

    def handle(self, *args, username, crisis_centre, scope, name, **options):
        user = get_user_model().objects.filter(username=username).first()
        centre = CrisisCentre.objects.filter(name=crisis_centre).first()
        if user is None or centre is None:
            raise CommandError("Unknown user or crisis centre.")
        try:
            token, raw = api_token_create(user=user, crisis_centre=centre, scope=scope, name=name)
        except (PermissionDenied, ValidationError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Token {token.prefix}… ({token.scope}) for {user} at {centre}:")
        self.stdout.write(raw)
        self.stdout.write("Store it now: Kobling keeps only its hash and cannot show it again.")
        self.stdout.write(f"It stops working on {token.expires_at:%Y-%m-%d}.")
