"""Forms of the login pages. They check the shape of what is typed; whether a code is right is
for the services, whose errors are put back on the field."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from programmes.forms import ServiceErrorsMixin

CODE_ATTRS = {
    "autocomplete": "one-time-code",
    "inputmode": "numeric",
    "pattern": "[0-9 ]*",
    "size": 8,
    "maxlength": 8,
    "autofocus": True,
}
RECOVERY_ATTRS = {
    "autocomplete": "off",
    "autocapitalize": "none",
    "spellcheck": "false",
    "size": 12,
}


class PortalForm(ServiceErrorsMixin, forms.Form):
    """The portal's error summary and status code conventions."""


class LoginForm(AuthenticationForm):
    """Django's login form, with the attributes password managers look for."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update(autocomplete="username", autofocus=True)
        self.fields["password"].widget.attrs.update(autocomplete="current-password")

    @property
    def has_any_errors(self) -> bool:
        return bool(self.errors)


class TotpCodeForm(PortalForm):
    code = forms.CharField(
        label=_("Code from your authenticator app"),
        help_text=_("6 digits. The app shows a new code every 30 seconds."),
        max_length=8,
        widget=forms.TextInput(attrs=CODE_ATTRS),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if not (code.isdigit() and len(code) == 6):
            raise ValidationError(_("Type the 6 digits your authenticator app shows."))
        return code


class RecoveryCodeForm(PortalForm):
    recovery_code = forms.CharField(
        label=_("Recovery code"),
        help_text=_(
            "One of the codes you saved when you set up two-factor login, e.g. abcde-23456."
        ),
        max_length=20,
        widget=forms.TextInput(attrs=RECOVERY_ATTRS),
    )
