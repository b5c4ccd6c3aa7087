"""The back office for programmes' records: reference data, organisations, crisis centres,
programmes and the access log. Non-admin staff see only what the role-scoped selectors give
them. The referral and site admins, whose actions reach the matching app, are in
casework/admin.py; the shared bases in core/admin.py."""

from functools import cached_property
from operator import attrgetter

from django.apps import apps
from django.contrib import admin
from django.contrib.admin.views.main import PAGE_VAR
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import KoblingAdmin, ReadOnlyAdminMixin, ScopedAdmin
from programmes.audit import AUDITED, referrals_log_read
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


# The largest number a search for an object's id can hold (a bigint column).
BIGINT_MAX = 2**63 - 1


class LogPaginator(Paginator):
    """Pages of the access log, never counted: the log grows by a row per referral shown, and
    counting it costs a scan of every row. It counts at most to one row past the page asked
    for, which says whether an older page exists; the page shows "newer" and "older" links and
    no total (admin/programmes/auditlogentry/pagination.html)."""

    def __init__(self, object_list: QuerySet, per_page, request):
        super().__init__(object_list, per_page)
        self.queryset = object_list
        self.query = request.GET.copy()
        try:
            self.page_asked = max(int(self.query.get(PAGE_VAR, 1)), 1)
        except ValueError:
            self.page_asked = 1

    @cached_property
    def count(self) -> int:
        return self.queryset[: self.page_asked * self.per_page + 1].count()

    def _page_query(self, number: int) -> str:
        query = self.query.copy()
        query[PAGE_VAR] = str(number)
        return "?" + query.urlencode()

    @property
    def newer_query(self) -> str | None:
        return self._page_query(self.page_asked - 1) if self.page_asked > 1 else None

    @property
    def older_query(self) -> str | None:
        if self.count > self.page_asked * self.per_page:
            return self._page_query(self.page_asked + 1)
        return None


class LoggedModelFilter(admin.SimpleListFilter):
    """The kinds of object the log is about: a fixed list, where Django's own filter would
    look for every distinct model in the whole table."""

    title = _("model")
    parameter_name = "model"

    def lookups(self, request, model_admin):
        models = [apps.get_model(label) for label in AUDITED]
        return sorted(
            ((m._meta.label_lower, capfirst(m._meta.verbose_name)) for m in models),
            key=lambda choice: str(choice[1]),
        )

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        try:
            model = apps.get_model(self.value())
        except (LookupError, ValueError):
            return queryset.none()
        return queryset.filter(content_type=ContentType.objects.get_for_model(model))


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(ReadOnlyAdminMixin, KoblingAdmin):
    """The access log, for admins: read-only, searchable by object id and username.

    Every question it asks has an index (programmes.models.AuditLogEntry): newest first by
    time, an object by its id, a user's rows. Nothing counts or groups the whole table: no
    totals (LogPaginator), no date hierarchy, no facet counts, a fixed list of models."""

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
        LoggedModelFilter,
        ("timestamp", admin.DateFieldListFilter),
    ]
    # Shows the search box; the search itself is get_search_results.
    search_fields = ["actor__username"]
    search_help_text = _("An object's number (a referral's, for example) or part of a username.")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_max_show_all = 0
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

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        return LogPaginator(queryset, per_page, request)

    def get_search_results(self, request, queryset, search_term):
        """A number finds the rows about objects with that id (a referral, a proposal: the
        model filter narrows it), through the object index; anything else the rows of users
        whose username contains it, through the actor index."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if term.isdigit():
            if int(term) > BIGINT_MAX:
                return queryset.none(), False
            return queryset.filter(object_id=int(term)), False
        # The ids first: given them, PostgreSQL reads a user's rows newest first from the actor
        # index rather than walking the whole log by time looking for them.
        users = get_user_model().objects.filter(username__icontains=term)
        return queryset.filter(actor__in=list(users.values_list("pk", flat=True))), False

    @admin.display(description=_("changed fields"))
    def changed_fields(self, entry):
        return ", ".join(sorted(entry.changes or {}))

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser
