"""Celery tasks of the privacy app."""

from celery import shared_task
from django.utils import timezone

from privacy.retention import retention_apply


# The name predates the privacy app; the beat schedule (config/settings.py) and queued
# messages use it.
@shared_task(name="programmes.retention_apply")
def retention_apply_task() -> dict[str, int]:
    return retention_apply(timezone.now()).counts()
