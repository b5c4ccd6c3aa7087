"""The back office. Non-admin staff see only what the role-scoped selectors give them."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from programmes.models import (
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
from programmes.selectors import crisis_centres_visible_to, referrals_visible_to, sites_visible_to
from programmes.services import referral_accept, referral_withdraw


class ScopedAdmin(admin.ModelAdmin):
    """Reads go through a ``*_visible_to(user)`` selector, never the bare manager."""

    visible_to = None

    def get_queryset(self, request):
        return type(self).visible_to(request.user)


class ReferenceDataAdmin(admin.ModelAdmin):
    """Loaded by ``manage.py load_geodata``; nobody edits it by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
class ReferralAdmin(ScopedAdmin):
    visible_to = referrals_visible_to
    list_display = ["alias", "site", "municipality", "status", "waiting_since", "submitted_at"]
    list_filter = ["status", "site__programme", "site__crisis_centre", "municipality__county"]
    search_fields = ["alias", "municipality__name", "postal_code__code"]
    date_hierarchy = "submitted_at"
    autocomplete_fields = ["postal_code", "municipality", "avoid_municipalities"]
    # Status moves only along the lifecycle, through the actions below, never by free edit.
    readonly_fields = [
        "consent_recorded_by",
        "status",
        "closure_reason",
        "submitted_at",
        "status_changed_at",
        "waiting_since",
    ]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "site":
            kwargs["queryset"] = sites_visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    actions = ["accept_into_queue", "withdraw"]

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
        self._apply(request, queryset, referral_accept)

    @admin.action(description=_("Withdraw"))
    def withdraw(self, request, queryset):
        self._apply(request, queryset, referral_withdraw)

    def _apply(self, request, queryset, service):
        for referral in queryset:
            try:
                service(referral)
            except ValidationError as error:
                self.message_user(request, f"{referral}: {error.messages[0]}", messages.ERROR)
