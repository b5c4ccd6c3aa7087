"""Where would one more volunteer help most? For a programme site's catchment (or, for
admins, every municipality), the volunteer profiles that matter to the referrals waiting
right now, each placed in each municipality, and exactly how many more of those referrals
the optimum would match with that one volunteer added (the engine's what-if, with the
rules of a match run started now). Calculated by a worker, after every match run and on
demand; one calculation per scope at a time.
"""

import datetime
import logging
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.heartbeat import heartbeat
from matching import engine
from matching.engine.what_if import Place, hypotheticals_at
from matching.engine_keys import referral_pk
from matching.models import MatchRun, RecruitmentSweep
from matching.selectors import engine_instance_for, rules_for
from outbox.services import outbox_waiting_args
from programmes.languages import language_name
from programmes.models import Municipality, Programme, ProgrammeSite

log = logging.getLogger("kobling.matching")
Status = RecruitmentSweep.Status
NORWEGIAN = "nb"
# Weekday evenings and weekend days: the two weeks volunteers most often offer.
WEEKS = {
    "evenings": tuple(engine.Slot(day=day, start=17 * 60, end=21 * 60) for day in range(5)),
    "weekends": tuple(engine.Slot(day=day, start=10 * 60, end=18 * 60) for day in (5, 6)),
}
# The name the calculation's task is queued under (matching/tasks.py).
SWEEP_TASK = "matching.recruitment_sweep"
# How many rows of places and profiles the page shows, best first.
SHOWN_GAPS = 30


@dataclass(frozen=True)
class Profile:
    """A kind of volunteer worth recruiting: Norwegian and perhaps one more language, a
    gender where referrals wish for one, and weekday evenings or weekends."""

    language: str
    week: str
    gender: str | None

    def as_json(self) -> dict:
        return {"language": self.language, "week": self.week, "gender": self.gender}

    @classmethod
    def from_json(cls, data: dict) -> "Profile":
        return cls(language=data["language"], week=data["week"], gender=data["gender"])

    def volunteer(self, number: int, level: str) -> engine.Volunteer:
        languages = (NORWEGIAN,) if self.language == NORWEGIAN else (NORWEGIAN, self.language)
        return engine.Volunteer(
            id=f"profile-{number}",
            lat=0.0,
            lon=0.0,
            municipality="",
            languages=languages,
            language_levels=(level,) * len(languages),
            availability=WEEKS[self.week],
            gender=self.gender,
            capacity=1,
        )


def profiles_for(referrals: Sequence[engine.Referral]) -> list[Profile]:
    """Each language among the waiting referrals, for weekday evenings and for weekends; a
    profile per gender wished for (a volunteer of that gender serves everyone a volunteer
    of no stated gender would), else one without."""
    languages = sorted({code for referral in referrals for code in referral.languages})
    wished = sorted({r.volunteer_gender for r in referrals if r.volunteer_gender is not None})
    genders: list[str | None] = [*wished] or [None]
    return [
        Profile(language, week, gender)
        for language in languages
        for week in WEEKS
        for gender in genders
    ]


# --- Asking for a calculation -------------------------------------------------------------


def sweep_open(
    programme: Programme, site: ProgrammeSite | None, by=None
) -> tuple[RecruitmentSweep, bool]:
    """A calculation for the scope to queue (and True), or the one already waiting or
    running there (and False): one per scope at a time."""
    sweeps_fail_stale()
    with transaction.atomic():
        # Lock the programme row so that two requests at once open one calculation.
        Programme.objects.select_for_update().get(pk=programme.pk)
        pending = _scope(programme, site).filter(status__in=(Status.QUEUED, Status.RUNNING))
        current = pending.first()
        if current is not None:
            return current, False
        sweep = RecruitmentSweep.objects.create(
            programme=programme, site=site, requested_by=by, heartbeat_at=timezone.now()
        )
    return sweep, True


def scopes_after(run: MatchRun) -> list[tuple[Programme, ProgrammeSite | None]]:
    """After a match run the waiting referrals have changed: its sites are calculated again,
    and the whole programme after a programme-wide run; nothing after a replacement search."""
    if run.scope == MatchRun.Scope.REPLACEMENT:
        return []
    sites = ProgrammeSite.objects.filter(programme=run.programme)
    if run.scope == MatchRun.Scope.SITE:
        sites = sites.filter(pk=run.site_id or 0)
    elif run.scope == MatchRun.Scope.CRISIS_CENTRE:
        sites = sites.filter(crisis_centre=run.crisis_centre_id)
    scopes: list[tuple[Programme, ProgrammeSite | None]] = [(run.programme, s) for s in sites]
    if run.scope == MatchRun.Scope.PROGRAMME:
        scopes.append((run.programme, None))
    return scopes


