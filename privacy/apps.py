from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    """Access reports, erasure and retention across programmes, volunteers and matching."""

    name = "privacy"
    label = "privacy"
    verbose_name = _("Privacy")
