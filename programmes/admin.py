"""The back office for programmes' records: reference data, organisations, crisis centres,
programmes and the access log. Non-admin staff see only what the role-scoped selectors give
them. The referral and site admins, whose actions reach the matching app, are in
casework/admin.py; the shared bases in core/admin.py."""

from operator import attrgetter

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import KoblingAdmin, ReadOnlyAdminMixin, ScopedAdmin
from programmes.audit import referrals_log_read
from programmes.models import (
    Activity,
    AuditLogEntry,
    County,
    CrisisCentre,
    Municipality,
    Organisation,
    PostalCode,
    Programme,
    Referral,
)
from programmes.selectors import crisis_centres_visible_to


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


@admin.register(Activity)
class ActivityAdmin(KoblingAdmin):
    """The maintained list of leisure activities. One that volunteers or referrals have chosen
    cannot be deleted: untick "offered" instead, and it is no longer offered for new choices."""

    list_display = ["name_nb", "name_en", "code", "is_active", "position"]
    list_editable = ["is_active", "position"]
    list_filter = ["is_active"]
    search_fields = ["code", "name_nb", "name_en"]
    prepopulated_fields = {"code": ["name_en"]}
    actions = ["offer", "stop_offering"]

    def get_deleted_objects(self, objs, request):
        """An activity in use is listed as protected, so the admin refuses to delete it and
        says why, on the delete page and in the "delete selected" action alike."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        for activity in objs:
            volunteers = activity.volunteers.count()
            referrals = Referral.wished_activities.through.objects.filter(activity=activity)
            in_use = volunteers + referrals.count()
            if in_use:
                protected.append(
                    ngettext(
                        "%(activity)s: chosen %(count)d time. Untick “offered” instead.",
                        "%(activity)s: chosen %(count)d times. Untick “offered” instead.",
                        in_use,
                    )
                    % {"activity": activity.name_nb, "count": in_use}
                )
        return deleted, counts, perms_needed, protected

    @admin.action(description=_("Offer the selected activities"))
    def offer(self, request, queryset):
        queryset.update(is_active=True)

    @admin.action(description=_("Stop offering the selected activities"))
    def stop_offering(self, request, queryset):
        queryset.update(is_active=False)


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
