"""What if one more volunteer joined? For each hypothetical volunteer, added alone, exactly
how many more referrals the optimum matches, and which.

Why a small re-solve is exact. Let M be the optimum without hypotheticals. A waiting
referral with fewer feasible volunteers than it needs stays waiting in every solution and
is set aside, unless the hypothetical is the one volunteer it lacks. Call a referral
*open* if M leaves it waiting (and it is not set aside) or if it holds (in M) a volunteer
that an open referral could use instead of its own: "r could give way to an open
referral". Open is closed under that, so a volunteer that an open referral can use outside
M serves only open referrals in M, and every referral that is neither open nor set aside is
matched. Take any optimum M' with a
hypothetical v, and keep its edges at open referrals and M's elsewhere. Volunteers stay
within capacity (one an open referral newly uses serves only open referrals in M; any
other serves open referrals at most as often as in M), families stay whole, and nothing is
lost outside the open set, where M matches everybody. So this mix is also optimal in
stages 1-2 (matched count, then waiting days), and agrees with M outside the open set:
  - if v can serve no open referral, the mix is feasible without v, so nothing changes
    (the count, and the matched set when the optimum's matched set is unique);
  - otherwise the optimum is found by re-solving only the open referrals v's components
    hold, with M's other assignments kept (volunteers keep the capacity they have left).
Where several matched sets are optimal (a tie in count and waiting days), the set reported
is an optimal one, not necessarily the one re-solving the whole instance would pick.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.sparse import csr_matrix

from .candidates import BoolArray
from .components import label_components
from .errors import MatchingInputError
from .instance import Instance, Volunteer
from .people import ids_of
from .pipeline import candidate_index, canonical_order
from .solver import select_matches
from .tables import IntArray, build_codebook
from .validation import _items, _mapping, _reject_duplicate_ids, _volunteer


@dataclass(frozen=True)
class WhatIfAnswer:
    volunteer_id: str
    extra_matched: int
    newly_matched: tuple[str, ...]  # referral ids, sorted


@dataclass(frozen=True)
class Place:
    municipality: str
    lat: float
    lon: float


def what_if(instance: Instance, hypotheticals: Sequence[Volunteer]) -> tuple[WhatIfAnswer, ...]:
    """One answer per hypothetical, in input order; each is added to the instance alone."""
    _reject_known_ids(instance, hypotheticals)
    baseline = _Baseline(canonical_order(instance))
    reach = _referrals_reached(baseline.instance, hypotheticals)
    return tuple(
        baseline.answer(volunteer, rows)
        for volunteer, rows in zip(hypotheticals, reach, strict=True)
    )


def hypotheticals_at(
    profiles: Sequence[Volunteer], places: Iterable[Place]
) -> tuple[Volunteer, ...]:
    """Each profile placed at each place (the sweep: where would one more help most?).

    Ids read ``<profile id>@<municipality>``; the profile's own point and municipality are
    replaced, everything else (languages, gender, availability, capacity) is kept.
    """
    chosen = tuple(places)
    return tuple(
        replace(
            profile,
            id=f"{profile.id}@{place.municipality}",
            lat=place.lat,
            lon=place.lon,
            municipality=place.municipality,
        )
        for profile in profiles
        for place in chosen
    )


def parse_hypotheticals(data: object) -> tuple[Volunteer, ...]:
    """``{"volunteers": [...]}`` in the instance's volunteer shape; errors name the path."""
    top = _mapping(data, "", {"volunteers"})
    volunteers = tuple(_items(top, "volunteers", _volunteer))
    _reject_duplicate_ids("volunteers", [v.id for v in volunteers])
    return volunteers


def answer_to_dict(answer: WhatIfAnswer) -> dict[str, object]:
    return {
        "volunteer": answer.volunteer_id,
        "extra_matched": answer.extra_matched,
        "newly_matched": list(answer.newly_matched),
    }


def _reject_known_ids(instance: Instance, hypotheticals: Sequence[Volunteer]) -> None:
    known = set(ids_of(instance.volunteers))
    for index, volunteer in enumerate(hypotheticals):
        if volunteer.id in known:
            raise MatchingInputError(
                f"volunteers[{index}].id",
                f"{volunteer.id!r} is already a volunteer of the instance",
            )


