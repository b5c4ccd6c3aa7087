"""Celery tasks of the programmes app."""

import smtplib

from celery import shared_task
from django.core.mail import send_mail
from django.utils import timezone

from programmes.retention import retention_apply


@shared_task(
    name="kobling.send_email",
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    max_retries=6,
)
def send_email_task(recipients: list[str], subject: str, body: str) -> int:
    return send_mail(subject, body, None, recipients)


@shared_task(name="programmes.retention_apply")
def retention_apply_task() -> dict[str, int]:
    return retention_apply(timezone.now()).counts()
