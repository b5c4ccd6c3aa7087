"""Why a referral was left unmatched: the five rules applied cumulatively to all volunteers.

A volunteer passes the language rule only with a language spoken at the rules' level or better
(tables.py filters the rest out); a language miss counts those nearby who speak a wanted
language only below it.

Only volunteers inside the referral's distance limit can pass rule 1, so everything is
evaluated on a KD-tree ball, never on a scan of all volunteers. Each reason comes with its
figures (`facts`, JSON-ready: km to 0.1, whole minutes; keys listed in docs/design.md), a
developer's one-line `detail`; pipeline.py adds the near misses (near_misses.py).
"""

import numpy as np

from .candidates import CandidateIndex, PairChecks
from .geo import haversine_km
from .instance import Referral, Volunteer
from .near_misses import needed_minutes
from .people import Records
from .result import FactValue, NearMiss, Unmatched
from .tables import Codebook, IntArray

NO_VOLUNTEER_WITHIN_DISTANCE = "no_volunteer_within_distance"
NO_SHARED_LANGUAGE = "no_shared_language"
NO_AVAILABILITY_OVERLAP = "no_availability_overlap"
GENDER_PREFERENCE = "gender_preference"
SAFETY_EXCLUSION = "safety_exclusion"
REJECTED_BEFORE = "rejected_before"
NOT_ENOUGH_VOLUNTEERS = "not_enough_volunteers"
CAPACITY_TAKEN = "capacity_taken"

Facts = dict[str, FactValue]


