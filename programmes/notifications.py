"""E-mail to the people of a referral. Messages name a participant by alias only: no address,
no free-text notes, nothing that identifies the person. Mail is queued only after the
transaction commits, so a rolled-back change never sends anything; if the broker is down it
waits in the outbox (outbox/services.py) and goes out when the broker is back."""

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from outbox.services import task_send_after_commit
from programmes.models import Referral
from programmes.tasks import send_email_task


def email_after_commit(users, subject: str, body: str) -> None:
    """One message per recipient: nobody sees who else was told, nor their address."""
    for address in sorted({user.email for user in users if user.email}):
        task_send_after_commit(send_email_task, [address], subject, body)


def link_to(view_name: str, *args) -> str:
    """An absolute address for an e-mail, under SITE_URL."""
    return settings.SITE_URL + reverse(view_name, args=args)


def notify_coordinators_of_new_referral(referral: Referral) -> None:
    site = referral.site
    email_after_commit(
        site.coordinators.all(),
        _("New referral to %(programme)s") % {"programme": site.programme},
        _(
            "%(centre)s has referred %(alias)s (%(municipality)s) to %(programme)s.\n"
            "Review it in Kobling: %(link)s"
        )
        % {
            "centre": site.crisis_centre,
            "alias": referral.alias,
            "municipality": referral.municipality.name,
            "programme": site.programme,
            "link": link_to("dashboard"),
        },
    )
