"""Celery tasks of the programmes app."""

import re
import smtplib

from celery import shared_task
from django.core.mail import send_mail


@shared_task(
    name="kobling.send_email",
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    max_retries=6,
)
def send_email_task(recipients: list[str], subject: str, body: str) -> int:
    return send_mail(one_line(subject), body, None, recipients)


# Line breaks (also Unicode's), tabs and other control characters.
HEADER_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def one_line(header: str) -> str:
    """A header value on one line: a line break in it would refuse the message (Django's
    BadHeaderError) or, elsewhere, start a header of its own."""
    return HEADER_BREAKS.sub(" ", header).strip()
