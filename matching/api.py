"""API for matching: match runs (coordinators start and poll them), proposals (approve, reject),
matches, agreements and their signatures, and the volunteer's own matches under /me/matches/.

Three reads are written here rather than in matching/selectors.py, which is being reworked in
parallel: ``matches_managed_by``, ``matches_taken_part_in`` and ``participant_view_for``. They
belong there next.
"""

from django.db.models import Count, Prefetch, Q
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from config.api import StrictSerializer
from config.api_access import ADMIN, COORDINATOR, STAFF, VOLUNTEER, within_token_centre
from matching import lifecycle
from matching.lifecycle import proposal_approve, proposal_reject
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
from matching.selectors import (
    agreements_visible_to,
    match_runs_visible_to,
    matches_managed_by,
    matches_taken_part_in,
    matches_visible_to,
    participant_view_for,
    proposals_visible_to,
)
from matching.services import match_run_start
from programmes.api import SlotSerializer
from programmes.audit import ApiReadsLogged, referral_ids_of
from programmes.selectors import (
    crisis_centres_visible_to,
    programmes_visible_to,
    referrals_visible_to,
    sites_visible_to,
)

MANAGERS = {ADMIN, COORDINATOR, STAFF}


def read_roles(roles: set[str]) -> dict[str, set[str]]:
    return {"list": roles, "retrieve": roles}


class UnmatchedSerializer(serializers.ModelSerializer):
    referral_alias = serializers.CharField(source="referral.alias", read_only=True)

    class Meta:
        model = UnmatchedReferral
        fields = ("referral", "referral_alias", "reason", "detail")
        read_only_fields = fields


class MatchRunSerializer(serializers.ModelSerializer):
    programme = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    unmatched = UnmatchedSerializer(many=True, read_only=True)

    class Meta:
        model = MatchRun
        fields = (
            "id",
            "programme",
            "scope",
            "site",
            "crisis_centre",
            "status",
            "phase",
            "progress",
            "on_date",
            "created_at",
            "started_at",
            "finished_at",
            "referrals_considered",
            "volunteers_considered",
            "proposals_made",
            "unmatched_count",
            "error",
            "unmatched",
        )
        read_only_fields = fields


class MatchRunStartSerializer(StrictSerializer):
    programme = serializers.CharField(max_length=50, help_text=_("The programme's slug."))
    scope = serializers.ChoiceField(choices=MatchRun.Scope.choices)
    site = serializers.IntegerField(required=False, allow_null=True)
    crisis_centre = serializers.IntegerField(required=False, allow_null=True)


class ProposalPairSerializer(serializers.ModelSerializer):
    """One proposed volunteer and why: distance, weekly overlap, shared languages, cost."""

    volunteer_name = serializers.CharField(source="volunteer", read_only=True)
    shared_languages = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = ProposalPair
        fields = (
            "volunteer",
            "volunteer_name",
            "distance_km",
            "overlap_hours",
            "shared_languages",
            "cost",
        )
        read_only_fields = fields


class ProposalSerializer(serializers.ModelSerializer):
    referral_alias = serializers.CharField(source="referral.alias", read_only=True)
    pairs = ProposalPairSerializer(many=True, read_only=True)

    class Meta:
        model = Proposal
        fields = (
            "id",
            "run",
            "referral",
            "referral_alias",
            "status",
            "cost",
            "reviewed_at",
            "rejection_reason",
            "pairs",
        )
        read_only_fields = fields


class ReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=300, allow_blank=True)


class MatchPlaceSerializer(serializers.ModelSerializer):
    volunteer_name = serializers.CharField(source="volunteer", read_only=True)

    class Meta:
        model = MatchVolunteer
        fields = ("volunteer", "volunteer_name", "accepted_at")
        read_only_fields = fields


class MatchSerializer(serializers.ModelSerializer):
    """A match as coordinators, crisis-centre staff and admins see it."""

    referral_alias = serializers.CharField(source="referral.alias", read_only=True)
    programme = serializers.CharField(source="referral.site.programme.slug", read_only=True)
    volunteers = MatchPlaceSerializer(many=True, read_only=True)
    agreement = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = Match
        fields = (
            "id",
            "referral",
            "referral_alias",
            "programme",
            "status",
            "created_at",
            "ended_at",
            "end_reason",
            "volunteers",
            "agreement",
        )
        read_only_fields = fields


