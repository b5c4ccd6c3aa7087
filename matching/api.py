"""API for matching: match runs (coordinators start, poll and restart them), proposals (approve,
reject), matches (end early, let one volunteer go, search for a replacement), agreements and their
signatures, and the volunteer's own matches under /me/matches/ (asking to end one).

Every change of state is one call into matching/lifecycle.py (or matching/services.py for runs),
which refuses what no longer fits: 409 when the state moved on, 400 naming the field at fault.
"""

from functools import cached_property

from django.db.models import Count, F, Prefetch, Q
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts.api_access import read_roles, within_token_centre
from accounts.roles import CASE_ROLES, COORDINATING_ROLES, Role
from core.api import SlotSerializer, StrictSerializer
from matching import check_ins, lifecycle, reasons
from matching.lifecycle import MatchConflict, proposal_approve, proposal_reject
from matching.models import (
    Agreement,
    AgreementTerms,
    CheckIn,
    Match,
    MatchRun,
    MatchVolunteer,
    NearMiss,
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
from matching.services import match_run_restart, match_run_start, replacement_search_start
from programmes.audit import ApiReadsLogged, Channel, referral_ids_of, referrals_log_read
from programmes.models import Programme
from programmes.selectors import (
    crisis_centres_visible_to,
    programmes_visible_to,
    referrals_coordinated_by,
    referrals_visible_to,
    sites_visible_to,
)


class NearMissSerializer(serializers.ModelSerializer):
    """A volunteer who fails exactly one rule the coordinator may relax (``rule``: distance,
    availability, gender; or ``eligible``: meets every rule but was not enough alone).
    ``shortfall`` is kilometres beyond the limit for distance, minutes of weekly shared time
    short for availability, 0 otherwise."""

    explanation = serializers.SerializerMethodField(
        help_text=_("The rule and the shortfall in words, in the request's language.")
    )

    class Meta:
        model = NearMiss
        fields = ("volunteer", "rule", "shortfall", "distance_km", "overlap_minutes", "explanation")
        read_only_fields = fields

    def get_explanation(self, near_miss: NearMiss) -> str:
        return reasons.near_miss_sentence(near_miss)


class UnmatchedSerializer(serializers.ModelSerializer):
    """A referral the run could not propose anyone for. ``reason`` is a stable code for
    programs (no_volunteer_within_distance, no_shared_language, no_availability_overlap,
    gender_preference, safety_exclusion, rejected_before, not_enough_volunteers,
    capacity_taken); ``explanation`` says it in words for people, in the request's language."""

    referral_alias = serializers.CharField(source="referral.alias", read_only=True)
    explanation = serializers.SerializerMethodField(
        help_text=_("Why the referral waits, in words, in the request's language.")
    )
    near_misses = NearMissSerializer(many=True, read_only=True)

    class Meta:
        model = UnmatchedReferral
        fields = ("referral", "referral_alias", "reason", "explanation", "near_misses")
        read_only_fields = fields

    def get_explanation(self, unmatched: UnmatchedReferral) -> str:
        return reasons.unmatched_sentence(unmatched)


class MatchRunSerializer(serializers.ModelSerializer):
    """A run and its outcome. ``match`` is set for a replacement search; ``failure_text`` says in
    words why a failed run failed (null otherwise)."""

    programme = serializers.SlugRelatedField[Programme](slug_field="slug", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    failure_text = serializers.SerializerMethodField()
    unmatched = UnmatchedSerializer(many=True, read_only=True)

    class Meta:
        model = MatchRun
        fields = (
            "id",
            "programme",
            "scope",
            "site",
            "crisis_centre",
            "match",
            "status",
            "status_display",
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
            "failure_text",
            "unmatched",
        )
        read_only_fields = fields

    def get_failure_text(self, run: MatchRun) -> str | None:
        return str(run.failure_text) if run.status == MatchRun.Status.FAILED else None


class MatchRunStartSerializer(StrictSerializer):
    programme = serializers.CharField(max_length=50, help_text=_("The programme's slug."))
    scope = serializers.ChoiceField(choices=MatchRun.Scope.choices)
    site = serializers.IntegerField(required=False, allow_null=True)
    crisis_centre = serializers.IntegerField(required=False, allow_null=True)


class ProposalPairSerializer(serializers.ModelSerializer):
    """One proposed volunteer and why: distance, weekly overlap, shared languages (spoken at the
    programme's level or better), shared activities (codes), cost."""

    volunteer_name = serializers.CharField(source="volunteer", read_only=True)
    shared_languages = serializers.ListField(child=serializers.CharField(), read_only=True)
    shared_activities = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = ProposalPair
        fields = (
            "volunteer",
            "volunteer_name",
            "distance_km",
            "overlap_hours",
            "shared_languages",
            "shared_activities",
            "cost",
            "vetting_expires_on",
        )
        read_only_fields = fields


class ProposalSerializer(serializers.ModelSerializer):
    """A proposal for review. ``replacement_for`` is the match a replacement would join;
    ``vetting_expires_during_agreement`` says approving needs ``acknowledge_vetting_expiry``;
    ``made_by_hand`` marks a near miss a coordinator proposed, with ``hand_reason``."""

    referral_alias = serializers.CharField(source="referral.alias", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    vetting_expires_during_agreement = serializers.BooleanField(read_only=True)
    relaxed_rules = serializers.ListField(
        child=serializers.ChoiceField(choices=["distance", "availability", "gender"]),
        read_only=True,
        help_text=_("For a proposal made by hand: the matching rules the coordinator relaxed."),
    )
    pairs = ProposalPairSerializer(many=True, read_only=True)

    class Meta:
        model = Proposal
        fields = (
            "id",
            "run",
            "referral",
            "referral_alias",
            "replacement_for",
            "status",
            "status_display",
            "cost",
            "reviewed_at",
            "rejection_reason",
            "vetting_expires_during_agreement",
            "made_by_hand",
            "hand_reason",
            "relaxed_rules",
            "pairs",
        )
        read_only_fields = fields


class ReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=300, allow_blank=True)


class ApproveSerializer(StrictSerializer):
    acknowledge_vetting_expiry = serializers.BooleanField(
        default=False,
        help_text=_(
            "Needed when a volunteer's vetting runs out before the agreement would end "
            "(vetting_expires_during_agreement): you know, and will follow up the renewal."
        ),
    )


END_REASON_CHOICES = [(reason.value, reason.label) for reason in lifecycle.END_REASONS]


class EndRequestSerializer(StrictSerializer):
    """Why a match (or one volunteer's part in it) ends; the note is optional."""

    reason = serializers.ChoiceField(choices=END_REASON_CHOICES)
    note = serializers.CharField(max_length=300, allow_blank=True, required=False, default="")


class MatchEndSerializer(EndRequestSerializer):
    requeue = serializers.BooleanField(
        help_text=_(
            "true: the referral goes back to the queue to find someone new; "
            "false: the referral closes with this reason."
        )
    )


class VolunteerReleaseSerializer(EndRequestSerializer):
    volunteer = serializers.IntegerField(help_text=_("The id of a volunteer in this match."))


def end_reason_field():
    """A reason that is blank until there is one."""
    return serializers.ChoiceField(
        choices=Match.EndReason.choices, allow_blank=True, read_only=True
    )


class OwnPlaceSerializer(serializers.ModelSerializer):
    """The volunteer's own place in the match; never another volunteer's."""

    left_reason = end_reason_field()
    end_request_reason = end_reason_field()
    left_reason_display = serializers.CharField(source="get_left_reason_display", read_only=True)
    end_request_reason_display = serializers.CharField(
        source="get_end_request_reason_display", read_only=True
    )

    class Meta:
        model = MatchVolunteer
        fields: tuple[str, ...] = (
            "accepted_at",
            "left_at",
            "left_reason",
            "left_reason_display",
            "end_requested_at",
            "end_request_reason",
            "end_request_reason_display",
        )
        read_only_fields = fields


class MatchPlaceSerializer(OwnPlaceSerializer):
    """One volunteer's place, as staff see it: who signed, who left and why, who asked to end."""

    volunteer_name = serializers.CharField(source="volunteer", read_only=True)

    class Meta(OwnPlaceSerializer.Meta):
        fields = ("volunteer", "volunteer_name", *OwnPlaceSerializer.Meta.fields)
        read_only_fields = fields


class CheckInSerializer(serializers.ModelSerializer):
    """A check-in and the volunteer's answer, with the coordinator's follow-up."""

    answered_by_name = serializers.CharField(source="answered_by", read_only=True, allow_null=True)
    wellbeing_display = serializers.CharField(source="get_wellbeing_display", read_only=True)
    handled_by_name = serializers.CharField(
        source="handled_by.get_full_name", read_only=True, allow_null=True
    )

    class Meta:
        model = CheckIn
        fields = (
            "id",
            "months_after_start",
            "due_on",
            "answered_at",
            "answered_by",
            "answered_by_name",
            "meetings_held",
            "wellbeing",
            "wellbeing_display",
            "wants_contact",
            "note",
            "handled_at",
            "handled_by_name",
            "handled_note",
        )
        read_only_fields = fields


class MatchSerializer(serializers.ModelSerializer):
    """A match as coordinators, crisis-centre staff and admins see it."""

    referral_alias = serializers.CharField(source="referral.alias", read_only=True)
    programme = serializers.CharField(source="referral.site.programme.slug", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    closure_reason = end_reason_field()
    closure_reason_display = serializers.CharField(
        source="get_closure_reason_display", read_only=True
    )
    volunteers = MatchPlaceSerializer(many=True, read_only=True)
    agreement = serializers.PrimaryKeyRelatedField[Agreement](read_only=True, allow_null=True)
    check_ins = serializers.SerializerMethodField(
        help_text="The volunteers' check-in answers; shown to the site's coordinators only."
    )

    @extend_schema_field(CheckInSerializer(many=True))
    def get_check_ins(self, match) -> list:
        # Only what MatchViewSet prefetched for a coordinator; empty for everyone else.
        # many=True gives a ReturnList; the stubs say ReturnDict.
        rows = getattr(match, "coordinated_check_ins", [])
        return [self._check_in_serializer.to_representation(row) for row in rows]

    @cached_property
    def _check_in_serializer(self) -> CheckInSerializer:
        # One for the whole page: a list's rows share this serializer, and building a
        # serializer's fields costs more than the rows it writes.
        return CheckInSerializer()

    class Meta:
        model = Match
        fields = (
            "id",
            "referral",
            "referral_alias",
            "programme",
            "status",
            "status_display",
            "needs_replacement",
            "created_at",
            "ended_at",
            "closure_reason",
            "closure_reason_display",
            "end_reason",
            "volunteers",
            "agreement",
            "check_ins",
        )
        read_only_fields = fields


class ParticipantSerializer(serializers.Serializer):
    alias = serializers.CharField()
    municipality = serializers.CharField(allow_null=True)
    municipality_name = serializers.CharField(allow_null=True)
    shared_languages = serializers.ListField(child=serializers.CharField(), allow_null=True)
    availability = SlotSerializer(many=True, allow_null=True)


class OwnMatchSerializer(serializers.ModelSerializer):
    """A match as its volunteer sees it: the participant only as far as the agreement allows,
    their own place, and whether the match waits for a replacement volunteer. No notes."""

    programme = serializers.CharField(source="referral.site.programme.slug", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    closure_reason = end_reason_field()
    closure_reason_display = serializers.CharField(
        source="get_closure_reason_display", read_only=True
    )
    agreement = serializers.PrimaryKeyRelatedField[Agreement](read_only=True, allow_null=True)
    place = OwnPlaceSerializer(source="own_place", read_only=True, allow_null=True)
    participant = ParticipantSerializer(read_only=True)

    class Meta:
        model = Match
        fields = (
            "id",
            "programme",
            "status",
            "status_display",
            "needs_replacement",
            "created_at",
            "ended_at",
            "closure_reason",
            "closure_reason_display",
            "agreement",
            "place",
            "participant",
        )
        read_only_fields = fields


class TermsSerializer(serializers.Serializer):
    """The terms in the request's language (``Accept-Language``): English where the version has
    it, bokmål otherwise; ``language`` says which one the texts are in."""

    version = serializers.IntegerField(read_only=True)
    period_months = serializers.IntegerField(read_only=True)
    language = serializers.ChoiceField(choices=["nb", "en"], read_only=True)
    text = serializers.CharField(read_only=True)
    contact_rules = serializers.CharField(read_only=True)
    confidentiality = serializers.CharField(read_only=True)

    def to_representation(self, instance: AgreementTerms) -> dict:
        texts = instance.in_language(get_language() or "nb")
        return super().to_representation(
            {
                "version": instance.version,
                "period_months": instance.period_months,
                "language": texts.language,
                "text": texts.text,
                "contact_rules": texts.contact_rules,
                "confidentiality": texts.confidentiality,
            }
        )


class AgreementSerializer(serializers.ModelSerializer):
    """Terms and the state of the signatures; no names, so every party reads the same.
    ``volunteers_needed`` is the programme's number; ``volunteers_accepted`` counts the
    volunteers still in the match who accepted (not those who left)."""

    programme = serializers.CharField(source="match.referral.site.programme.slug", read_only=True)
    match_status = serializers.CharField(source="match.status", read_only=True)
    match_status_display = serializers.CharField(source="match.get_status_display", read_only=True)
    needs_replacement = serializers.BooleanField(source="match.needs_replacement", read_only=True)
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
            "match_status_display",
            "needs_replacement",
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


def validated(serializer_class, request) -> dict:
    given = serializer_class(data=request.data)
    given.is_valid(raise_exception=True)
    return dict(given.validated_data)


def runs_shown_to(user):
    # A programme-wide run may list referrals of other sites; show only those in scope.
    unmatched = reasons.with_place_names(
        UnmatchedReferral.objects.filter(referral__in=referrals_visible_to(user))
        .select_related("referral")
        .prefetch_related("near_misses")
    )
    return match_runs_visible_to(user).prefetch_related(Prefetch("unmatched", queryset=unmatched))


def run_accepted(user, run: MatchRun) -> Response:
    """202 with the queued run and its address, to poll for progress."""
    run = runs_shown_to(user).get(pk=run.pk)
    location = reverse("api:match-run-detail", args=[run.pk])
    body = MatchRunSerializer(run).data
    # A run that finished at once (no broker) lists its unmatched referrals right here.
    referrals_log_read(user, referral_ids_of(run.unmatched.all()), Channel.API)
    return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": location})


class MatchRunViewSet(ApiReadsLogged, viewsets.GenericViewSet):
    roles = {
        **read_roles(*COORDINATING_ROLES),
        "create": COORDINATING_ROLES,
        "restart": COORDINATING_ROLES,
    }
    serializer_class = MatchRunSerializer
    filterset_fields = ("status", "scope")
    ordering_fields = ("created_at", "finished_at")

    def referrals_in(self, runs) -> set[int]:
        return referral_ids_of(*(run.unmatched.all() for run in runs))

    def get_queryset(self):
        return runs_shown_to(self.request.user)

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(MatchRunSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(MatchRunSerializer(self.get_object()).data)

    @extend_schema(request=MatchRunStartSerializer, responses={202: MatchRunSerializer})
    def create(self, request):
        """Start a run: it is queued and answers 202 at once; poll its URL for progress."""
        given = validated(MatchRunStartSerializer, request)
        run = match_run_start(started_by=request.user, **self._targets(given))
        return run_accepted(request.user, run)

    @extend_schema(request=None, responses={202: MatchRunSerializer})
    @action(detail=True, methods=["post"])
    def restart(self, request, pk=None):
        """Start a failed run again as a new attempt (the failed one saved nothing); 409 if the
        run did not fail."""
        return run_accepted(request.user, match_run_restart(self.get_object(), by=request.user))

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
        **read_roles(*COORDINATING_ROLES),
        "approve": COORDINATING_ROLES,
        "reject": COORDINATING_ROLES,
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

    @extend_schema(request=ApproveSerializer, responses={201: MatchSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve: a new match awaiting its agreement, or, for a replacement, the match the
        volunteer joins. 400 on acknowledge_vetting_expiry when it is needed and not given."""
        given = validated(ApproveSerializer, request)
        match = proposal_approve(self.get_object(), by=request.user, **given)
        location = reverse("api:match-detail", args=[match.pk])
        body = MatchSerializer(matches_visible_to(request.user).get(pk=match.pk)).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": location})

    @extend_schema(request=ReasonSerializer, responses=ProposalSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        given = validated(ReasonSerializer, request)
        proposal = proposal_reject(self.get_object(), by=request.user, **given)
        return Response(ProposalSerializer(self.get_queryset().get(pk=proposal.pk)).data)


class MatchViewSet(ApiReadsLogged, viewsets.ReadOnlyModelViewSet):
    """Matches as those who manage them see them. The site's coordinator (or an admin) ends a
    match early, lets one volunteer go, or searches for a replacement volunteer."""

    coordinator_actions = ("end", "release_volunteer", "replacement_search")
    roles = {
        **read_roles(*CASE_ROLES),
        "end": COORDINATING_ROLES,
        "release_volunteer": COORDINATING_ROLES,
        "replacement_search": COORDINATING_ROLES,
    }
    serializer_class = MatchSerializer
    filterset_fields = ("status", "referral", "needs_replacement")
    ordering_fields = ("created_at",)

    def get_queryset(self):
        user = self.request.user
        matches = matches_managed_by(user).select_related("referral__site__programme")
        matches = matches.prefetch_related("volunteers__volunteer__user")
        answers = check_ins.check_ins_coordinated_by(user).select_related(
            "answered_by__user", "handled_by"
        )
        matches = matches.prefetch_related(
            Prefetch("check_ins", queryset=answers, to_attr="coordinated_check_ins")
        )
        if self.action in self.coordinator_actions:
            matches = matches.filter(referral__in=referrals_coordinated_by(user))
        return within_token_centre(self.request, matches, "referral__site__crisis_centre")

    @extend_schema(request=MatchEndSerializer, responses=MatchSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        """End the match now, with a reason: the referral goes back to the queue (requeue) or
        closes. The volunteers lose sight of the participant at once; 409 if it already ended."""
        given = validated(MatchEndSerializer, request)
        match = lifecycle.match_end(self.get_object(), by=request.user, **given)
        return self._respond(match)

    @extend_schema(request=VolunteerReleaseSerializer, responses=MatchSerializer)
    @action(detail=True, methods=["post"], url_path="release-volunteer")
    def release_volunteer(self, request, pk=None):
        """Let one volunteer go (after they asked to end, say). With others left the match needs
        a replacement; with nobody left it ends and the referral waits again."""
        given = validated(VolunteerReleaseSerializer, request)
        match = self.get_object()
        volunteer = _current_volunteer(match, given.pop("volunteer"))
        lifecycle.match_volunteer_release(match, volunteer=volunteer, by=request.user, **given)
        return self._respond(match)

    @extend_schema(request=None, responses={202: MatchRunSerializer})
    @action(detail=True, methods=["post"], url_path="replacement-search")
    def replacement_search(self, request, pk=None):
        """Search for one volunteer to join the volunteers still in the match, with every rule
        applied; the proposal is reviewed like any other. 409 if nobody is missing."""
        run = replacement_search_start(self.get_object(), by=request.user)
        return run_accepted(request.user, run)

    def _respond(self, match: Match) -> Response:
        return Response(MatchSerializer(self.get_queryset().get(pk=match.pk)).data)


def _current_volunteer(match: Match, volunteer_id: int):
    """The volunteer of a place in this match, still in it."""
    place = next((p for p in match.volunteers.all() if p.volunteer_id == volunteer_id), None)
    if place is None:
        raise ValidationError({"volunteer": [_("This volunteer is not part of this match.")]})
    if place.left_at is not None:
        raise MatchConflict(_("%s has already left this match.") % place.volunteer)
    return place.volunteer


class OwnMatchViewSet(ApiReadsLogged, viewsets.ReadOnlyModelViewSet):
    """The volunteer's own matches (/api/v1/me/matches/)."""

    roles = {**read_roles(Role.VOLUNTEER), "ask_to_end": {Role.VOLUNTEER}}
    serializer_class = OwnMatchSerializer
    filterset_fields = ("status",)
    ordering_fields = ("created_at",)

    def get_queryset(self):
        own = matches_taken_part_in(self.request.user)
        own = own.select_related("referral__municipality", "referral__site__programme")
        return own.prefetch_related("volunteers")

    def get_serializer(self, instance=None, *args, **kwargs):
        if instance is not None:
            volunteer = self.request.user.volunteer
            for match in instance if kwargs.get("many") else [instance]:
                match.participant = participant_view_for(match, volunteer)
                match.own_place = next(
                    (p for p in match.volunteers.all() if p.volunteer_id == volunteer.pk), None
                )
        return super().get_serializer(instance, *args, **kwargs)

    @extend_schema(request=EndRequestSerializer, responses=OwnMatchSerializer)
    @action(detail=True, methods=["post"], url_path="ask-to-end")
    def ask_to_end(self, request, pk=None):
        """Ask the coordinator to end your part in this match; they confirm it. For safety
        reasons the match ends at once and you see only the participant's alias."""
        given = validated(EndRequestSerializer, request)
        match = lifecycle.match_end_request(self.get_object(), by=request.user, **given)
        return Response(self.get_serializer(self.get_queryset().get(pk=match.pk)).data)


class AgreementViewSet(ApiReadsLogged, viewsets.ReadOnlyModelViewSet):
    """Agreements and their signatures. The coordinator countersigns last, after every volunteer
    and the crisis centre (400 on ``agreement`` naming who is still awaited); any step on an
    ended match is 409."""

    roles = {
        **read_roles(*CASE_ROLES, Role.VOLUNTEER),
        "accept": {Role.VOLUNTEER},
        "decline": {Role.VOLUNTEER},
        "consent": {Role.CRISIS_CENTRE_STAFF},
        "countersign": {Role.COORDINATOR},
    }
    serializer_class = AgreementSerializer
    filterset_fields = ("match__status",)
    ordering_fields = ("starts_on", "id")

    def get_queryset(self):
        current = Q(match__volunteers__left_at__isnull=True)
        agreements = agreements_visible_to(self.request.user).annotate(
            volunteers_needed=F("match__referral__site__programme__volunteers_per_referral"),
            volunteers_accepted=Count(
                "match__volunteers",
                filter=current & Q(match__volunteers__accepted_at__isnull=False),
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
        given = validated(ReasonSerializer, request)
        lifecycle.agreement_decline(self.get_object(), by=request.user, **given)
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
