"""Back office for match runs and their review. Coordinators see their own sites' work only.

Everything here is read-only: states change only through matching/lifecycle.py, here by the
proposal actions, which refuse what the portal refuses (approving a proposal whose volunteer's
vetting runs out during the agreement needs the acknowledgement given in the portal or API)."""

from operator import attrgetter

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import render
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from accounts.roles import COORDINATING_ROLES, user_has_role
from core.admin import KoblingAdmin, ReadOnlyAdminMixin, ScopedAdmin, service_error_text
from matching import reasons
from matching.lifecycle import (
    MatchConflict,
    approvals_in_words,
    proposal_reject,
    proposals_approve,
)
from matching.models import (
    Agreement,
    AgreementTerms,
    Match,
    MatchRun,
    MatchVolunteer,
    Proposal,
    ProposalPair,
    UnmatchedReferral,
)
from matching.selectors import match_runs_visible_to, matches_visible_to, proposals_visible_to
from programmes.admin import LogsReferralReads
from programmes.audit import referrals_log_read
from programmes.geodata import distance_in_words as km
from programmes.languages import language_names


class ReadOnlyAdmin(ReadOnlyAdminMixin, ScopedAdmin):
    pass


class ReasonInWords:
    """Why a referral waits as the portal says it, never the engine's code or old detail."""

    @admin.display(description=_("why waiting"))
    def reason_in_words(self, unmatched):
        return reasons.unmatched_sentence(unmatched)

    @admin.display(description=_("near misses"))
    def near_misses_in_words(self, unmatched):
        return "; ".join(
            f"{miss.volunteer.display_name}: {reasons.near_miss_sentence(miss)}"
            for miss in unmatched.near_misses.all()
        )


class ReasonFilter(admin.SimpleListFilter):
    title = _("why waiting")
    parameter_name = "reason"

    def lookups(self, request, model_admin):
        return [(code, reasons.reason_heading(code)) for code in reasons.HEADINGS]

    def queryset(self, request, queryset):
        return queryset.filter(reason=self.value()) if self.value() else queryset


class UnmatchedInline(ReasonInWords, admin.TabularInline):
    model = UnmatchedReferral
    readonly_fields = ["referral", "reason_in_words", "near_misses_in_words"]
    fields = list(readonly_fields)  # a copy: the stubs give the two different types
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        rows = super().get_queryset(request).select_related("referral")
        return reasons.with_place_names(rows).prefetch_related(reasons.near_misses_prefetch())


@admin.register(MatchRun)
class MatchRunAdmin(ReadOnlyAdmin):
    visible_to = match_runs_visible_to
    list_display = [
        "pk",
        "programme",
        "scope",
        "site",
        "status",
        "phase",
        "progress",
        "proposals_made",
        "unmatched_count",
        "created_at",
    ]
    list_filter = ["status", "programme", "scope"]
    inlines = [UnmatchedInline]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        run = getattr(response, "context_data", {}).get("original")
        if run is not None:
            shown = run.unmatched.values_list("referral_id", flat=True)
            referrals_log_read(request.user, shown, "admin")
        return response


class PairInline(admin.TabularInline):
    model = ProposalPair
    readonly_fields = [
        "volunteer",
        "distance_km",
        "overlap_hours",
        "shared_languages",
        "shared_activities",
        "cost",
        "vetting_expires_on",
    ]
    fields = list(readonly_fields)  # a copy: the stubs give the two different types
    extra = 0
    can_delete = False


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Why are these proposals rejected?"), max_length=300)


