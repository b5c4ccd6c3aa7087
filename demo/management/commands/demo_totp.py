"""Print the current two-factor code of a demo user, so the demo can be tried without a phone."""

from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from demo.guard import DemoRefusedInProduction, demo_refuse_in_production


class Command(BaseCommand):
    help = (
        "Print the current code of USERNAME's authenticator (demo staff share the secret in "
        "demo/builder.py). Refused when KOBLING_ENV=production."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        try:
            demo_refuse_in_production()
        except DemoRefusedInProduction as error:
            raise CommandError(str(error)) from error
        device = TOTPDevice.objects.filter(user__username=username, confirmed=True).first()
        if device is None:
            raise CommandError(f"{username} has no authenticator set up.")
        code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{code:0{device.digits}d}")