class Explainer:
    def __init__(
        self,
        index: CandidateIndex,
        people: tuple[Records[Referral], Records[Volunteer]],
        codes: Codebook,
        load: IntArray,
    ) -> None:
        self.index = index
        self.referrals, self.volunteers = people
        self.load = load
        self._languages = codes.languages

    def explain(self, row: int, near_misses: tuple[NearMiss, ...] = ()) -> Unmatched:
        referral = self.referrals[row]
        checks = self._checks_within_limit(row)
        reason, detail, facts = self._first_failing_rule(row, checks)
        return Unmatched(
            referral=referral.id,
            reason=reason,
            detail=detail,
            facts=facts,
            near_misses=near_misses,
        )

    def _checks_within_limit(self, row: int) -> PairChecks:
        volunteers = self.index.within_any_language(row)
        return self.index.check_pairs(np.full(volunteers.size, row, dtype=np.int64), volunteers)

    def _first_failing_rule(self, row: int, checks: PairChecks) -> tuple[str, str, Facts]:
        passing = checks.within_distance
        if not passing.any():
            return NO_VOLUNTEER_WITHIN_DISTANCE, *self._nearest_volunteer(row)
        steps = (
            (NO_SHARED_LANGUAGE, checks.shared_language, self._language_miss),
            (NO_AVAILABILITY_OVERLAP, checks.overlapping, self._best_overlap),
            (GENDER_PREFERENCE, checks.gender_ok, self._gender_miss),
            (SAFETY_EXCLUSION, checks.safe, self._safety_miss),
            (REJECTED_BEFORE, checks.not_rejected, self._rejection_miss),
        )
        for reason, rule, describe in steps:
            if not (passing & rule).any():
                return reason, *describe(row, checks, passing)
            passing = passing & rule
        return self._shortage(row, checks, passing)

    def _nearest_volunteer(self, row: int) -> tuple[str, Facts]:
        limit = float(self.index.referrals.limit_km[row])
        tree = self.index.tree
        facts: Facts = {"limit_km": _km(limit), "nearest_km": None, "nearest_municipality": None}
        if tree is None:
            return "there are no volunteers", facts
        _, nearest = tree.query(self.index.referrals.xyz[row])
        distance, municipality = self._distance_to(row, int(nearest))
        facts |= {"nearest_km": _km(distance), "nearest_municipality": municipality}
        return (
            f"nearest volunteer is {distance:.0f} km away (municipality {municipality}); "
            f"limit {limit:g} km"
        ), facts

    def _language_miss(
        self, row: int, checks: PairChecks, passing: np.ndarray
    ) -> tuple[str, Facts]:
        languages = sorted(set(self.referrals[row].languages))
        nearby = int(passing.sum())
        closest = self._nearest_speaker(row)
        facts: Facts = {
            "limit_km": _km(float(self.index.referrals.limit_km[row])),
            "nearby": nearby,
            "languages": languages,
            "nearest_speaker_km": None,
            "nearest_speaker_municipality": None,
            "nearest_speaker_language": None,
        }
        below = self._speakers_below_level(checks.volunteer[passing], row)
        level = self.index.rules.min_language_level
        at_level = " at that level" if below else ""
        tail = f"; no volunteer anywhere speaks it{at_level}"
        if closest is not None:
            distance, municipality, language = closest
            facts |= {
                "nearest_speaker_km": _km(distance),
                "nearest_speaker_municipality": municipality,
                "nearest_speaker_language": language,
            }
            tail = (
                f"; nearest '{language}' speaker{at_level} is {distance:.0f} km away "
                f"(municipality {municipality})"
            )
        wanted = "/".join(languages)
        if below:
            facts |= {"speakers_below_level": below, "required_level": level}
            wanted += f" at level {level} or better ({below} speak(s) it only below that)"
        detail = f"{nearby} volunteer(s) within {self._limit(row)} km, none speaks {wanted}{tail}"
        return detail, facts

    def _speakers_below_level(self, volunteers: IntArray, row: int) -> int:
        """How many of these volunteers speak one of the row's languages, only below the
        level the rules ask for."""
        wanted = self.index.referrals.language_words[row]
        below = self.index.volunteers.below_level_words[volunteers] & wanted
        return int(np.count_nonzero(np.any(below, axis=1)))

    def _best_overlap(self, row: int, checks: PairChecks, passing: np.ndarray) -> tuple[str, Facts]:
        overlap = np.where(passing, checks.overlap_minutes, -1)
        best = int(np.argmax(overlap))
        volunteer = self.index.volunteers.ids[int(checks.volunteer[best])]
        need = self.index.rules.min_overlap_hours
        candidates = int(passing.sum())
        facts: Facts = {
            "candidates": candidates,
            "best_overlap_minutes": int(overlap[best]),
            "needed_minutes": needed_minutes(self.index.rules),
        }
        return (
            f"best weekly overlap among {candidates} nearby speaker(s) is "
            f"{overlap[best] / 60:.2f} h (volunteer {volunteer}); need {need:g} h"
        ), facts

    def _gender_miss(self, row: int, checks: PairChecks, passing: np.ndarray) -> tuple[str, Facts]:
        wanted = self.referrals[row].volunteer_gender
        gender = self.volunteers.column("gender")
        genders = sorted({str(gender[v]) for v in checks.volunteer[passing].tolist()})
        candidates = int(passing.sum())
        return (
            f"{candidates} candidate(s) pass distance, language and time "
            f"({', '.join(genders)}); none is {wanted}"
        ), {"candidates": candidates, "wanted": wanted}

    def _safety_miss(self, row: int, checks: PairChecks, passing: np.ndarray) -> tuple[str, Facts]:
        referral = self.referrals[row]
        volunteers = checks.volunteer[passing]
        codes = sorted({self._municipality_of(int(v)) for v in volunteers})
        # The facts leave the municipalities out: they could point to where someone must not be.
        return (
            f"{volunteers.size} candidate(s) remain, but all are barred by a safety exclusion "
            f"(volunteers from {', '.join(codes)}; participant in {referral.municipality})"
        ), {"candidates": int(volunteers.size)}

    def _rejection_miss(
        self, row: int, checks: PairChecks, passing: np.ndarray
    ) -> tuple[str, Facts]:
        ids = sorted(self.index.volunteers.ids[int(v)] for v in checks.volunteer[passing])
        return (
            f"{len(ids)} candidate(s) remain, but a coordinator rejected each of them for this "
            f"referral before ({', '.join(ids)})"
        ), {"candidates": len(ids)}

    def _shortage(
        self, row: int, checks: PairChecks, passing: np.ndarray
    ) -> tuple[str, str, Facts]:
        needed = self.referrals[row].volunteers_needed
        eligible = np.flatnonzero(passing)
        eligible = eligible[np.argsort(checks.distance_km[eligible], kind="stable")]
        volunteers = checks.volunteer[eligible]
        nearest = self.index.volunteers.ids[int(volunteers[0])]
        nearest_km = float(checks.distance_km[eligible[0]])
        facts: Facts = {"needed": needed, "eligible": int(eligible.size)}
        nearest_at = f"(nearest {nearest}, {nearest_km:.1f} km)"
        if eligible.size < needed:
            detail = f"needs {needed} volunteers; only {eligible.size} eligible {nearest_at}"
            return NOT_ENOUGH_VOLUNTEERS, detail, facts | {"nearest_km": _km(nearest_km)}
        free = int(np.sum(self.load[volunteers] < self.index.volunteers.capacity[volunteers]))
        detail = (
            f"{eligible.size} eligible volunteer(s) {nearest_at}, {free} of them with capacity "
            f"left, {needed} needed; the others are assigned where they give more matches, "
            f"longer-waiting matches or a lower total cost"
        )
        return CAPACITY_TAKEN, detail, facts | {"free": free, "nearest_km": _km(nearest_km)}

    def _nearest_speaker(self, row: int) -> tuple[float, str, str] | None:
        best: tuple[float, str, str] | None = None
        for language in sorted(set(self.referrals[row].languages)):
            bit = self._languages.get(language)
            speakers = None if bit is None else self.index.speakers(bit)
            if speakers is None or speakers.tree is None:
                continue
            _, position = speakers.tree.query(self.index.referrals.xyz[row])
            distance, municipality = self._distance_to(row, int(speakers.members[int(position)]))
            if best is None or distance < best[0]:
                best = (distance, municipality, language)
        return best

    def _distance_to(self, row: int, volunteer: int) -> tuple[float, str]:
        ref, vol = self.index.referrals, self.index.volunteers
        distance = haversine_km(ref.lat[row], ref.lon[row], vol.lat[volunteer], vol.lon[volunteer])
        return float(distance), self._municipality_of(volunteer)

    def _municipality_of(self, volunteer: int) -> str:
        municipality: str = self.volunteers.column("municipality")[volunteer]
        return municipality

    def _limit(self, row: int) -> str:
        return f"{self.index.referrals.limit_km[row]:g}"


def _km(distance: float) -> float:
    return round(float(distance), 1)