class ParticipantSerializer(serializers.Serializer):
    alias = serializers.CharField()
    municipality = serializers.CharField(allow_null=True)
    municipality_name = serializers.CharField(allow_null=True)
    shared_languages = serializers.ListField(child=serializers.CharField(), allow_null=True)
    availability = SlotSerializer(many=True, allow_null=True)


class OwnMatchSerializer(serializers.ModelSerializer):
    """A match as its volunteer sees it: the participant only as far as the agreement allows."""

    programme = serializers.CharField(source="referral.site.programme.slug", read_only=True)
    agreement = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    participant = ParticipantSerializer(read_only=True)

    class Meta:
        model = Match
        fields = ("id", "programme", "status", "created_at", "ended_at", "agreement", "participant")
        read_only_fields = fields


class TermsSerializer(serializers.ModelSerializer):
    class Meta:
        model = AgreementTerms
        fields = ("version", "period_months", "text", "contact_rules", "confidentiality")
        read_only_fields = fields


class AgreementSerializer(serializers.ModelSerializer):
    """Terms and the state of the signatures; no names, so every party reads the same."""

    programme = serializers.CharField(source="match.referral.site.programme.slug", read_only=True)
    match_status = serializers.CharField(source="match.status", read_only=True)
    terms = TermsSerializer(read_only=True)
    volunteers_needed = serializers.IntegerField(read_only=True)
    volunteers_accepted = serializers.IntegerField(read_only=True)

    class Meta:
        model = Agreement
        fields = (
            "id",
            "match",
            "programme",
            "match_status",
            "terms",
            "starts_on",
            "ends_on",
            "volunteers_needed",
            "volunteers_accepted",
            "consent_recorded_at",
            "countersigned_at",
            "activated_at",
        )
        read_only_fields = fields


