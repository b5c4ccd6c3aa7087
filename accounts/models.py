"""What accounts own beyond Django's users: the API tokens integrations sign in with."""

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from programmes.models import CrisisCentre


def api_token_expiry() -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=settings.API_TOKEN_DAYS)


class ApiToken(models.Model):
    """A bearer token for an integration, such as a crisis centre's case system.

    A token acts for one user and only as staff of one crisis centre (never as a coordinator or
    volunteer, even if the user is one too), with a read or write scope. Only a SHA-256 of the
    token is stored; ``manage.py create_api_token`` shows the token once. It stops working
    ``API_TOKEN_DAYS`` after it is made.
    """

    class Scope(models.TextChoices):
        READ = "read", _("Read only")
        WRITE = "write", _("Read and write")

    name = models.CharField(_("name"), max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    crisis_centre = models.ForeignKey(
        CrisisCentre,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("crisis centre"),
    )
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices)
    key_hash = models.CharField(_("SHA-256 of the token"), max_length=64, unique=True)
    prefix = models.CharField(_("first characters"), max_length=12)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), default=api_token_expiry)

    class Meta:
        # Made in programmes, before accounts had models; the table kept its name.
        db_table = "programmes_apitoken"
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
