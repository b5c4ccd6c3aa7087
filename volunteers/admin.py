from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from volunteers.models import VettingRecord, Volunteer
from volunteers.selectors import volunteers_visible_to


class VettingRecordInline(admin.TabularInline):
    model = VettingRecord
    extra = 0
    fields = ["kind", "politiattest_type", "issued_on", "expires_on", "recorded_by"]
    autocomplete_fields = ["recorded_by"]


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
    autocomplete_fields = ["user", "home_postal_code", "avoid_municipalities", "organisation"]
    readonly_fields = ["status", "status_changed_at", "joined_on"]
    inlines = [VettingRecordInline]

    def get_queryset(self, request):
        return volunteers_visible_to(request.user)