class MatchRunViewSet(ApiReadsLogged, viewsets.GenericViewSet):
    roles = {**read_roles({ADMIN, COORDINATOR}), "create": {ADMIN, COORDINATOR}}
    serializer_class = MatchRunSerializer
    filterset_fields = ("status", "scope")
    ordering_fields = ("created_at", "finished_at")

    def referrals_in(self, runs) -> set[int]:
        return referral_ids_of(*(run.unmatched.all() for run in runs))

    def get_queryset(self):
        # A programme-wide run may list referrals of other sites; show only those in scope.
        unmatched = UnmatchedReferral.objects.filter(
            referral__in=referrals_visible_to(self.request.user)
        ).select_related("referral")
        runs = match_runs_visible_to(self.request.user)
        return runs.prefetch_related(Prefetch("unmatched", queryset=unmatched))

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(MatchRunSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(MatchRunSerializer(self.get_object()).data)

    @extend_schema(request=MatchRunStartSerializer, responses={202: MatchRunSerializer})
    def create(self, request):
        """Start a run: it is queued and answers 202 at once; poll its URL for progress."""
        given = MatchRunStartSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        run = match_run_start(started_by=request.user, **self._targets(given.validated_data))
        run = self.get_queryset().get(pk=run.pk)
        location = reverse("api:match-run-detail", args=[run.pk])
        body = MatchRunSerializer(run).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": location})

    def _targets(self, given: dict) -> dict:
        user = self.request.user
        targets = {
            "programme": programmes_visible_to(user).filter(slug=given["programme"]).first(),
            "scope": given["scope"],
            "site": _optional(sites_visible_to(user), given.get("site")),
            "crisis_centre": _optional(crisis_centres_visible_to(user), given.get("crisis_centre")),
        }
        unknown = [
            name for name in ("programme", "site", "crisis_centre") if targets[name] is False
        ]
        if targets["programme"] is None:
            unknown.append("programme")
        if unknown:
            raise ValidationError({name: [_("Unknown %s.") % name] for name in unknown})
        return targets


def _optional(queryset, pk):
    """The row with this id, None when no id is given, False when it is not in scope."""
    if pk is None:
        return None
    return queryset.filter(pk=pk).first() or False


class ProposalViewSet(ApiReadsLogged, viewsets.GenericViewSet):
    roles = {
        **read_roles({ADMIN, COORDINATOR}),
        "approve": {ADMIN, COORDINATOR},
        "reject": {ADMIN, COORDINATOR},
    }
    serializer_class = ProposalSerializer
    filterset_fields = ("run", "status", "referral")
    ordering_fields = ("cost", "id")

    def get_queryset(self):
        return proposals_visible_to(self.request.user).select_related("referral")

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(ProposalSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(ProposalSerializer(self.get_object()).data)

    @extend_schema(request=None, responses={201: MatchSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        match = proposal_approve(self.get_object(), by=request.user)
        location = reverse("api:match-detail", args=[match.pk])
        body = MatchSerializer(matches_visible_to(request.user).get(pk=match.pk)).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": location})

    @extend_schema(request=ReasonSerializer, responses=ProposalSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        given = ReasonSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        proposal = proposal_reject(self.get_object(), by=request.user, **given.validated_data)
        return Response(ProposalSerializer(self.get_queryset().get(pk=proposal.pk)).data)


class MatchViewSet(ApiReadsLogged, viewsets.ReadOnlyModelViewSet):
    roles = read_roles(MANAGERS)
    serializer_class = MatchSerializer
    filterset_fields = ("status", "referral")
    ordering_fields = ("created_at",)

    def get_queryset(self):
        matches = matches_managed_by(self.request.user).prefetch_related("volunteers__volunteer")
        return within_token_centre(self.request, matches, "referral__site__crisis_centre")


class OwnMatchViewSet(ApiReadsLogged, viewsets.ReadOnlyModelViewSet):
    """The volunteer's own matches (/api/v1/me/matches/)."""

    roles = read_roles({VOLUNTEER})
    serializer_class = OwnMatchSerializer
    filterset_fields = ("status",)
    ordering_fields = ("created_at",)

    def get_queryset(self):
        own = matches_taken_part_in(self.request.user)
        own = own.select_related("referral__municipality", "referral__site__programme")
        return own.prefetch_related("volunteers")

    def get_serializer(self, instance=None, *args, **kwargs):
        if instance is not None:
            for match in instance if kwargs.get("many") else [instance]:
                match.participant = participant_view_for(match, self.request.user.volunteer)
        return super().get_serializer(instance, *args, **kwargs)


class AgreementViewSet(ApiReadsLogged, viewsets.ReadOnlyModelViewSet):
    roles = {
        **read_roles({*MANAGERS, VOLUNTEER}),
        "accept": {VOLUNTEER},
        "decline": {VOLUNTEER},
        "consent": {STAFF},
        "countersign": {COORDINATOR},
    }
    serializer_class = AgreementSerializer
    filterset_fields = ("match__status",)
    ordering_fields = ("starts_on", "id")

    def get_queryset(self):
        agreements = agreements_visible_to(self.request.user).annotate(
            volunteers_needed=Count("match__volunteers", distinct=True),
            volunteers_accepted=Count(
                "match__volunteers",
                filter=Q(match__volunteers__accepted_at__isnull=False),
                distinct=True,
            ),
        )
        agreements = within_token_centre(
            self.request, agreements, "match__referral__site__crisis_centre"
        )
        return agreements.order_by("id")

    @extend_schema(request=None, responses=AgreementSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._sign(lifecycle.agreement_accept)

    @extend_schema(request=ReasonSerializer, responses=AgreementSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        given = ReasonSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        lifecycle.agreement_decline(self.get_object(), by=request.user, **given.validated_data)
        return self._respond()

    @extend_schema(request=None, responses=AgreementSerializer)
    @action(detail=True, methods=["post"])
    def consent(self, request, pk=None):
        return self._sign(lifecycle.agreement_record_consent)

    @extend_schema(request=None, responses=AgreementSerializer)
    @action(detail=True, methods=["post"])
    def countersign(self, request, pk=None):
        return self._sign(lifecycle.agreement_countersign)

    def _sign(self, service) -> Response:
        service(self.get_object(), by=self.request.user)
        return self._respond()

    def _respond(self) -> Response:
        return Response(AgreementSerializer(self.get_object()).data)


ROUTES = [
    ("match-runs", MatchRunViewSet, "match-run"),
    ("proposals", ProposalViewSet, "proposal"),
    ("matches", MatchViewSet, "match"),
    ("agreements", AgreementViewSet, "agreement"),
    ("me/matches", OwnMatchViewSet, "own-match"),
]
