import logging
import sys

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _

log = logging.getLogger("kobling.config")


class MatchingConfig(AppConfig):
    name = "matching"
    verbose_name = _("Matching")

    def ready(self) -> None:
        if {"runserver", "worker"} & set(sys.argv):
            log.info("Celery mode: %s", settings.CELERY_MODE_DESCRIPTION)