def sweeps_fail_stale(now: datetime.datetime | None = None) -> int:
    """Mark failed every calculation silent for MATCH_RUN_STALE_MINUTES: its worker died.
    Nothing it found was saved, and a new request starts again."""
    now = now or timezone.now()
    limit = now - datetime.timedelta(minutes=settings.MATCH_RUN_STALE_MINUTES)
    stale = RecruitmentSweep.objects.filter(
        Q(heartbeat_at__lt=limit) | Q(heartbeat_at__isnull=True, created_at__lt=limit),
        status__in=(Status.QUEUED, Status.RUNNING),
    )
    # One whose task waits in the outbox (the broker is down), or left it lately, is not dead.
    waiting = [args[0] for args in outbox_waiting_args(SWEEP_TASK, sent_since=limit)]
    stale = stale.exclude(pk__in=waiting)
    return stale.update(status=Status.FAILED, error="stale", finished_at=now)


def _scope(programme: Programme, site: ProgrammeSite | None):
    return RecruitmentSweep.objects.filter(programme=programme, site=site)


# --- The calculation (in a worker) ---------------------------------------------------------


def sweep_execute(sweep_id: int) -> RecruitmentSweep:
    """Gather as a match run would, ask the engine what each profile in each place would
    add, and save the places and profiles that help, best first. A calculation already
    taken (a redelivered task) is left alone."""
    sweep = _claim(sweep_id)
    if sweep is None:
        return RecruitmentSweep.objects.get(pk=sweep_id)
    try:
        with _heartbeat(sweep):
            instance = engine_instance_for(_run_like(sweep))
            _beat(sweep, 30)
            profiles = profiles_for(instance.referrals)
            places = _places(sweep)
            answers = _answers(instance, profiles, places)
            _beat(sweep, 80)
            _save(sweep, len(instance.referrals), profiles, places, answers)
    except Exception as error:
        log.exception("Recruitment calculation %s failed", sweep.pk)
        failed = {"status": Status.FAILED, "error": f"{type(error).__name__}: {error}"}
        RecruitmentSweep.objects.filter(pk=sweep.pk).update(**failed, finished_at=timezone.now())
        raise
    return RecruitmentSweep.objects.get(pk=sweep.pk)


def _claim(sweep_id: int) -> RecruitmentSweep | None:
    with transaction.atomic():
        sweep = RecruitmentSweep.objects.select_for_update().get(pk=sweep_id)
        if sweep.status != Status.QUEUED:
            return None
        sweep.status, sweep.progress, sweep.heartbeat_at = Status.RUNNING, 10, timezone.now()
        sweep.save(update_fields=["status", "progress", "heartbeat_at"])
    return sweep


def _heartbeat(sweep: RecruitmentSweep) -> AbstractContextManager[None]:
    """Alive while the engine works (minutes for a whole programme), so that
    `sweeps_fail_stale` leaves the calculation alone."""
    mine = RecruitmentSweep.objects.filter(pk=sweep.pk, status=Status.RUNNING)
    return heartbeat(mine, settings.MATCH_RUN_HEARTBEAT_SECONDS, f"recruitment-{sweep.pk}")


def _beat(sweep: RecruitmentSweep, progress: int) -> None:
    RecruitmentSweep.objects.filter(pk=sweep.pk, status=Status.RUNNING).update(
        progress=progress, heartbeat_at=timezone.now()
    )


def _run_like(sweep: RecruitmentSweep) -> MatchRun:
    """The match run that, started now, would gather what the calculation asks about."""
    scope = MatchRun.Scope.SITE if sweep.site_id else MatchRun.Scope.PROGRAMME
    return MatchRun(
        programme=sweep.programme,
        scope=scope,
        site=sweep.site,
        on_date=timezone.localdate(),
        rules=rules_for(sweep.programme),
    )


def _places(sweep: RecruitmentSweep) -> list[Municipality]:
    """The municipalities the site's crisis centre serves (and hosts); all for a programme."""
    municipalities = Municipality.objects.order_by("number")
    if sweep.site is None:
        return list(municipalities)
    centre = sweep.site.crisis_centre
    served = Q(pk__in=centre.municipalities_served.values("pk")) | Q(pk=centre.host_municipality_id)
    return list(municipalities.filter(served))


def _answers(
    instance: engine.Instance, profiles: list[Profile], places: list[Municipality]
) -> list[tuple[Municipality, int, engine.WhatIfAnswer]]:
    if not instance.referrals or not profiles or not places:
        return []
    level = instance.rules.min_language_level
    volunteers = [profile.volunteer(n, level) for n, profile in enumerate(profiles)]
    where = [Place(m.number, m.lat, m.lon) for m in places]
    answers = engine.what_if(instance, hypotheticals_at(volunteers, where))
    # hypotheticals_at places each profile at every place in turn.
    asked = [(place, n) for n in range(len(profiles)) for place in places]
    return [(place, n, answer) for (place, n), answer in zip(asked, answers, strict=True)]


