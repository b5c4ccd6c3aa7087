"""Back-office answers to privacy requests, for admins (superusers) only: a participant's access
report and erasure, asked for through the crisis centre, and volunteers' deletion requests.
The deletion-request admin lives here; the referral admin, registered by the app that owns it,
is registered again with the participant's actions added."""

import json

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.admin import KoblingAdmin, ReadOnlyAdminMixin
from privacy.participants import participant_access_report
from privacy.retention import referral_anonymise
from privacy.volunteers import volunteer_deletion_decline, volunteer_erase
from programmes.models import Referral
from volunteers.models import VolunteerDeletionRequest


def _only_superusers(request) -> bool:
    return request.user.is_active and request.user.is_superuser


def _json_download(data: dict, filename: str) -> HttpResponse:
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    add_never_cache_headers(response)
    return response


def _confirmation(model_admin, request, queryset, *, action: str, title: str, explanation: str):
    """Django's pattern for a dangerous action: the same action posted again with ``confirmed``."""
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "explanation": explanation,
        "queryset": queryset,
        "opts": queryset.model._meta,
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/privacy_erase_confirmation.html", context)


def _erase_each(model_admin, request, targets, service, **kwargs) -> None:
    for target in targets:
        label = str(target)
        try:
            service(target, **kwargs)
        except ValidationError as error:
            model_admin.message_user(request, f"{label}: {error.messages[0]}", messages.ERROR)
        else:
            model_admin.message_user(request, _("%s: personal data erased.") % label)


def _confirmed(request) -> bool:
    return request.POST.get("confirmed") == "yes"


class ParticipantPrivacyActions:
    """For the referral admin: a participant's access report and erasure, for superusers."""

    def has_privacy_permission(self, request) -> bool:
        return _only_superusers(request)

    @admin.action(
        description=gettext_lazy("Participant access report (JSON)"), permissions=["privacy"]
    )
    def participant_access_report(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Choose one referral for a report."), messages.ERROR)
            return None
        referral = queryset.get()
        report = participant_access_report(referral, requested_by=request.user)
        return _json_download(report, f"referral-{referral.pk}.json")

    @admin.action(description=gettext_lazy("Erase participant data now"), permissions=["privacy"])
    def participant_erase(self, request, queryset):
        if not _confirmed(request):
            return _confirmation(
                self,
                request,
                queryset,
                action="participant_erase",
                title=_("Erase participant data"),
                explanation=_(
                    "The alias, note, languages, availability, children, postal code and every "
                    "free text about these referrals are removed; counts for statistics stay."
                ),
            )
        _erase_each(self, request, queryset, referral_anonymise)
        return None


def _with_participant_actions(model) -> None:
    """The model's admin, registered again with the participant's access report and erasure
    after its own actions. Found through the site: privacy must not import the app that
    registers it (this app comes later in INSTALLED_APPS, so that admin is registered already)."""
    registered = type(admin.site.get_model_admin(model))
    actions = [*(registered.actions or ()), "participant_access_report", "participant_erase"]
    admin.site.unregister(model)
    extended = type(
        registered.__name__,
        (ParticipantPrivacyActions, registered),
        {"actions": actions, "__module__": __name__},
    )
    admin.site.register(model, extended)


_with_participant_actions(Referral)


@admin.register(VolunteerDeletionRequest)
class VolunteerDeletionRequestAdmin(ReadOnlyAdminMixin, KoblingAdmin):
    """Superusers only: erase the volunteer, or decline."""

    list_display = ["volunteer", "requested_at", "handled_at", "handled_by", "outcome"]
    list_filter = ["outcome"]
    readonly_fields = ["volunteer", "requested_at", "handled_at", "handled_by", "outcome"]
    actions = ["erase_volunteer", "decline"]

    def has_module_permission(self, request) -> bool:
        return _only_superusers(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return _only_superusers(request)

    def has_privacy_permission(self, request) -> bool:
        return _only_superusers(request)

    @admin.action(description=gettext_lazy("Erase volunteer now"), permissions=["privacy"])
    def erase_volunteer(self, request, queryset):
        if not _confirmed(request):
            return _confirmation(
                self,
                request,
                queryset,
                action="erase_volunteer",
                title=_("Erase volunteers"),
                explanation=_(
                    "Name, e-mail, home postal code, languages, availability, activities, vetting, "
                    "sign-in devices and login records go, and the account is closed; their "
                    "matches stay as counts."
                ),
            )
        volunteers = [deletion_request.volunteer for deletion_request in queryset]
        _erase_each(self, request, volunteers, volunteer_erase, by=request.user)
        return None

    @admin.action(description=gettext_lazy("Decline the request"), permissions=["privacy"])
    def decline(self, request, queryset):
        for deletion_request in queryset.filter(handled_at__isnull=True):
            volunteer_deletion_decline(deletion_request, by=request.user)
        self.message_user(request, _("Declined."))
