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


# The back office names these packages' apps by their labels ("Axes", "Otp_Totp"); the same apps
# under names a staff member knows. Installed in their place (config/settings.py).
class LoginAttemptsConfig(axes.apps.AppConfig):
    verbose_name = _("Login attempts")


class AuthenticatorAppsConfig(otp_totp.DefaultConfig):
    verbose_name = _("Authenticator apps")


class RecoveryCodesConfig(otp_static.DefaultConfig):
    verbose_name = _("Recovery codes")
