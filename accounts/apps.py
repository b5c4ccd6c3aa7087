import axes.apps
import django_otp.plugins.otp_static.apps as otp_static
import django_otp.plugins.otp_totp.apps as otp_totp
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    label = "accounts"
    verbose_name = _("Accounts and API access")

    def ready(self) -> None:
        from accounts import signals  # noqa: F401  (connects the receivers)


# The back office names these packages' apps by their labels ("Axes", "Otp_Totp") and django-otp's
# models by untranslated names ("TOTP devices"); the same apps under names a staff member knows,
# in both languages. Installed in their place (config/settings.py). Renaming in ready() leaves
# the models' migration state alone: that is read from their Meta as written.
class LoginAttemptsConfig(axes.apps.AppConfig):
    verbose_name = _("Login attempts")


def _rename_model(config: AppConfig, model_name: str, singular, plural) -> None:
    options = config.get_model(model_name)._meta
    options.verbose_name, options.verbose_name_plural = singular, plural


class AuthenticatorAppsConfig(otp_totp.DefaultConfig):
    verbose_name = _("Authenticator apps")

    def ready(self) -> None:
        super().ready()
        _rename_model(self, "TOTPDevice", _("authenticator app"), _("authenticator apps"))


class RecoveryCodesConfig(otp_static.DefaultConfig):
    verbose_name = _("Recovery codes")

    def ready(self) -> None:
        super().ready()
        _rename_model(self, "StaticDevice", _("set of recovery codes"), _("sets of recovery codes"))
