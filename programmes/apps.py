from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core import database_roles


class ProgrammesConfig(AppConfig):
    name = "programmes"
    verbose_name = _("Programmes and referrals")

    def ready(self) -> None:
        from programmes.audit import audited_models_register

        audited_models_register()
        database_roles.register(self)
