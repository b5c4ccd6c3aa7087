from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CaseworkConfig(AppConfig):
    """The coordinators' and crisis centres' casework pages, which read across programmes,
    volunteers and matching: one referral's story, one volunteer's page, the lists and exports."""

    name = "casework"
    verbose_name = _("Casework")
