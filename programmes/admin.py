"""The back office. Non-admin staff see only what the role-scoped selectors give them."""

from operator import attrgetter

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

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
from programmes.notifications import notify_coordinators_of_new_referral
from programmes.privacy_admin import ParticipantPrivacyActions
from programmes.selectors import crisis_centres_visible_to, referrals_visible_to, sites_visible_to


class ScopedAdmin(admin.ModelAdmin):
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


class ReferenceDataAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
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
class OrganisationAdmin(admin.ModelAdmin):
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
class ProgrammeAdmin(admin.ModelAdmin):
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

    @admin.action(description=_("Start a match run for the selected sites"))
    def start_match_run(self, request, queryset):
        from matching.services import match_run_start

        for site in queryset:
            try:
                run = match_run_start(
                    programme=site.programme, started_by=request.user, scope="site", site=site
                )
            except (PermissionDenied, ValidationError) as error:
                self.message_user(request, f"{site}: {error}", messages.ERROR)
                continue
            self.message_user(
                request, _("%(site)s: run %(run)s started.") % {"site": site, "run": run.pk}
            )


@admin.register(Referral)
class ReferralAdmin(ParticipantPrivacyActions, LogsReferralReads, ScopedAdmin):
    visible_to = referrals_visible_to
    referral_id_of = attrgetter("pk")
    list_display = ["alias", "site", "municipality", "status", "waiting_since", "submitted_at"]
    list_filter = ["status", "site__programme", "site__crisis_centre", "municipality__county"]
    search_fields = ["alias", "municipality__name", "postal_code__code"]
    date_hierarchy = "submitted_at"
    autocomplete_fields = ["postal_code", "municipality", "avoid_municipalities"]
    # Status moves only along the lifecycle (matching/lifecycle.py), through the action below or
    # the portal's pages (withdrawing asks for a reason there), never by free edit.
    readonly_fields = [
        "consent_recorded_by",
        "status",
        "closure_reason",
        "withdrawal_reason",
        "withdrawal_note",
        "submitted_at",
        "status_changed_at",
        "waiting_since",
    ]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "site":
            kwargs["queryset"] = sites_visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    actions = [
        "accept_into_queue",
        "participant_access_report",
        "participant_erase",
    ]

    def save_model(self, request, obj, form, change):
        # Whoever registers the referral here is the one who recorded the consent.
        if not change:
            if not sites_visible_to(request.user).filter(pk=obj.site_id).exists():
                raise PermissionDenied
            obj.consent_recorded_by = request.user
        super().save_model(request, obj, form, change)
        if not change:
            notify_coordinators_of_new_referral(obj)

    @admin.action(description=_("Accept into the queue of referrals waiting for a volunteer"))
    def accept_into_queue(self, request, queryset):
        self._apply(request, queryset, lambda referral: referral_accept(referral, by=request.user))

    def _apply(self, request, queryset, service):
        for referral in queryset:
            try:
                service(referral)
            except (ValidationError, PermissionDenied, MatchConflict) as error:
                text = error.messages[0] if isinstance(error, ValidationError) else str(error)
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
class AuditLogEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
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