def _save(sweep, waiting, profiles, places, answers) -> None:
    helping = [
        {
            "municipality": place.number,
            "profile": n,
            "extra": answer.extra_matched,
            "referrals": sorted(referral_pk(key) for key in answer.newly_matched),
        }
        for place, n, answer in answers
        if answer.extra_matched > 0
    ]
    names = {place.number: place.name for place in places}
    helping.sort(key=lambda gap: (-gap["extra"], names[gap["municipality"]], gap["profile"]))
    with transaction.atomic():
        updated = RecruitmentSweep.objects.filter(pk=sweep.pk, status=Status.RUNNING).update(
            status=Status.SUCCEEDED,
            progress=100,
            finished_at=timezone.now(),
            heartbeat_at=timezone.now(),
            waiting=waiting,
            places=len(places),
            profiles=[profile.as_json() for profile in profiles],
            gaps=helping,
        )
        if updated:
            # Only the latest result per scope is kept: the older ones describe a queue that
            # no longer exists.
            _scope(sweep.programme, sweep.site).filter(
                status__in=(Status.SUCCEEDED, Status.FAILED), created_at__lt=sweep.created_at
            ).delete()


# --- Reading a result ------------------------------------------------------------------------


@dataclass(frozen=True)
class Gap:
    """One kind of volunteer who, placed in any of these municipalities, would get the same
    referrals matched (often a whole catchment gives the same answer)."""

    profile: Profile
    extra: int
    referral_ids: list[int]
    municipalities: list[Municipality]  # the most populous first

    @property
    def languages_needed(self) -> str:
        """The language beyond Norwegian the volunteer should speak, if any."""
        return "" if self.profile.language == NORWEGIAN else language_name(self.profile.language)

    @property
    def description(self) -> str:
        """The profile in words: "A woman who speaks Somali, on weekday evenings"."""
        return profile_words(self.profile)

    @property
    def place_names(self) -> str:
        return ", ".join(m.name for m in self.municipalities)

    @property
    def recruitment_text(self) -> str:
        """A sentence a local branch can put in a recruitment post ("We need a volunteer in
        Nes who speaks Somali and has time on weekday evenings."). It names places and the
        language, never the participants or a crisis centre; of many places, the two most
        populous, where one person is hardest to single out."""
        values = {
            "who": _who_in_text()[self.profile.gender],
            "place": _places_in_text([m.name for m in self.municipalities]),
            "language": self.languages_needed,
            "week": _week_in_text()[self.profile.week],
        }
        if self.languages_needed:
            return (
                _("We need %(who)s in %(place)s who speaks %(language)s and has time %(week)s.")
                % values
            )
        return _("We need %(who)s in %(place)s who has time %(week)s.") % values


def _places_in_text(names: list[str]) -> str:
    if len(names) == 1:
        return names[0]
    if len(names) <= 3:
        return _("%(places)s or %(last)s") % {"places": ", ".join(names[:-1]), "last": names[-1]}
    return _("%(first)s, %(second)s or nearby") % {"first": names[0], "second": names[1]}


def profile_words(profile: Profile) -> str:
    """ "A woman who speaks Somali, on weekday evenings"."""
    values = {
        "who": _who_alone()[profile.gender],
        "language": language_name(profile.language),
        "week": _week_in_text()[profile.week],
    }
    if profile.language == NORWEGIAN:
        return _("%(who)s, %(week)s") % values
    return _("%(who)s who speaks %(language)s, %(week)s") % values


def _who_alone() -> dict[str | None, str]:
    return {None: _("A volunteer"), "female": _("A woman"), "male": _("A man")}


def _who_in_text() -> dict[str | None, str]:
    return {
        None: _("a volunteer"),
        "female": _("a female volunteer"),
        "male": _("a male volunteer"),
    }


def _week_in_text() -> dict[str, str]:
    return {"evenings": _("on weekday evenings"), "weekends": _("at weekends")}


def gaps_of(sweep: RecruitmentSweep, limit: int = SHOWN_GAPS) -> list[Gap]:
    """A finished calculation's rows, best first, the places where the same kind of volunteer
    would match the same referrals taken together (two queries at most)."""
    municipalities = Municipality.objects.in_bulk(
        {row["municipality"] for row in sweep.gaps}, field_name="number"
    )
    profiles = [Profile.from_json(data) for data in sweep.profiles]
    places: dict[tuple[int, int, tuple[int, ...]], list[Municipality]] = {}
    for row in sweep.gaps:  # best first, so groups come out best first
        key = (row["profile"], row["extra"], tuple(row["referrals"]))
        if row["municipality"] in municipalities:
            places.setdefault(key, []).append(municipalities[row["municipality"]])
    return [
        Gap(
            profile=profiles[n],
            extra=extra,
            referral_ids=list(referrals),
            municipalities=sorted(found, key=lambda m: (-m.population, m.name)),
        )
        for (n, extra, referrals), found in list(places.items())[:limit]
    ]