class _Baseline:
    """The optimum M without hypotheticals, its open referrals, and what they may use.

    A waiting referral with fewer feasible volunteers than it needs stays waiting in every
    solution, so it is left out, unless the hypothetical is the one volunteer it lacks:
    then it and what it opens join the open set for that hypothetical only.
    """

    def __init__(self, canonical: Instance) -> None:
        self.instance = canonical
        index = candidate_index(canonical, build_codebook(canonical))
        selection = select_matches(index)
        self.held = selection.pool.referral[selection.chosen]
        self.holder = selection.pool.volunteer[selection.chosen]
        shape = (len(canonical.referrals), len(canonical.volunteers))
        waiting = np.ones(shape[0], dtype=np.bool_)
        waiting[self.held] = False
        self.matched = frozenset(
            index.referrals.ids[row] for row in np.flatnonzero(~waiting).tolist()
        )
        referral, volunteer = index.all_feasible_pairs()
        self.usable = _incidence(referral, volunteer, shape)
        self.holding = _incidence(self.held, self.holder, shape)
        self.usable_outside_m = self.usable - self.usable.multiply(self.holding)
        self.capacity = index.volunteers.capacity
        short = index.referrals.needed - self.usable.getnnz(axis=1)
        self.one_short = waiting & (short == 1)  # the hypothetical may complete it
        self.open = self._opened_by(waiting & (short <= 0))
        self.label = label_components(shape[0], shape[1], (referral, volunteer))
        self._opened: dict[int, BoolArray] = {}

    def answer(self, volunteer: Volunteer, reached_rows: IntArray) -> WhatIfAnswer:
        after = self.matched_with(volunteer, reached_rows)
        return WhatIfAnswer(
            volunteer.id, len(after) - len(self.matched), tuple(sorted(after - self.matched))
        )

    def matched_with(self, volunteer: Volunteer, reached_rows: IntArray) -> frozenset[str]:
        """Ids an optimum with the volunteer matches: the baseline's if it can serve no open
        referral, else re-solved over the open referrals of the components it reaches."""
        is_open = self._open_for(reached_rows)
        reached_open = reached_rows[is_open[reached_rows]]
        if reached_open.size == 0:
            return self.matched
        labels = self.label.referral[reached_open]
        rows = np.flatnonzero(is_open & np.isin(self.label.referral, labels))
        sub = self._sub_instance(rows, is_open, volunteer)
        ids = {r.id for r in sub.referrals}
        return frozenset((self.matched - ids) | _matched_ids(sub))

    def _open_for(self, reached_rows: IntArray) -> BoolArray:
        completed = reached_rows[self.one_short[reached_rows]]
        is_open = self.open
        for row in completed.tolist():
            if row not in self._opened:
                seed = np.zeros(self.open.size, dtype=np.bool_)
                seed[row] = True
                self._opened[row] = self._opened_by(seed)
            is_open = is_open | self._opened[row]
        return is_open

    def _opened_by(self, seeds: BoolArray) -> BoolArray:
        return _open_referrals(seeds, self.usable_outside_m, self.holding)

    def _sub_instance(self, rows: IntArray, is_open: BoolArray, volunteer: Volunteer) -> Instance:
        """The open referrals at `rows`, with what volunteers have left once M's assignments
        of the referrals that are not open are kept."""
        canonical = self.instance
        held_elsewhere = np.bincount(self.holder[~is_open[self.held]], minlength=self.capacity.size)
        spare = self.capacity - held_elsewhere
        usable = np.unique(self.usable[rows].indices)
        usable = usable[spare[usable] > 0]
        volunteers = tuple(
            replace(canonical.volunteers[i], capacity=int(spare[i])) for i in usable.tolist()
        )
        return Instance(
            rules=canonical.rules,
            volunteers=(*volunteers, volunteer),
            referrals=tuple(canonical.referrals[i] for i in rows.tolist()),
            forbidden_pairs=canonical.forbidden_pairs,
        )


def _matched_ids(instance: Instance) -> set[str]:
    """Ids of the referrals `solve()` matches: its selection, without the explanations."""
    canonical = canonical_order(instance)
    selection = select_matches(candidate_index(canonical, build_codebook(canonical)))
    rows = np.unique(selection.pool.referral[selection.chosen])
    return {canonical.referrals[row].id for row in rows.tolist()}


def _incidence(referral: IntArray, volunteer: IntArray, shape: tuple[int, int]) -> csr_matrix:
    ones = np.ones(referral.size, dtype=np.int64)
    matrix = csr_matrix((ones, (referral, volunteer)), shape=shape)
    matrix.data[:] = 1  # a pair found twice (two shared languages) is one pair
    return matrix


def _open_referrals(
    waiting: BoolArray, usable_outside_m: csr_matrix, holding: csr_matrix
) -> BoolArray:
    """Waiting referrals, and every referral holding a volunteer an open one could use."""
    is_open = waiting.copy()
    frontier = waiting.astype(np.int64)
    while frontier.any():
        wanted = (usable_outside_m.T @ frontier) > 0
        holders = (holding @ wanted.astype(np.int64)) > 0
        fresh = holders & ~is_open
        is_open |= fresh
        frontier = fresh.astype(np.int64)
    return is_open


def _referrals_reached(canonical: Instance, hypotheticals: Sequence[Volunteer]) -> list[IntArray]:
    """Rows of the referrals each hypothetical has a feasible pair with, found in one pass
    over an instance of the referrals and all the hypotheticals (ids made unique)."""
    if not hypotheticals:
        return []
    stand_ins = tuple(replace(v, id=f"{row:09d}") for row, v in enumerate(hypotheticals))
    together = Instance(canonical.rules, stand_ins, canonical.referrals)
    index = candidate_index(together, build_codebook(together))
    rows = np.arange(len(canonical.referrals), dtype=np.int64)
    referral, volunteer = index.within(rows, index.referrals.limit_km)
    edges = index.feasible_edges(referral, volunteer)
    order = np.lexsort((edges.referral, edges.volunteer))
    by_volunteer = edges.volunteer[order]
    starts = np.searchsorted(by_volunteer, np.arange(len(hypotheticals) + 1))
    reached = edges.referral[order]
    return [np.unique(reached[starts[i] : starts[i + 1]]) for i in range(len(hypotheticals))]
