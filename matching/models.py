"""Match runs, the proposals they make, the matches coordinators approve, and the agreements
that make a match active.

1. A coordinator starts a MatchRun; the engine proposes (Proposal, one ProposalPair per
   volunteer) and explains every referral it leaves unmatched (UnmatchedReferral).
2. A coordinator approves a proposal (it becomes a Match with its MatchVolunteers) or rejects it
   (every pair in it becomes a RejectedPair and is never proposed again).
3. The Match's Agreement becomes active when each volunteer has accepted, crisis-centre staff
   have recorded the participant's consent and the coordinator has countersigned.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from programmes.models import CrisisCentre, Programme, ProgrammeSite, Referral
from volunteers.models import Volunteer

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


class MatchRun(models.Model):
    class Scope(models.TextChoices):
        SITE = "site", _("One programme site")
        CRISIS_CENTRE = "crisis_centre", _("One crisis centre's catchment")
        PROGRAMME = "programme", _("The whole programme")
        REPLACEMENT = "replacement", _("A replacement volunteer for one match")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    class Phase(models.TextChoices):
        WAITING = "waiting", _("Waiting for a worker")
        GATHERING = "gathering", _("Gathering referrals and volunteers")
        SOLVING = "solving", _("Solving")
        SAVING = "saving", _("Saving proposals")
        DONE = "done", _("Done")

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="match_runs", verbose_name=_("programme")
    )
    scope = models.CharField(_("scope"), max_length=20, choices=Scope.choices)
    site = models.ForeignKey(
        ProgrammeSite,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="match_runs",
        verbose_name=_("programme site"),
    )
    crisis_centre = models.ForeignKey(
        CrisisCentre,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="match_runs",
        verbose_name=_("crisis centre"),
    )
    match = models.ForeignKey(
        "Match",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replacement_runs",
        verbose_name=_("match that needs a replacement volunteer"),
    )
    on_date = models.DateField(_("eligibility evaluated on"))
    rules = models.JSONField(_("rules used"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="match_runs",
        verbose_name=_("started by"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.QUEUED
    )
    phase = models.CharField(_("phase"), max_length=20, choices=Phase.choices, default="waiting")
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    timings = models.JSONField(_("seconds per phase"), default=dict, blank=True)
    referrals_considered = models.PositiveIntegerField(_("referrals considered"), default=0)
    volunteers_considered = models.PositiveIntegerField(_("volunteers considered"), default=0)
    proposals_made = models.PositiveIntegerField(_("proposals made"), default=0)
    unmatched_count = models.PositiveIntegerField(_("referrals without a proposal"), default=0)
    error = models.TextField(_("why it failed"), blank=True)
    # The worker touches this at every phase; a run silent for longer than
    # MATCH_RUN_STALE_MINUTES is taken for dead (matching.runs.match_runs_fail_stale).
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=0)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("match run")
        verbose_name_plural = _("match runs")
        constraints = [
            models.CheckConstraint(
                name="match_run_scope_has_its_target",
                condition=(
                    models.Q(scope="site", site__isnull=False)
                    | models.Q(scope="crisis_centre", crisis_centre__isnull=False)
                    | models.Q(scope="programme")
                    | models.Q(scope="replacement", match__isnull=False)
                ),
            )
        ]

    # ``error`` of a run marked failed because it stopped showing signs of life.
    STALE = "stale: no sign of life from the worker"

    def __str__(self) -> str:
        return _("%(programme)s, run %(number)s (%(status)s)") % {
            "programme": self.programme,
            "number": self.pk,
            "status": self.get_status_display(),
        }

    @property
    def name(self) -> str:
        """A run as coordinators know it: what it looked for, and when it started."""
        when = date_format(timezone.localtime(self.created_at), "SHORT_DATETIME_FORMAT")
        if self.match is not None:
            return _("Replacement volunteer for %(alias)s, %(when)s") % {
                "alias": self.match.referral.alias,
                "when": when,
            }
        if self.site_id:
            target = str(self.site)
        elif self.crisis_centre_id:
            target = f"{self.programme} – {self.crisis_centre}"
        else:
            target = f"{self.programme} – {self.get_scope_display()}"
        return f"{target}, {when}"

    @property
    def failure_text(self) -> "StrPromise":
        """Why the run failed, for the coordinator: nothing was saved either way."""
        if self.error == self.STALE:
            return _(
                "The run stopped reporting progress, probably because the server running it "
                "stopped. Nothing was saved. Start it again."
            )
        return _("The run failed and nothing was saved. Start it again, or ask an administrator.")


class Proposal(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    run = models.ForeignKey(
        MatchRun, on_delete=models.CASCADE, related_name="proposals", verbose_name=_("match run")
    )
    referral = models.ForeignKey(
        Referral, on_delete=models.PROTECT, related_name="proposals", verbose_name=_("referral")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    cost = models.FloatField(_("cost"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    rejection_reason = models.CharField(_("why rejected"), max_length=300, blank=True)
    replacement_for = models.ForeignKey(
        "Match",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replacement_proposals",
        verbose_name=_("replaces a volunteer in"),
    )
    vetting_expiry_acknowledged_at = models.DateTimeField(
        _("vetting expiry acknowledged at"), null=True, blank=True
    )
    made_by_hand = models.BooleanField(
        _("proposed by a coordinator"),
        default=False,
        help_text=_("A near miss the coordinator proposed by hand, not the engine's choice."),
    )
    hand_reason = models.CharField(_("why proposed by hand"), max_length=300, blank=True)
    relaxed_rules = models.JSONField(
        _("rules relaxed"),
        default=list,
        blank=True,
        help_text=_("The matching rules the coordinator chose to relax for this proposal."),
    )

    class Meta:
        ordering = ["run", "referral__alias"]
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        constraints = [
            # A run delivered twice cannot propose the same referral twice.
            models.UniqueConstraint(
                fields=["run", "referral"],
                condition=models.Q(made_by_hand=False),
                name="one_proposal_per_run",
            ),
            models.CheckConstraint(
                name="hand_made_proposal_has_reason",
                condition=models.Q(made_by_hand=False) | ~models.Q(hand_reason=""),
            ),
            models.CheckConstraint(
                name="rejected_proposal_has_reason",
                condition=~models.Q(status="rejected") | ~models.Q(rejection_reason=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.referral} ({self.get_status_display()})"

    @property
    def vetting_expires_during_agreement(self) -> bool:
        return any(pair.vetting_expires_on for pair in self.pairs.all())


class ProposalPair(models.Model):
    """One volunteer of a proposal, with the engine's explanation."""

    proposal = models.ForeignKey(
        Proposal, on_delete=models.CASCADE, related_name="pairs", verbose_name=_("proposal")
    )
    volunteer = models.ForeignKey(
        Volunteer,
        on_delete=models.PROTECT,
        related_name="proposal_pairs",
        verbose_name=_("volunteer"),
    )
    distance_km = models.FloatField(_("distance (km)"))
    overlap_hours = models.FloatField(_("weekly overlap (hours)"))
    shared_languages = models.JSONField(_("shared languages"))
    shared_activities = models.JSONField(
        _("shared activities"),
        default=list,
        blank=True,
        help_text=_("Codes of the activities the volunteer offers and the participant wishes for."),
    )
    cost = models.FloatField(_("cost"))
    vetting_expires_on = models.DateField(
        _("vetting expires during the agreement on"),
        null=True,
        blank=True,
        help_text=_("Set only when the volunteer's vetting runs out before the agreement ends."),
    )

    class Meta:
        ordering = ["proposal", "volunteer_id"]
        verbose_name = _("proposed volunteer")
        verbose_name_plural = _("proposed volunteers")
        constraints = [
            models.UniqueConstraint(fields=["proposal", "volunteer"], name="volunteer_once")
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} ({self.distance_km:.1f} km)"


