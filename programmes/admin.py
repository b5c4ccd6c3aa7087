"""The back office. Non-admin staff see only what the role-scoped selectors give them, and
change only what the services let them change, through those services (``by=`` the user)."""

import json
from operator import attrgetter

from django.contrib import admin, messages
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.admin.options import get_content_type_for_model
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from config.audit import object_label
from matching.lifecycle import MatchConflict, referral_accept
from programmes.audit import referral_history, referrals_log_read
from programmes.models import (
    AuditLogEntry,
    County,
    CrisisCentre,
    Municipality,
    Organisation,
    PostalCode,
    Programme,
    ProgrammeSite,
    Referral,
)
from programmes.privacy_admin import ParticipantPrivacyActions
from programmes.selectors import (
    crisis_centres_visible_to,
    referrals_referred_by,
    referrals_visible_to,
    sites_visible_to,
    user_roles,
)
from programmes.services import EDITABLE_FIELDS, EDITABLE_STATUSES, referral_update

SERVICE_ERRORS = (ValidationError, PermissionDenied, MatchConflict)


def service_error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or gettext("You may not do that.")


class ServiceRefused(Exception):
    """A service refused a save: shown as an error message, never a server error."""


def service_call(service, *args, **kwargs):
    try:
        return service(*args, **kwargs)
    except SERVICE_ERRORS as error:
        raise ServiceRefused(service_error_text(error)) from error


def history_label(obj) -> str:
    """The model and id, never ``str(obj)``: that is a referral's alias or a person's name."""
    if obj.pk is None:
        return type(obj).__name__
    return object_label(type(obj), obj.pk)


class IdsInHistory:
    """Django's admin history (LogEntry) names every object by the model and its id only, as
    the access log does; the change message names changed inline objects the same way."""

    def log_addition(self, request, obj, message):
        return self._history_write(request, [obj], ADDITION, message)[0]

    def log_change(self, request, obj, message):
        return self._history_write(request, [obj], CHANGE, message)[0]

    def log_deletions(self, request, queryset):
        return self._history_write(request, queryset, DELETION, "")

    def construct_change_message(self, request, form, formsets, add=False):
        message = super().construct_change_message(request, form, formsets, add)
        # Django lists each formset's added, changed and deleted objects in this order.
        objects = iter(
            [
                obj
                for formset in formsets or ()
                for obj in (
                    *formset.new_objects,
                    *(changed for changed, _fields in formset.changed_objects),
                    *formset.deleted_objects,
                )
            ]
        )
        for entry in message:
            for detail in entry.values():
                if "object" in detail:
                    detail["object"] = history_label(next(objects))
        return message

    @staticmethod
    def _history_write(request, objects, flag, message) -> list[LogEntry]:
        if isinstance(message, list):
            message = json.dumps(message)
        entries = [
            LogEntry(
                user_id=request.user.pk,
                content_type_id=get_content_type_for_model(obj).pk,
                object_id=str(obj.pk),
                object_repr=history_label(obj),
                action_flag=flag,
                change_message=message,
            )
            for obj in objects
        ]
        for entry in entries:
            entry.save()
        return entries


class KoblingAdmin(IdsInHistory, admin.ModelAdmin):
    """The base of every ModelAdmin here. A save that calls a service and is refused (see
    ``service_call``) ends as an error message on the same page; the admin's transaction is
    rolled back first, so nothing of it is saved."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refused:
            self.message_user(request, str(refused), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class SuperusersOnly:
    """For admins only, whatever model permissions a group may hold."""

    def _by_superuser(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_module_permission(self, request):
        return self._by_superuser(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._by_superuser(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return self._by_superuser(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return self._by_superuser(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._by_superuser(request) and super().has_delete_permission(request, obj)


def may_coordinate(request) -> bool:
    """May use a coordinator's actions at all; the service then checks each object."""
    return bool(user_roles(request.user) & {"admin", "coordinator"})


class ScopedAdmin(KoblingAdmin):
    """Reads go through a ``*_visible_to(user)`` selector, never the bare manager."""

    visible_to = None

    def get_queryset(self, request):
        return type(self).visible_to(request.user)


class LogsReferralReads:
    """Writes to the access log the referrals an admin page shows: each one listed on a
    changelist page, or the one behind a change view. ``referral_id_of`` says where to find it."""

    referral_id_of = attrgetter("referral_id")

    def referrals_shown(self, objects) -> list[int]:
        return [self.referral_id_of(obj) for obj in objects]

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            referrals_log_read(request.user, self.referrals_shown(changelist.result_list), "admin")
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        shown = getattr(response, "context_data", {}).get("original")
        if shown is not None:
            referrals_log_read(request.user, self.referrals_shown([shown]), "admin")
        return response


