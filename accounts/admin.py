"""The back office's user admin, changed so that deactivating a user (unticking "active" or the
list action) goes through user_deactivate and so ends their sessions and API tokens.

Users, groups, second-factor devices and django-axes' login records are for admins only, and
their admin history names each object by id (these admins are registered again with
core.admin's IdsInHistory)."""

from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.services import user_deactivate
from core.admin import IdsInHistory, SuperusersOnly

User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class KoblingUserAdmin(IdsInHistory, SuperusersOnly, UserAdmin):
    # UserAdmin is generic in the stubs; its class attribute is read here, never per instance.
    list_display = (*UserAdmin.list_display, "is_active", "two_factor")  # type: ignore[misc]
    actions = ["deactivate"]

    def get_queryset(self, request):
        confirmed = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).annotate(has_two_factor=Exists(confirmed))

    @admin.display(boolean=True, description=_("two-factor login"), ordering="has_two_factor")
    def two_factor(self, user) -> bool:
        return user.has_two_factor

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            user_deactivate(obj, by=request.user)

    @admin.action(
        description=_("Deactivate the selected users (ends their sessions and API tokens)"),
        permissions=["change"],
    )
    def deactivate(self, request, queryset):
        users = list(queryset.filter(is_active=True))
        for user in users:
            user_deactivate(user, by=request.user)
        message = ngettext(
            "Deactivated %(count)d user.", "Deactivated %(count)d users.", len(users)
        )
        self.message_user(request, message % {"count": len(users)}, messages.SUCCESS)


def _admins_only_with_ids_in_history(model) -> None:
    registered = type(admin.site.get_model_admin(model))
    admin.site.unregister(model)
    admin.site.register(
        model, type(registered.__name__, (IdsInHistory, SuperusersOnly, registered), {})
    )


for _model in (Group, TOTPDevice, StaticDevice, AccessLog, AccessFailureLog):
    _admins_only_with_ids_in_history(_model)

admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class AccessAttemptAdmin(IdsInHistory, SuperusersOnly, axes_admin.AccessAttemptAdmin):
    @admin.action(description=_("Clean up expired attempts"))
    def cleanup_expired_attempts(self, request, queryset):
        # django-axes takes "now" from the request, where only its login handling puts it.
        request.axes_attempt_time = timezone.now()
        return super().cleanup_expired_attempts(request, queryset)
