"""The rows the production smoke test (tests/deploy/test_production_smoke.py) starts from,
written by ``python -m tests.deploy.smoke_world`` into a database that `scripts/serve release`
migrated, under the smoke test's production settings (so passwords are hashed as production
hashes them). Prints what the test needs as JSON: ids, logins, each staff user's authenticator
key (hex), from which the test computes the codes an authenticator app would show, and an API
token for the centre's system.

One coordinator coordinates three Ressursvenn sites, each at a crisis centre of its own:
- ``journey``: one volunteer who fits the referral the test submits through the API; the
  centre's staff member logs in and records consent.
- ``killed``: one waiting referral and a volunteer who fits it, for the run whose worker the
  test kills.
- ``long_wait``: one referral waiting for 60 days and no volunteer, for the daily task that
  flags long waits (and e-mails the coordinator).
"""

import datetime
import io
import json
import os
import sys

PASSWORD = "kobling-smoke-test"
LONG_WAIT_DAYS = 60


def build() -> dict:
    # Imported here: Django is set up first (main).
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.matching.factories import publish_terms, ready_volunteer, waiting_referral
    from tests.programmes.factories import (
        CrisisCentreFactory,
        ProgrammeSiteFactory,
        UserFactory,
        programme,
    )

    ressursvenn = programme("ressursvenn")
    publish_terms("ressursvenn")
    coordinator = UserFactory(
        username="koordinator-smoke", email="koordinator@smoke.invalid", password=PASSWORD
    )
    staff = UserFactory(
        username="krisesenter-smoke", email="krisesenter@smoke.invalid", password=PASSWORD
    )
    sites = {}
    for key, town in (("journey", "Sentrum"), ("killed", "Vest"), ("long_wait", "Nord")):
        centre = CrisisCentreFactory(name=f"Krisesenteret {town}", staff=[staff])
        sites[key] = ProgrammeSiteFactory(
            programme=ressursvenn, crisis_centre=centre, coordinators=[coordinator]
        )
    volunteer = ready_volunteer(
        organisation=sites["journey"].organisation,
        capacity=1,
        user=UserFactory(username="frivillig-smoke", password=PASSWORD),
    )
    ready_volunteer(organisation=sites["killed"].organisation, capacity=1)
    now = timezone.now()
    killed = waiting_referral(
        sites["killed"], languages=["ar"], waiting_since=now, consent_recorded_by=staff
    )
    long_wait = waiting_referral(
        sites["long_wait"],
        languages=["ar"],
        waiting_since=now - datetime.timedelta(days=LONG_WAIT_DAYS),
        consent_recorded_by=staff,
    )
    keys = {
        user.username: TOTPDevice.objects.create(user=user, name="Smoke", confirmed=True).key
        for user in (coordinator, staff)
    }
    return {
        "password": PASSWORD,
        "coordinator": {"username": coordinator.username, "totp_key": keys[coordinator.username]},
        "staff": {"username": staff.username, "totp_key": keys[staff.username]},
        "volunteer": {"username": volunteer.user.username},
        "centre": sites["journey"].crisis_centre.name,
        "sites": {key: site.pk for key, site in sites.items()},
        "referrals": {
            "killed": killed.pk,
            "long_wait": {"id": long_wait.pk, "alias": long_wait.alias},
        },
    }


def main() -> None:
    """The geodata (as an operator loads it once), the rows, and an API token for the centre's
    system as `manage.py create_api_token` prints it."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    call_command("load_geodata", stdout=io.StringIO())
    with transaction.atomic():
        world = build()
    said = io.StringIO()
    call_command(
        "create_api_token",
        world["staff"]["username"],
        "--crisis-centre",
        world["centre"],
        "--scope",
        "write",
        "--name",
        "Fagsystem (smoke test)",
        stdout=said,
    )
    world["token"] = said.getvalue().splitlines()[1]
    json.dump(world, sys.stdout)


if __name__ == "__main__":
    main()
