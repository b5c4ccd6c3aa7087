"""E-mail to the people of a referral. Messages name a participant by alias only: no address,
no free-text notes, nothing that identifies the person. Mail is queued only after the
transaction commits, so a rolled-back change never sends anything; if the broker is down it
waits in the outbox (outbox/services.py) and goes out when the broker is back."""

from django.urls import reverse
from django.utils.translation import gettext as _

from outbox.services import task_send_after_commit
from programmes.models import Referral
from programmes.tasks import send_email_task


def email_after_commit(users, subject: str, body: str) -> None:
    recipients = sorted({user.email for user in users if user.email})
    if recipients:
        task_send_after_commit(send_email_task, recipients, subject, body)


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