class UnmatchedReferral(models.Model):
    """Why the run could not propose anyone for a referral."""

    run = models.ForeignKey(
        MatchRun, on_delete=models.CASCADE, related_name="unmatched", verbose_name=_("match run")
    )
    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, related_name="+", verbose_name=_("referral")
    )
    reason = models.CharField(_("reason"), max_length=40)
    detail = models.TextField(_("what would have helped"))
    facts = models.JSONField(
        _("facts behind the reason"),
        default=dict,
        blank=True,
        help_text=_("The engine's figures for the reason, turned into a sentence on each page."),
    )

    # Not stored: set on rows about to be shown (reasons.unmatched_explain, views._explained).
    explanation: str
    can_propose: bool

    class Meta:
        ordering = ["run", "reason", "referral__alias"]
        verbose_name = _("referral without a proposal")
        verbose_name_plural = _("referrals without a proposal")
        constraints = [
            models.UniqueConstraint(fields=["run", "referral"], name="one_reason_per_run")
        ]

    def __str__(self) -> str:
        return f"{self.referral}: {self.reason}"


class NearMiss(models.Model):
    """A volunteer who fails exactly one relaxable rule for an unmatched referral, or (rule
    "eligible") passes them all but was not enough on their own."""

    class Rule(models.TextChoices):
        DISTANCE = "distance", _("Lives beyond the distance limit")
        AVAILABILITY = "availability", _("Too little shared time")
        GENDER = "gender", _("Not the gender the participant wished for")
        ELIGIBLE = "eligible", _("Meets every rule")

    unmatched = models.ForeignKey(
        UnmatchedReferral,
        on_delete=models.CASCADE,
        related_name="near_misses",
        verbose_name=_("referral without a proposal"),
    )
    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.CASCADE, related_name="+", verbose_name=_("volunteer")
    )
    rule = models.CharField(_("rule failed"), max_length=20, choices=Rule.choices)
    shortfall = models.FloatField(
        _("shortfall"), help_text=_("Kilometres beyond the limit, or minutes of shared time short.")
    )
    distance_km = models.FloatField(_("distance (km)"))
    overlap_minutes = models.PositiveIntegerField(_("weekly overlap (minutes)"))

    # Not stored: set on rows about to be shown (reasons.unmatched_explain).
    explanation: str

    class Meta:
        ordering = ["unmatched", "shortfall", "volunteer_id"]
        verbose_name = _("near miss")
        verbose_name_plural = _("near misses")
        constraints = [
            models.UniqueConstraint(fields=["unmatched", "volunteer"], name="near_miss_once")
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} ({self.get_rule_display()})"


