"""The back office's user admin, changed so that deactivating a user (unticking "active" or the
list action) goes through user_deactivate and so ends their sessions and API tokens."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.accounts.services import user_deactivate

User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class KoblingUserAdmin(UserAdmin):
    list_display = (*UserAdmin.list_display, "is_active", "two_factor")
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
