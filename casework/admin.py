"""The back office's casework: the referral admin (staff correct a referral, coordinators accept
it into the queue) and the site admin, whose action starts a match run. Both act through the
services (``by=`` the user), which refuse what the portal refuses."""

from operator import attrgetter

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from accounts.roles import COORDINATING_ROLES, user_has_role
from core.admin import SERVICE_ERRORS, ScopedAdmin, service_call, service_error_text
from matching.lifecycle import referral_accept
from matching.services import match_run_start
from programmes.admin import LogsReferralReads
from programmes.audit import referral_history, referrals_log_read
from programmes.models import ProgrammeSite, Referral
from programmes.selectors import referrals_referred_by, referrals_visible_to, sites_visible_to
from programmes.services import EDITABLE_FIELDS, EDITABLE_STATUSES, referral_update


@admin.register(ProgrammeSite)
class ProgrammeSiteAdmin(ScopedAdmin):
    visible_to = sites_visible_to
    list_display = ["programme", "crisis_centre", "organisation"]
    list_filter = ["programme"]
    search_fields = ["crisis_centre__name", "organisation__name"]
    filter_horizontal = ["coordinators"]
    actions = ["start_match_run"]

    def has_run_permission(self, request) -> bool:
        # Whether to offer the action at all; the service then checks each object.
        return user_has_role(request.user, *COORDINATING_ROLES)

    @admin.action(description=_("Start a match run for the selected sites"), permissions=["run"])
    def start_match_run(self, request, queryset):
        for site in queryset:
            try:
                run = match_run_start(
                    programme=site.programme, started_by=request.user, scope="site", site=site
                )
            except SERVICE_ERRORS as error:
                text = service_error_text(error)
                self.message_user(request, f"{site}: {text}", messages.ERROR)
                continue
            self.message_user(request, _("Match run started: %(run)s.") % {"run": run.name})


# What crisis-centre staff may correct here: what referral_update takes, never the alias
# (always generated) nor the site, the consent or the status.
REFERRAL_FORM_FIELDS = (
    *(name for name in EDITABLE_FIELDS if name != "alias"),
    "postal_code",
    "municipality",
    "avoid_municipalities",
    "wished_activities",
)


def _service_value(name: str, value):
    """A form's value as referral_update takes it: codes, not objects."""
    if name == "postal_code":
        return value.code if value else ""
    if name == "municipality":
        return value.number if value else ""
    if name == "avoid_municipalities":
        return [municipality.number for municipality in value]
    if name == "wished_activities":
        return [activity.code for activity in value]
    return value


@admin.register(Referral)
class ReferralAdmin(LogsReferralReads, ScopedAdmin):
    """Referrals are submitted in the portal or the API. Here the referring centre's staff
    correct one while it is submitted or waiting (through referral_update); coordinators and
    admins take submitted ones into the queue. Status moves only along the lifecycle
    (matching/lifecycle.py); withdrawing asks for a reason in the portal."""

    visible_to = referrals_visible_to
    referral_id_of = attrgetter("pk")
    list_display = ["alias", "site", "municipality", "status", "waiting_since", "submitted_at"]
    list_filter = ["status", "site__programme", "site__crisis_centre", "municipality__county"]
    search_fields = ["alias", "municipality__name", "postal_code__code"]
    list_select_related = ["site__programme", "site__crisis_centre", "municipality"]
    date_hierarchy = "submitted_at"
    autocomplete_fields = ["postal_code", "municipality", "avoid_municipalities"]
    fields = [
        "alias",
        "site",
        "status",
        "adults",
        "children_birth_years",
        "postal_code",
        "municipality",
        "languages",
        "availability",
        "volunteer_gender",
        "max_distance_km",
        "avoid_municipalities",
        "wished_activities",
        "notes",
        "consent_given_on",
        "consent_recorded_by",
        "closure_reason",
        "withdrawal_reason",
        "withdrawal_note",
        "submitted_at",
        "status_changed_at",
        "waiting_since",
        "long_wait_flagged_on",
    ]
    # The privacy app adds the participant's access report and erasure (privacy/admin.py).
    actions = ["accept_into_queue"]

    def get_readonly_fields(self, request, obj=None):
        return [name for name in self.fields if name not in REFERRAL_FORM_FIELDS]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "wished_activities":
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        """Only staff of the referring centre, only while it is submitted or waiting: as
        referral_update, which the save goes through, checks again."""
        if not super().has_change_permission(request, obj):
            return False
        correctable = referrals_referred_by(request.user).filter(status__in=EDITABLE_STATUSES)
        if obj is not None:
            correctable = correctable.filter(pk=obj.pk)
        return correctable.exists()

    def has_delete_permission(self, request, obj=None):
        # Erasing a participant's data is the privacy action; nothing deletes a referral.
        return False

    def has_accept_permission(self, request) -> bool:
        # Whether to offer the action at all; the service then checks each object.
        return user_has_role(request.user, *COORDINATING_ROLES)

    def save_model(self, request, obj, form, change):
        changed = set(form.changed_data) & set(REFERRAL_FORM_FIELDS)
        if changed & {"postal_code", "municipality"}:
            changed |= {"postal_code", "municipality"}
        changes = {name: _service_value(name, form.cleaned_data[name]) for name in changed}
        service_call(referral_update, obj, changes=changes, updated_by=request.user)

    def save_related(self, request, form, formsets, change):
        """referral_update has set the municipalities to avoid and the wished activities
        already."""

    @admin.action(
        description=_("Accept into the queue of referrals waiting for a volunteer"),
        permissions=["accept"],
    )
    def accept_into_queue(self, request, queryset):
        self._apply(request, queryset, lambda referral: referral_accept(referral, by=request.user))

    def _apply(self, request, queryset, service):
        for referral in queryset:
            try:
                service(referral)
            except SERVICE_ERRORS as error:
                text = service_error_text(error)
                self.message_user(request, f"{referral}: {text}", messages.ERROR)

    def history_view(self, request, object_id, extra_context=None):
        """For an admin, the referral's whole access log, as a participant may ask for it."""
        referral = self.get_object(request, object_id)
        if not request.user.is_superuser or referral is None:
            return super().history_view(request, object_id, extra_context)
        referrals_log_read(request.user, [referral], "admin")
        history = referral_history(referral)
        actors = get_user_model().objects.in_bulk({row["actor_id"] for row in history} - {None})
        context = {
            **self.admin_site.each_context(request),
            "title": _("Access log for referral #%s") % referral.pk,
            "opts": self.opts,
            "object": referral,
            "history": [{**row, "actor": actors.get(row["actor_id"])} for row in history],
        }
        return TemplateResponse(request, "admin/programmes/referral/access_history.html", context)
