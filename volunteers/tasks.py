"""Celery tasks of the volunteers app: thin shells around the services."""

from celery import shared_task
from django.utils import timezone

from volunteers.applications import applications_remind_untouched


@shared_task(name="volunteers.applications_remind_untouched")
def applications_remind_untouched_task() -> int:
    return applications_remind_untouched(timezone.now())
