from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from programmes.admin import ReadOnlyAdminMixin
from programmes.privacy_admin import VolunteerDeletionActions
from volunteers.models import VettingRecord, Volunteer, VolunteerDeletionRequest
from volunteers.selectors import volunteers_visible_to


class VettingRecordInline(admin.TabularInline):
    model = VettingRecord
    extra = 0
    fields = ["kind", "politiattest_type", "issued_on", "expires_on", "recorded_by"]
    readonly_fields = ["recorded_by"]


class VettingExpiryFilter(admin.SimpleListFilter):
    title = _("vetting")
    parameter_name = "vetting"

    def lookups(self, request, model_admin):
        return [("expired", _("has expired items")), ("expiring", _("expires within 30 days"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "expired":
            return queryset.filter(vetting__expires_on__lt=today).distinct()
        if self.value() == "expiring":
            soon = today + timezone.timedelta(days=30)
            return queryset.filter(vetting__expires_on__range=(today, soon)).distinct()
        return queryset


@admin.register(Volunteer)
class VolunteerAdmin(admin.ModelAdmin):
    list_display = ["__str__", "organisation", "home_postal_code", "status", "capacity", "gender"]
    list_filter = ["status", "programmes", "gender", "capacity", VettingExpiryFilter]
    search_fields = [
        "user__username",
        "user__first_name",
        "home_postal_code__code",
        "home_postal_code__municipality__name",
    ]
    autocomplete_fields = ["home_postal_code", "avoid_municipalities", "organisation"]
    readonly_fields = ["status", "status_changed_at", "joined_on"]
    inlines = [VettingRecordInline]

    def get_queryset(self, request):
        return volunteers_visible_to(request.user)

    def get_readonly_fields(self, request, obj=None):
        # The user account is chosen once, by an admin; coordinators never browse all accounts.
        if request.user.is_superuser and obj is None:
            return self.readonly_fields
        return [*self.readonly_fields, "user"]

    def save_formset(self, request, form, formset, change):
        records = formset.save(commit=False)
        for record in records:
            record.recorded_by = record.recorded_by or request.user
            record.save()
        for record in formset.deleted_objects:
            record.delete()


@admin.register(VolunteerDeletionRequest)
class VolunteerDeletionRequestAdmin(VolunteerDeletionActions, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["volunteer", "requested_at", "handled_at", "handled_by", "outcome"]
    list_filter = ["outcome"]
    readonly_fields = ["volunteer", "requested_at", "handled_at", "handled_by", "outcome"]
    actions = ["erase_volunteer", "decline"]