class ReadOnlyAdminMixin:
    """Shown in the back office, never added, changed or deleted there."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReferenceDataAdmin(ReadOnlyAdminMixin, KoblingAdmin):
    """Loaded by ``manage.py load_geodata``; nobody edits it by hand."""


@admin.register(County)
class CountyAdmin(ReferenceDataAdmin):
    list_display = ["number", "name"]
    search_fields = ["name", "number"]


@admin.register(Municipality)
class MunicipalityAdmin(ReferenceDataAdmin):
    list_display = ["number", "name", "county", "population", "sami_language_area"]
    list_filter = ["county", "sami_language_area", "language_form"]
    search_fields = ["number", "name", "name_official"]


@admin.register(PostalCode)
class PostalCodeAdmin(ReferenceDataAdmin):
    list_display = ["code", "place", "municipality"]
    list_filter = ["municipality__county"]
    search_fields = ["code", "place", "municipality__name"]


@admin.register(Organisation)
class OrganisationAdmin(KoblingAdmin):
    list_display = ["name", "kind", "municipality"]
    list_filter = ["kind"]
    search_fields = ["name"]
    autocomplete_fields = ["municipality"]


@admin.register(CrisisCentre)
class CrisisCentreAdmin(ScopedAdmin):
    visible_to = crisis_centres_visible_to
    list_display = ["name", "host_municipality", "served_count"]
    search_fields = ["name", "host_municipality__name"]
    autocomplete_fields = ["host_municipality", "municipalities_served"]
    filter_horizontal = ["staff"]

    @admin.display(description=_("municipalities served"))
    def served_count(self, centre):
        return centre.municipalities_served.count()


@admin.register(Programme)
class ProgrammeAdmin(KoblingAdmin):
    list_display = [
        "name",
        "volunteers_per_referral",
        "min_commitment_months",
        "default_max_distance_km",
    ]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(ProgrammeSite)
class ProgrammeSiteAdmin(ScopedAdmin):
    visible_to = sites_visible_to
    list_display = ["programme", "crisis_centre", "organisation"]
    list_filter = ["programme"]
    search_fields = ["crisis_centre__name", "organisation__name"]
    filter_horizontal = ["coordinators"]
    actions = ["start_match_run"]

    def has_run_permission(self, request) -> bool:
        return may_coordinate(request)

    @admin.action(description=_("Start a match run for the selected sites"), permissions=["run"])
    def start_match_run(self, request, queryset):
        from matching.services import match_run_start

        for site in queryset:
            try:
                run = match_run_start(
                    programme=site.programme, started_by=request.user, scope="site", site=site
                )
            except SERVICE_ERRORS as error:
                text = service_error_text(error)
                self.message_user(request, f"{site}: {text}", messages.ERROR)
                continue
            self.message_user(
                request, _("%(site)s: run %(run)s started.") % {"site": site, "run": run.pk}
            )


# What crisis-centre staff may correct here: what referral_update takes, never the alias
# (always generated) nor the site, the consent or the status.
REFERRAL_FORM_FIELDS = (
    *(name for name in EDITABLE_FIELDS if name != "alias"),
    "postal_code",
    "municipality",
    "avoid_municipalities",
)


def _service_value(name: str, value):
    """A form's value as referral_update takes it: codes, not objects."""
    if name == "postal_code":
        return value.code if value else ""
    if name == "municipality":
        return value.number if value else ""
    if name == "avoid_municipalities":
        return [municipality.number for municipality in value]
    return value


@admin.register(Referral)
class ReferralAdmin(ParticipantPrivacyActions, LogsReferralReads, ScopedAdmin):
    """Referrals are submitted in the portal or the API. Here the referring centre's staff
    correct one while it is submitted or waiting (through referral_update); coordinators and
    admins take submitted ones into the queue. Status moves only along the lifecycle
    (matching/lifecycle.py); withdrawing asks for a reason in the portal."""

    visible_to = referrals_visible_to
    referral_id_of = attrgetter("pk")
    list_display = ["alias", "site", "municipality", "status", "waiting_since", "submitted_at"]
    list_filter = ["status", "site__programme", "site__crisis_centre", "municipality__county"]
    search_fields = ["alias", "municipality__name", "postal_code__code"]
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
    actions = [
        "accept_into_queue",
        "participant_access_report",
        "participant_erase",
    ]

    def get_readonly_fields(self, request, obj=None):
        return [name for name in self.fields if name not in REFERRAL_FORM_FIELDS]

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
        return may_coordinate(request)

    def save_model(self, request, obj, form, change):
        changed = set(form.changed_data) & set(REFERRAL_FORM_FIELDS)
        if changed & {"postal_code", "municipality"}:
            changed |= {"postal_code", "municipality"}
        changes = {name: _service_value(name, form.cleaned_data[name]) for name in changed}
        service_call(referral_update, obj, changes=changes, updated_by=request.user)

    def save_related(self, request, form, formsets, change):
        """referral_update has set the municipalities to avoid already."""

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


if admin.site.is_registered(AuditLogEntry):
    # auditlog registers its own admin for the log model; ours is for admins only and read-only.
    admin.site.unregister(AuditLogEntry)


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(ReadOnlyAdminMixin, KoblingAdmin):
    """The access log, for admins: read-only, searchable by object id and username."""

    list_display = [
        "timestamp",
        "action",
        "channel",
        "content_type",
        "object_pk",
        "actor",
        "changed_fields",
    ]
    list_filter = [
        "action",
        "channel",
        ("content_type", admin.RelatedOnlyFieldListFilter),
        ("timestamp", admin.DateFieldListFilter),
    ]
    search_fields = ["=object_pk", "actor__username"]
    date_hierarchy = "timestamp"
    list_select_related = ["content_type", "actor"]
    fields = [
        "timestamp",
        "action",
        "channel",
        "content_type",
        "object_pk",
        "object_repr",
        "actor",
        "changes",
        "cid",
    ]

    @admin.display(description=_("changed fields"))
    def changed_fields(self, entry):
        return ", ".join(sorted(entry.changes or {}))

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser
