"""Volunteers in the back office. Admins add volunteers and correct their details; status,
commitments and dates move only through the services. A coordinator sees the volunteers of
their sites' organisations and may add vetting records for them (through vetting_record_add,
as on the vetting page); nothing else of a volunteer changes here. Deletion requests are
handled in the privacy app (privacy/admin.py)."""

from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import KoblingAdmin, ServiceRefused, service_call
from programmes.selectors import is_admin
from volunteers.models import VettingRecord, Volunteer
from volunteers.selectors import VETTING_WARNING_DAYS, vetting_warning_until, volunteers_visible_to
from volunteers.services import vetting_record_add

RECORD_FIELDS = ["kind", "politiattest_type", "issued_on", "expires_on"]


class VettingRecordInline(admin.TabularInline):
    """Coordinators add records; only an admin corrects or removes one."""

    model = VettingRecord
    extra = 0
    fields = [*RECORD_FIELDS, "recorded_by"]
    readonly_fields = ["recorded_by"]

    def has_change_permission(self, request, obj=None):
        return is_admin(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return is_admin(request.user) and super().has_delete_permission(request, obj)


class VettingExpiryFilter(admin.SimpleListFilter):
    title = _("vetting")
    parameter_name = "vetting"

    def lookups(self, request, model_admin):
        expiring = _("expires within %(days)d days") % {"days": VETTING_WARNING_DAYS}
        return [("expired", _("has expired items")), ("expiring", expiring)]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "expired":
            return queryset.filter(vetting__expires_on__lt=today).distinct()
        if self.value() == "expiring":
            soon = vetting_warning_until(today)
            return queryset.filter(vetting__expires_on__range=(today, soon)).distinct()
        return queryset


@admin.register(Volunteer)
class VolunteerAdmin(KoblingAdmin):
    # Full name and municipality: several volunteers share a first name, some a full name.
    list_display = [
        "__str__",
        "home_municipality",
        "organisation",
        "home_postal_code",
        "status",
        "capacity",
        "gender",
    ]
    list_filter = [
        "status",
        "programmes",
        "organisation",
        "home_postal_code__municipality__county",
        "gender",
        "capacity",
        VettingExpiryFilter,
    ]
    list_select_related = ["user", "organisation", "home_postal_code__municipality"]
    search_fields = [
        "user__username",
        "user__first_name",
        "user__last_name",
        "user__email",
        "home_postal_code__code",
        "home_postal_code__municipality__name",
    ]
    autocomplete_fields = ["home_postal_code", "avoid_municipalities", "organisation"]
    fields = [
        "user",
        "organisation",
        "programmes",
        "home_postal_code",
        "languages",
        "gender",
        "availability",
        "capacity",
        "commitments",
        "avoid_municipalities",
        "activities",
        "status",
        "status_changed_at",
        "joined_on",
    ]
    # Status through volunteer_transition, commitments through the match lifecycle.
    readonly_fields = ["commitments", "status", "status_changed_at", "joined_on"]
    inlines = [VettingRecordInline]

    def get_queryset(self, request):
        return volunteers_visible_to(request.user)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "activities":
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description=_("municipality"), ordering="home_postal_code__municipality__name")
    def home_municipality(self, volunteer):
        return volunteer.home_postal_code.municipality.name if volunteer.home_postal_code else "–"

    def get_readonly_fields(self, request, obj=None):
        if not is_admin(request.user):
            return self.fields
        # The user account is chosen once, by an admin.
        return self.readonly_fields if obj is None else [*self.readonly_fields, "user"]

    def has_add_permission(self, request):
        # No service adds a volunteer for a coordinator (and none that pins the organisation).
        return is_admin(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        """A coordinator "changes" a volunteer only by adding vetting records, never their own."""
        if not super().has_change_permission(request, obj):
            return False
        if is_admin(request.user) or obj is None:
            return True
        managed = volunteers_visible_to(request.user).exclude(user=request.user)
        return managed.filter(pk=obj.pk).exists()

    def has_delete_permission(self, request, obj=None):
        # A volunteer retires (volunteer_transition) or is erased on request (volunteer_erase).
        return False

    def save_model(self, request, obj, form, change):
        """Writes only the fields the form changed: the row's other columns (status,
        commitments) may have moved meanwhile, through the services."""
        if not change:
            obj.save()
            return
        many = {field.name for field in obj._meta.many_to_many}
        columns = [name for name in form.changed_data if name not in many]
        if "capacity" in columns and obj.capacity < obj.commitments:
            raise ServiceRefused(
                ngettext(
                    "The capacity cannot be below the %(count)d match the volunteer is in.",
                    "The capacity cannot be below the %(count)d matches the volunteer is in.",
                    obj.commitments,
                )
                % {"count": obj.commitments}
            )
        if columns:
            obj.save(update_fields=columns)

    def save_formset(self, request, form, formset, change):
        if formset.model is not VettingRecord:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)
        formset.new_objects = [
            service_call(
                vetting_record_add,
                form.instance,
                recorded_by=request.user,
                **{name: getattr(record, name) for name in RECORD_FIELDS},
            )
            for record in formset.new_objects
        ]
        for record, _fields in formset.changed_objects:
            record.save()
        for record in formset.deleted_objects:
            record.delete()
        return None