@admin.register(Proposal)
class ProposalAdmin(LogsReferralReads, ReadOnlyAdmin):
    visible_to = proposals_visible_to
    list_display = ["referral", "run", "status", "replaces", "made_by_hand", "explanation", "cost"]
    list_filter = ["status", "run__programme", "made_by_hand"]
    search_fields = [
        "referral__alias",
        "pairs__volunteer__user__first_name",
        "pairs__volunteer__user__last_name",
    ]
    inlines = [PairInline]
    actions = ["approve", "reject"]

    def get_queryset(self, request):
        # A row names its run by programme. The admin's list_select_related is ignored for a
        # queryset that already joins something, so it is joined here, not fetched per row.
        return super().get_queryset(request).select_related("run__programme")

    @admin.display(boolean=True, description=_("replacement volunteer"))
    def replaces(self, proposal):
        return proposal.replacement_for_id is not None

    @admin.display(description=_("explanation"))
    def explanation(self, proposal):
        return "; ".join(
            f"{pair.volunteer.display_name}: {km(pair.distance_km)}, "
            f"{reasons.duration(pair.overlap_hours * 60)}, "
            f"{language_names(pair.shared_languages)}{self._expiry(pair)}"
            for pair in proposal.pairs.all()
        )

    @staticmethod
    def _expiry(pair) -> str:
        if pair.vetting_expires_on is None:
            return ""
        return ", " + _("vetting runs out on %s") % date_format(
            pair.vetting_expires_on, "SHORT_DATE_FORMAT"
        )

    def has_review_permission(self, request) -> bool:
        # Whether to offer the action at all; the service then checks each object.
        return user_has_role(request.user, *COORDINATING_ROLES)

    @admin.action(description=_("Approve the selected proposals"), permissions=["review"])
    def approve(self, request, queryset):
        # Without the acknowledgement: a proposal whose vetting runs out during the agreement
        # is refused with the reason, to be approved where the coordinator can confirm it.
        approved, refused = proposals_approve(queryset.select_related("referral"), by=request.user)
        for ok, words in approvals_in_words(approved, refused):
            self.message_user(request, words, messages.SUCCESS if ok else messages.ERROR)

    @admin.action(
        description=_("Reject the selected proposals (asks for a reason)"), permissions=["review"]
    )
    def reject(self, request, queryset):
        form = RejectForm(request.POST if "reason" in request.POST else None)
        if not form.is_valid():
            referrals_log_read(request.user, self.referrals_shown(queryset), "admin")
            return render(
                request,
                "admin/matching/reject.html",
                {
                    "form": form,
                    "proposals": queryset,
                    "opts": self.model._meta,
                },
            )
        reason = form.cleaned_data["reason"]
        for proposal in queryset:
            self._review(
                request, proposal, lambda p: proposal_reject(p, by=request.user, reason=reason)
            )
        return None

    def _review(self, request, proposal, action):
        try:
            action(proposal)
            self.message_user(request, f"{proposal.referral}: {_('done')}", messages.SUCCESS)
        except (MatchConflict, ValidationError, PermissionDenied) as error:
            text = service_error_text(error)
            self.message_user(request, f"{proposal.referral}: {text}", messages.ERROR)


@admin.register(UnmatchedReferral)
class UnmatchedReferralAdmin(ReasonInWords, LogsReferralReads, ReadOnlyAdmin):
    list_display = ["referral", "reason_in_words", "run"]
    list_filter = [ReasonFilter, "run__programme"]
    readonly_fields = ["run", "referral", "reason_in_words", "near_misses_in_words"]
    fields = list(readonly_fields)  # a copy: the stubs give the two different types

    @staticmethod
    def visible_to(user):
        runs = match_runs_visible_to(user)
        rows = UnmatchedReferral.objects.filter(run__in=runs).select_related(
            "referral", "run__programme"
        )
        return reasons.with_place_names(rows).prefetch_related(reasons.near_misses_prefetch())


class PlaceInline(admin.TabularInline):
    """Who is in the match, who signed and who left (and why)."""

    model = MatchVolunteer
    readonly_fields = [
        "volunteer",
        "accepted_at",
        "left_at",
        "left_reason",
        "end_requested_at",
        "end_request_reason",
    ]
    fields = list(readonly_fields)  # a copy: the stubs give the two different types
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Match)
class MatchAdmin(LogsReferralReads, ReadOnlyAdmin):
    visible_to = matches_visible_to
    list_display = [
        "referral",
        "status",
        "needs_replacement",
        "closure_reason",
        "created_at",
        "ended_at",
    ]
    list_filter = ["status", "needs_replacement", "closure_reason", "referral__site__programme"]
    search_fields = [
        "referral__alias",
        "volunteers__volunteer__user__first_name",
        "volunteers__volunteer__user__last_name",
    ]
    list_select_related = ["referral__site"]
    inlines = [PlaceInline]


@admin.register(Agreement)
class AgreementAdmin(LogsReferralReads, ReadOnlyAdmin):
    list_display = ["match", "terms", "starts_on", "ends_on", "activated_at"]
    referral_id_of = attrgetter("match.referral_id")

    @staticmethod
    def visible_to(user):
        agreements = Agreement.objects.filter(match__in=matches_visible_to(user))
        return agreements.select_related("terms__programme", "match__referral")


@admin.register(AgreementTerms)
class AgreementTermsAdmin(KoblingAdmin):
    list_display = ["programme", "version", "period_months", "published_on", "in_english"]
    list_filter = ["programme"]
    fieldsets = [
        (None, {"fields": ["programme", "version", "period_months", "published_on"]}),
        (_("Text in bokmål"), {"fields": ["text", "contact_rules", "confidentiality"]}),
        (
            _("Text in English"),
            {
                "fields": ["text_en", "contact_rules_en", "confidentiality_en"],
                "description": _(
                    "Optional. Without an English text, readers of English see the bokmål text "
                    "with a note."
                ),
            },
        ),
    ]

    @admin.display(boolean=True, description=_("English text"))
    def in_english(self, terms) -> bool:
        return bool(terms.text_en)
