"""E-mail to the people of a referral. Messages name a participant by alias only: no address,
no free-text notes, nothing that identifies the person. Mail is queued only after the
transaction commits, so a rolled-back change never sends anything."""

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from programmes.models import Referral
from programmes.tasks import send_email_task


def email_after_commit(users, subject: str, body: str) -> None:
    recipients = sorted({user.email for user in users if user.email})
    if recipients:
        transaction.on_commit(lambda: send_email_task.delay(recipients, subject, body))


def notify_coordinators_of_new_referral(referral: Referral) -> None:
    site = referral.site
    email_after_commit(
        site.coordinators.all(),
        _("New referral to %(programme)s") % {"programme": site.programme},
        _(
            "%(centre)s has referred %(alias)s (%(municipality)s) to %(programme)s.\n"
            "Review it in Kobling: %(path)s"
        )
        % {
            "centre": site.crisis_centre,
            "alias": referral.alias,
            "municipality": referral.municipality.name,
            "programme": site.programme,
            "path": reverse("home"),
        },
    )
