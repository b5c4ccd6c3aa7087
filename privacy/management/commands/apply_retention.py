"""Apply the retention rules now, or with --dry-run list what they would remove."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from privacy.retention import retention_apply

REASONS = {
    "closed_referrals": "referral closed longer ago than the retention period",
    "withdrawn_referrals": "referral withdrawn longer ago than the retention period",
    "retired_volunteers": "volunteer retired longer ago than the retention period",
    "unconfirmed_applications": "application whose e-mail address was never confirmed",
    "applications_not_taken_in": "application not taken in, last step longer ago than the "
    "retention period",
}
# Removed outright rather than anonymised.
DELETED = ("unconfirmed_applications", "applications_not_taken_in")


class Command(BaseCommand):
    help = (
        "Anonymise referrals and erase volunteers whose retention period is over, and delete "
        "old applications to volunteer and sign-in records."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would go and change nothing."
        )

    def handle(self, *args, dry_run, **options):
        due = retention_apply(timezone.now(), dry_run=dry_run)
        if dry_run:
            for name, ids in due.ids().items():
                for pk in ids:
                    self.stdout.write(f"{name} {pk}: {REASONS[name]}")
        verb = "Would anonymise" if dry_run else "Anonymised"
        ids = due.ids()
        counts = ", ".join(f"{len(ids[name])} {name}" for name in ids if name not in DELETED)
        self.stdout.write(f"{verb}: {counts}.")
        verb = "Would delete" if dry_run else "Deleted"
        counts = ", ".join(f"{len(ids[name])} {name}" for name in DELETED)
        self.stdout.write(f"{verb}: {counts}.")
        days = settings.LOGIN_RECORD_DAYS
        self.stdout.write(f"{verb}: {due.login_records} sign-in records older than {days} days.")