class RejectedPair(models.Model):
    """A referral and volunteer a coordinator said no to: never proposed together again."""

    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, related_name="+", verbose_name=_("referral")
    )
    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.CASCADE, related_name="+", verbose_name=_("volunteer")
    )
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("rejected by"),
    )
    rejected_at = models.DateTimeField(_("rejected at"), auto_now_add=True)
    reason = models.CharField(_("reason"), max_length=300)

    class Meta:
        verbose_name = _("rejected pair")
        verbose_name_plural = _("rejected pairs")
        constraints = [
            models.UniqueConstraint(fields=["referral", "volunteer"], name="pair_rejected_once")
        ]

    def __str__(self) -> str:
        return f"{self.referral} × {self.volunteer}"


class Match(models.Model):
    class Status(models.TextChoices):
        AWAITING_AGREEMENT = "awaiting_agreement", _("Awaiting agreement")
        ACTIVE = "active", _("Active")
        DECLINED = "declined", _("Declined")
        CLOSED = "closed", _("Ended")

    class EndReason(models.TextChoices):
        """Why a match ended, or why one volunteer left it. The first six are also a referral's
        closure reasons."""

        COMPLETED = "completed", _("Agreement period completed")
        PARTICIPANT_ENDED = "participant_ended", _("Participant ended it")
        VOLUNTEER_ENDED = "volunteer_ended", _("Volunteer ended it")
        MOVED = "moved", _("Participant moved")
        SAFETY = "safety", _("Ended for safety reasons")
        OTHER = "other", _("Other")
        DECLINED = "declined", _("The volunteer declined the agreement")
        WITHDRAWN = "withdrawn", _("The referral was withdrawn")

    OPEN_STATUSES = (Status.AWAITING_AGREEMENT, Status.ACTIVE)

    referral = models.ForeignKey(
        Referral, on_delete=models.PROTECT, related_name="matches", verbose_name=_("referral")
    )
    proposal = models.OneToOneField(
        Proposal, on_delete=models.PROTECT, related_name="match", verbose_name=_("proposal")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.AWAITING_AGREEMENT
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("approved by"),
    )
    created_at = models.DateTimeField(_("approved at"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    closure_reason = models.CharField(
        _("why it ended"), max_length=30, choices=EndReason.choices, blank=True
    )
    end_reason = models.CharField(_("note on the ending"), max_length=300, blank=True)
    needs_replacement = models.BooleanField(_("needs a replacement volunteer"), default=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("match")
        verbose_name_plural = _("matches")
        constraints = [
            models.UniqueConstraint(
                fields=["referral"],
                condition=models.Q(status__in=["awaiting_agreement", "active"]),
                name="one_open_match_per_referral",
            )
        ]

    def __str__(self) -> str:
        return f"{self.referral} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class MatchVolunteer(models.Model):
    """A volunteer's place in a match. It stays as a record of who signed after the volunteer
    declines or leaves (``left_at``); only a current place holds capacity."""

    match = models.ForeignKey(
        Match, on_delete=models.CASCADE, related_name="volunteers", verbose_name=_("match")
    )
    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.PROTECT, related_name="matches", verbose_name=_("volunteer")
    )
    accepted_at = models.DateTimeField(_("accepted the agreement at"), null=True, blank=True)
    left_at = models.DateTimeField(_("left the match at"), null=True, blank=True)
    left_reason = models.CharField(
        _("why they left"), max_length=30, choices=Match.EndReason.choices, blank=True
    )
    left_note = models.CharField(_("note on leaving"), max_length=300, blank=True)
    end_requested_at = models.DateTimeField(_("asked to end at"), null=True, blank=True)
    end_request_reason = models.CharField(
        _("why they ask to end"), max_length=30, choices=Match.EndReason.choices, blank=True
    )
    end_request_note = models.CharField(_("note on the request"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("volunteer in a match")
        verbose_name_plural = _("volunteers in matches")
        constraints = [
            models.UniqueConstraint(fields=["match", "volunteer"], name="match_volunteer_once")
        ]

    def __str__(self) -> str:
        return _("%(volunteer)s in %(match)s") % {"volunteer": self.volunteer, "match": self.match}

    @property
    def is_current(self) -> bool:
        return self.left_at is None


class AgreementTerms(models.Model):
    """A programme's agreement text, versioned: an agreement keeps the version it was made on.
    Each version is written in bokmål (``text``, ``contact_rules``, ``confidentiality``) and may
    carry its English translation (the ``_en`` fields); a reader of English sees the bokmål
    text, with a note, where a version has none."""

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="terms", verbose_name=_("programme")
    )
    version = models.PositiveSmallIntegerField(_("version"))
    period_months = models.PositiveSmallIntegerField(_("agreement period (months)"))
    text = models.TextField(_("terms (bokmål)"))
    contact_rules = models.TextField(_("contact rules (bokmål)"))
    confidentiality = models.TextField(_("confidentiality (bokmål)"))
    text_en = models.TextField(_("terms (English)"), blank=True)
    contact_rules_en = models.TextField(_("contact rules (English)"), blank=True)
    confidentiality_en = models.TextField(_("confidentiality (English)"), blank=True)
    published_on = models.DateField(_("published on"))

    class Meta:
        ordering = ["programme", "-version"]
        verbose_name = _("agreement terms")
        verbose_name_plural = _("agreement terms")
        constraints = [
            models.UniqueConstraint(fields=["programme", "version"], name="terms_version_once")
        ]

    def __str__(self) -> str:
        return _("%(programme)s, version %(version)s") % {
            "programme": self.programme,
            "version": self.version,
        }

    def clean(self) -> None:
        english = [self.text_en, self.contact_rules_en, self.confidentiality_en]
        if any(english) and not all(english):
            raise ValidationError(
                _("Give all three texts in English, or none: the terms are read as a whole.")
            )

    def in_language(self, language: str) -> "TermsText":
        """The three texts in ``language`` ("en" or "nb"): English where this version has it,
        bokmål otherwise."""
        english = (self.text_en, self.contact_rules_en, self.confidentiality_en)
        if language.startswith("en") and all(english):
            return TermsText(*english, language="en", translation_missing=False)
        return TermsText(
            self.text,
            self.contact_rules,
            self.confidentiality,
            language="nb",
            translation_missing=language.startswith("en"),
        )


@dataclass(frozen=True)
class TermsText:
    """One version's terms in one language, as a reader sees them."""

    text: str
    contact_rules: str
    confidentiality: str
    language: str
    translation_missing: bool


class Agreement(models.Model):
    """Active once every volunteer has accepted, the crisis centre has recorded the participant's
    consent and the coordinator has countersigned."""

    match = models.OneToOneField(
        Match, on_delete=models.CASCADE, related_name="agreement", verbose_name=_("match")
    )
    terms = models.ForeignKey(
        AgreementTerms, on_delete=models.PROTECT, related_name="+", verbose_name=_("terms version")
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    consent_recorded_at = models.DateTimeField(
        _("participant's consent recorded at"), null=True, blank=True
    )
    consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("participant's consent recorded by"),
    )
    countersigned_at = models.DateTimeField(_("countersigned at"), null=True, blank=True)
    countersigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("countersigned by"),
    )
    activated_at = models.DateTimeField(_("active from"), null=True, blank=True)

    class Meta:
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        constraints = [
            models.CheckConstraint(
                name="agreement_ends_after_it_starts",
                condition=models.Q(ends_on__gt=models.F("starts_on")),
            )
        ]

    def __str__(self) -> str:
        return f"{_('Agreement')} {self.match.referral}"


class CheckIn(models.Model):
    """Follow-up of an active match at 1, 3 and 6 months: the volunteer answers a short form;
    one left unanswered past its due date surfaces to the coordinator."""

    class Wellbeing(models.TextChoices):
        GOOD = "good", _("It is going well")
        MIXED = "mixed", _("Some difficulties")
        POOR = "poor", _("It is not working")

    MONTHS = (1, 3, 6)

    match = models.ForeignKey(
        Match, on_delete=models.CASCADE, related_name="check_ins", verbose_name=_("match")
    )
    months_after_start = models.PositiveSmallIntegerField(_("months after start"))
    due_on = models.DateField(_("due on"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    # Either volunteer of a Fritidsvenn pair may answer; the coordinator needs to know which.
    answered_by = models.ForeignKey(
        Volunteer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered by"),
    )
    meetings_held = models.PositiveSmallIntegerField(_("meetings since last check-in"), null=True)
    wellbeing = models.CharField(
        _("how it is going"), max_length=10, choices=Wellbeing.choices, blank=True
    )
    wants_contact = models.BooleanField(_("wants the coordinator to get in touch"), default=False)
    note = models.CharField(
        _("anything else"),
        max_length=500,
        blank=True,
        help_text=_("No names, addresses or other details that identify anyone."),
    )
    overdue_notified_on = models.DateField(
        _("coordinator told it is overdue on"), null=True, blank=True
    )
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled by"),
    )
    handled_note = models.CharField(_("what the coordinator did"), max_length=300, blank=True)

    # Not stored: annotated by check_ins.check_ins_needing_attention (urgency), set on rows about
    # to be shown by views._needs_attention (words, days_overdue).
    urgency: int
    words: str
    days_overdue: int

    class Meta:
        ordering = ["due_on"]
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        constraints = [
            models.UniqueConstraint(
                fields=["match", "months_after_start"], name="one_check_in_per_milestone"
            )
        ]

    def __str__(self) -> str:
        return ngettext(
            "%(match)s after %(months)s month",
            "%(match)s after %(months)s months",
            self.months_after_start,
        ) % {"match": self.match, "months": self.months_after_start}


class RecruitmentSweep(models.Model):
    """Where one more volunteer would help most: per municipality of a catchment and per
    volunteer profile that matters to the referrals waiting, how many more of them the
    engine's optimum would match with that one volunteer added (matching/recruitment.py)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting for a worker")
        RUNNING = "running", _("Calculating")
        SUCCEEDED = "succeeded", _("Done")
        FAILED = "failed", _("Failed")

    programme = models.ForeignKey(
        Programme,
        on_delete=models.PROTECT,
        related_name="recruitment_sweeps",
        verbose_name=_("programme"),
    )
    # Empty: the whole programme, every municipality in the country.
    site = models.ForeignKey(
        ProgrammeSite,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="recruitment_sweeps",
        verbose_name=_("programme site"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
        help_text=_("Empty when it was recalculated after a match run."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    waiting = models.PositiveIntegerField(_("referrals waiting"), default=0)
    places = models.PositiveIntegerField(_("municipalities tried"), default=0)
    profiles = models.JSONField(_("volunteer profiles tried"), default=list, blank=True)
    # [{"municipality": "1804", "profile": 0, "extra": 2, "referrals": [pk, ...]}, ...],
    # best first; only places and profiles that would get someone matched.
    gaps = models.JSONField(_("where one more volunteer helps"), default=list, blank=True)
    error = models.TextField(_("why it failed"), blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("recruitment calculation")
        verbose_name_plural = _("recruitment calculations")

    def __str__(self) -> str:
        target = str(self.site) if self.site_id else str(self.programme)
        when = date_format(timezone.localtime(self.created_at), "SHORT_DATETIME_FORMAT")
        return f"{target}, {when}"

    @property
    def in_progress(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)
