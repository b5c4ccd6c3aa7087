"""Celery tasks of the programmes app."""

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
    return send_mail(subject, body, None, recipients)
