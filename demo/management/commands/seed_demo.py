"""Build a synthetic, nationwide demo dataset (see demo/builder.py for what it holds)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import ProtectedError

from demo import builder
from demo.guard import DemoRefusedInProduction, demo_refuse_in_production


class Command(BaseCommand):
    help = (
        "Create demo crisis centres, programme sites, volunteers and referrals for both "
        "programmes. Does nothing if demo data exists, unless --reset is given. Refused when "
        "KOBLING_ENV=production."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1, help="Same seed, same rows.")
        parser.add_argument(
            "--scale",
            type=int,
            default=1,
            choices=range(1, 21),
            metavar="1-20",
            help=(
                "Multiply the volunteers and referrals (600 and 150) by this, e.g. 10 for a load "
                "test; centres, sites and logins stay the same."
            ),
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help=(
                "Delete the demo data and everything built on it (referrals and volunteers of the "
                "demo centres, their match runs and matches), then rebuild."
            ),
        )

    def handle(self, *args, seed: int, scale: int, reset: bool, **options):
        try:
            demo_refuse_in_production()
        except DemoRefusedInProduction as error:
            raise CommandError(str(error)) from error
        if builder.demo_exists() and not reset:
            self.stdout.write("Demo data already exists; nothing changed. Use --reset to rebuild.")
            return
        summary = self.rebuild(seed, scale)
        self.report(summary, seed)

    # One transaction: a rebuild that fails leaves the previous demo data in place.
    @transaction.atomic
    def rebuild(self, seed: int, scale: int) -> builder.DemoSummary:
        if builder.demo_exists():
            self.delete_demo()
        try:
            return builder.demo_build(seed, scale)
        except builder.GeodataMissing as error:
            raise CommandError(
                "Geodata is not loaded: run `python manage.py load_geodata` first."
            ) from error
        except LookupError as error:
            raise CommandError(str(error)) from error

    def delete_demo(self) -> None:
        try:
            builder.demo_delete()
        except ProtectedError as error:
            raise CommandError(
                f"Cannot delete the demo data: other rows still refer to it ({error.args[0]}). "
                "The access log is append-only and keeps its users; start from an empty "
                "database instead (scripts/demo --reset does that for the SQLite demo)."
            ) from error
        self.stdout.write("Deleted the previous demo data.")

    def report(self, summary: builder.DemoSummary, seed: int) -> None:
        referrals = ", ".join(f"{n} {status}" for status, n in summary.referrals_by_status.items())
        self.stdout.write(
            f"Created {summary.centres} crisis centres, {summary.sites} programme sites, "
            f"{summary.volunteers} volunteers ({summary.active_volunteers} active), "
            f"{sum(summary.referrals_by_status.values())} referrals ({referrals}), "
            f"{summary.users} users (seed {seed})."
        )
        history = ", ".join(f"{n} {status}" for status, n in summary.history.by_status.items())
        proposed = sum(run.proposals_made for run in summary.runs)
        unmatched = sum(run.unmatched_count for run in summary.runs)
        self.stdout.write(
            f"A year of history: {summary.history.matches} matches ({history}), "
            f"{summary.history.check_ins_answered} check-ins answered. Today's match runs at the "
            f"first centre: {proposed} referrals proposed, {unmatched} without a volunteer."
        )
        self.stdout.write(f"\nDemo logins (password for all: {builder.DEMO_PASSWORD}):")
        for role, username, note in summary.logins:
            self.stdout.write(f"  {role:<16} {username:<24} ({note})")
        self.stdout.write(
            "  Every centre has its own: koordinator-<town> and krisesenter-<town>, "
            "e.g. koordinator-tromso."
        )
        self.stdout.write(
            "Staff also need a two-factor code: add the demo secret "
            f"{builder.DEMO_TOTP_SECRET} to an authenticator app, or run `KOBLING_ENV=demo "
            ".venv/bin/python manage.py demo_totp USERNAME` for the current code."
        )
