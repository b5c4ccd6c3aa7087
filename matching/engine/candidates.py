"""Spatial index over volunteers and the five feasibility rules, vectorised over pairs."""

from dataclasses import dataclass
from itertools import chain, combinations

import numpy as np
from numpy.typing import NDArray

from .availability import WeeklyOverlap
from .geo import chord_for_km, haversine_km_prepared, km_for_chord
from .instance import Rules
from .kdtree import cKDTree
from .tables import NO_GENDER, FloatArray, IntArray, ReferralTable, VolunteerTable, WordArray

BoolArray = NDArray[np.bool_]
PAIRS_PER_BLOCK = 1 << 20
# Referrals searched together for every feasible pair in reach: at national size (5,000 x
# 50,000) a block meets 0.8-0.9 million pairs in reach, of 15.4 million in all.
REFERRALS_PER_BLOCK = 256
LARGEST_ACTIVITY_SET = 2
OWN_TREE_FROM_ROWS = 64  # referrals searching a set of activities before it gets its own tree


@dataclass(frozen=True)
class PairChecks:
    """Each rule evaluated independently for rows of (referral, volunteer) pairs."""

    referral: IntArray
    volunteer: IntArray
    distance_km: FloatArray
    overlap_minutes: IntArray
    within_distance: BoolArray
    shared_language: BoolArray
    overlapping: BoolArray
    gender_ok: BoolArray
    safe: BoolArray
    not_rejected: BoolArray

    @property
    def feasible(self) -> BoolArray:
        return (
            self.within_distance
            & self.shared_language
            & self.overlapping
            & self.gender_ok
            & self.safe
            & self.not_rejected
        )


@dataclass(frozen=True)
class Edges:
    """Feasible pairs with their rule distance, overlap and cost."""

    referral: IntArray
    volunteer: IntArray
    distance_km: FloatArray
    overlap_minutes: IntArray
    cost: FloatArray

    def __len__(self) -> int:
        return int(self.referral.shape[0])


class CandidateIndex:
    """Answers 'which volunteers may serve this referral' without a dense matrix."""

    def __init__(
        self,
        referrals: ReferralTable,
        volunteers: VolunteerTable,
        rules: Rules,
        n_municipalities: int,
        forbidden_keys: IntArray | None = None,
    ) -> None:
        self.referrals = referrals
        self.volunteers = volunteers
        self.rules = rules
        self.tree = _tree(volunteers.xyz) if len(volunteers) else None
        self.key_width = n_municipalities
        self._speakers: dict[int, Speakers] = {}
        self._doers: dict[tuple[int, ...], Speakers] = {}
        self._forbidden = _no_pairs() if forbidden_keys is None else forbidden_keys
        self._referral_bars = _Exclusions(referrals.excluded_keys, n_municipalities, len(referrals))
        self._volunteer_bars = _Exclusions(
            volunteers.excluded_keys, n_municipalities, len(volunteers)
        )
        self.overlap = WeeklyOverlap(
            (referrals.slot_starts, referrals.slot_ends),
            (volunteers.slot_starts, volunteers.slot_ends),
        )
        # No pair shares more activities than there are bits, which also keeps a huge cap
        # within int64.
        self.activity_cap = min(rules.max_shared_activities, 64 * referrals.activity_words.shape[1])
        self.counts_activities = rules.km_per_shared_activity > 0 and self.activity_cap > 0
        self._bounds()

    def _bounds(self) -> None:
        """The largest bonuses a referral's pairs can earn, for lower bounds on the cost of
        pairs not looked at yet (solver.py): all its weekly time shared, up to the target
        (`overlap_bonus_km`), and for a pair in activity tier k (k activities shared, at most
        the cap) k times the bonus per activity (`tier_bonus_km[r, k]`, minus infinity for
        tiers above what the referral wishes for). `referral_bonus_km` is both at their best."""
        ref, rules = self.referrals, self.rules
        available_hours = np.sum(ref.slot_ends - ref.slot_starts, axis=1) / 60.0
        self.overlap_bonus_km = np.asarray(
            rules.km_per_overlap_hour * np.minimum(available_hours, rules.overlap_target_hours),
            dtype=np.float64,
        )
        self.activity_tiers = self.activity_cap if self.counts_activities else 0
        tiers = np.arange(self.activity_tiers + 1)
        wished = np.bitwise_count(ref.activity_words).sum(axis=1, dtype=np.int64)
        reachable = tiers[np.newaxis, :] <= wished[:, np.newaxis]
        # Tiers above what a referral wishes for get its top tier's bonus: for searching
        # (solver.py), not for bounds, where they are left out.
        self.tier_search_km = rules.km_per_shared_activity * np.minimum(
            tiers[np.newaxis, :], wished[:, np.newaxis]
        ).astype(np.float64)
        self.tier_bonus_km = np.where(reachable, self.tier_search_km, -np.inf)
        self.referral_bonus_km = self.overlap_bonus_km + self.tier_search_km[:, -1]

    def distances(self, referral: IntArray, volunteer: IntArray) -> FloatArray:
        ref, vol = self.referrals, self.volunteers
        return haversine_km_prepared(
            ref.phi[referral], ref.cos_phi[referral], ref.lon[referral],
            vol.phi[volunteer], vol.cos_phi[volunteer], vol.lon[volunteer],
        )  # fmt: skip

    def check_pairs(
        self, referral: IntArray, volunteer: IntArray, distance: FloatArray | None = None
    ) -> PairChecks:
        r, v, ref, vol = referral, volunteer, self.referrals, self.volunteers
        distance = self.distances(r, v) if distance is None else distance
        overlap = self.overlap.minutes(r, v)
        return PairChecks(
            referral=r,
            volunteer=v,
            distance_km=distance,
            overlap_minutes=overlap,
            within_distance=distance <= ref.limit_km[r],
            shared_language=np.any(ref.language_words[r] & vol.language_words[v], axis=1),
            overlapping=overlap >= self.rules.min_overlap_hours * 60.0 - 1e-9,
            gender_ok=(ref.wanted_gender[r] == NO_GENDER) | (ref.wanted_gender[r] == vol.gender[v]),
            safe=self._safe(r, v),
            not_rejected=self._not_rejected(r, v),
        )

    def feasible_edges(
        self, referral: IntArray, volunteer: IntArray, distance: FloatArray | None = None
    ) -> Edges:
        """The feasible pairs among the given ones, in blocks to bound memory."""
        distance = self.distances(referral, volunteer) if distance is None else distance
        blocks = []
        for start in range(0, referral.size, PAIRS_PER_BLOCK):
            part = slice(start, start + PAIRS_PER_BLOCK)
            blocks.append(self._feasible_block(referral[part], volunteer[part], distance[part]))
        return concatenate_edges(blocks)

    def _feasible_block(self, r: IntArray, v: IntArray, distance: FloatArray) -> Edges:
        checks = self.check_pairs(r, v, distance)
        keep = checks.feasible
        distance, overlap = checks.distance_km[keep], checks.overlap_minutes[keep]
        return Edges(
            referral=r[keep],
            volunteer=v[keep],
            distance_km=distance,
            overlap_minutes=overlap,
            cost=self.pair_cost(distance, overlap, r[keep], v[keep]),
        )

    def pair_cost(
        self, distance_km: FloatArray, overlap: IntArray, referral: IntArray, volunteer: IntArray
    ) -> FloatArray:
        """Distance less the bonuses for weekly time and activities the pair shares."""
        hours = np.minimum(overlap / 60.0, self.rules.overlap_target_hours)
        cost = distance_km - self.rules.km_per_overlap_hour * hours
        if self.counts_activities:
            cost = cost - self._activity_bonus_km(self.shared_activities(referral, volunteer))
        return np.asarray(cost)

    def shared_activities(self, referral: IntArray, volunteer: IntArray) -> IntArray:
        """How many activities the family wishes for and the volunteer can do, per pair."""
        shared = self.referrals.activity_words[referral] & self.volunteers.activity_words[volunteer]
        return np.asarray(np.bitwise_count(shared).sum(axis=1, dtype=np.int64))

    def activity_tier(self, referral: IntArray, volunteer: IntArray) -> IntArray:
        """Activities shared per pair, capped: the tier whose bonus the pair earns."""
        if not self.counts_activities:
            return np.zeros(referral.shape, dtype=np.int64)
        return np.asarray(
            np.minimum(self.shared_activities(referral, volunteer), self.activity_cap)
        )

    def _activity_bonus_km(self, shared: IntArray) -> FloatArray:
        return np.asarray(self.rules.km_per_shared_activity * np.minimum(shared, self.activity_cap))

    def nearest(self, rows: IntArray, k: int) -> tuple[IntArray, IntArray, FloatArray]:
        """Pairs of each row with its k nearest speakers of each of its languages (within its
        limit), and the radius inside which every volunteer it could be paired with is known.

        Only speakers can pass the language rule, so searching per language is exact and
        keeps referrals with a rare language from scanning a whole city.
        """
        searches = [
            (self.speakers(bit), speaking) for bit, speaking in self._rows_by_language(rows)
        ]
        return self._nearest_in(searches, rows, k)

    def nearest_doers(self, rows: IntArray, k: int) -> tuple[IntArray, IntArray, FloatArray]:
        """Pairs of each row with its k nearest doers of each activity it wishes for (within
        its limit, whatever they speak), and the radius inside which every volunteer sharing
        one of its wishes is among them: the smallest over its wishes (its limit if none)."""
        wishes = _rows_by_bit_set(self.referrals.activity_words[rows], 1)
        return self._nearest_in([(self.doers(set_), wishing) for set_, wishing in wishes], rows, k)

    def _nearest_in(
        self, searches: list[tuple["Speakers", BoolArray]], rows: IntArray, k: int
    ) -> tuple[IntArray, IntArray, FloatArray]:
        """For each (tree, rows searching it), the k nearest members of every such row; per
        row, the smallest radius inside which its searches found every member."""
        radius = self.referrals.limit_km[rows].copy()
        pairs: list[tuple[IntArray, IntArray]] = []
        for members, searching in searches:
            found_rows, found, reach = members.nearest(
                self.referrals.xyz[rows[searching]], k, self.referrals.limit_km[rows[searching]]
            )
            pairs.append((rows[searching][found_rows], found))
            radius[searching] = np.minimum(radius[searching], reach)
        return *_concatenate_pairs(pairs), radius

    def all_feasible_pairs(self) -> tuple[IntArray, IntArray]:
        """(referral rows, volunteer rows) of every feasible pair within each referral's
        distance limit, searched a block of referrals at a time. All at once, the what-if
        sweep at national size (5,000 x 50,000) peaked at 1.9 GiB to keep 3.9 million."""
        pairs: list[tuple[IntArray, IntArray]] = []
        for start in range(0, len(self.referrals), REFERRALS_PER_BLOCK):
            end = min(start + REFERRALS_PER_BLOCK, len(self.referrals))
            rows = np.arange(start, end, dtype=np.int64)
            edges = self.feasible_edges(*self.within(rows, self.referrals.limit_km[rows]))
            pairs.append((edges.referral, edges.volunteer))
        return _concatenate_pairs(pairs)

    def within(self, rows: IntArray, radius_km: FloatArray) -> tuple[IntArray, IntArray]:
        """Pairs of rows with every speaker of their languages within the given radius."""
        pairs: list[tuple[IntArray, IntArray]] = []
        for bit, speaking in self._rows_by_language(rows):
            found_rows, found = self.speakers(bit).within(
                self.referrals.xyz[rows[speaking]], radius_km[speaking]
            )
            pairs.append((rows[speaking][found_rows], found))
        return _concatenate_pairs(pairs)

    def sharing_searches(self) -> list[tuple[int, int, int]]:
        """How pairs beyond tier 0's reach are looked for: (n, first tier, last tier) per
        search over volunteers who do n of the wished activities, out to the last tier's
        reach. A pair of tier k shares k activities, so the search with n = k finds it
        within tier k's reach. Sets of more than two activities would mean a tree per
        triple wished; the search with two covers the tiers above."""
        top = min(self.activity_tiers, LARGEST_ACTIVITY_SET)
        return [(n, n, n if n < top else self.activity_tiers) for n in range(1, top + 1)]

    def within_sharing(
        self, rows: IntArray, radius_km: FloatArray, n_shared: int
    ) -> tuple[IntArray, IntArray]:
        """Pairs of rows with every volunteer within the given radius who does `n_shared` of
        the activities they wish for and speaks one of their languages, each pair once
        (from the set of the lowest-numbered activities it shares). Searched per set, then
        filtered by language: a tree per set is built once, where one per language and set
        would be built for every language spoken."""
        pairs: list[tuple[IntArray, IntArray]] = []
        ref, vol = self.referrals, self.volunteers
        for activities, wishing in _rows_by_bit_set(ref.activity_words[rows], n_shared):
            found_rows, found = self._doers_to_search(activities, wishing).within(
                ref.xyz[rows[wishing]], radius_km[wishing]
            )
            referral = rows[wishing][found_rows]
            shared = ref.activity_words[referral] & vol.activity_words[found]
            keep = _lowest_bits_are(shared, activities)
            keep &= np.any(ref.language_words[referral] & vol.language_words[found], axis=1)
            pairs.append((referral[keep], found[keep]))
        return _concatenate_pairs(pairs)

    def within_any_language(self, row: int) -> IntArray:
        """Every volunteer within the row's distance limit, whatever they speak."""
        if self.tree is None:
            return _no_pairs()
        chord = float(chord_for_km(self.referrals.limit_km[row]))
        hits = self.tree.query_ball_point(self.referrals.xyz[row], r=chord, return_sorted=True)
        return np.asarray(hits, dtype=np.int64)

    def speakers(self, bit: int) -> "Speakers":
        if bit not in self._speakers:
            members = np.flatnonzero(_has_bit(self.volunteers.language_words, bit))
            self._speakers[bit] = Speakers(self.volunteers.xyz, members)
        return self._speakers[bit]

    def doers(self, activities: tuple[int, ...]) -> "Speakers":
        """A KD-tree over the volunteers who do all these activities."""
        if activities not in self._doers:
            doing = np.ones(len(self.volunteers), dtype=np.bool_)
            for activity in activities:
                doing &= _has_bit(self.volunteers.activity_words, activity)
            self._doers[activities] = Speakers(self.volunteers.xyz, np.flatnonzero(doing))
        return self._doers[activities]

    def _doers_to_search(self, activities: tuple[int, ...], wishing: BoolArray) -> "Speakers":
        """The tree of those who do all these activities; for a few rows and no such tree
        yet, that of those who do the first (the filter on what is shared does the rest),
        as building a tree costs more than a few wider searches."""
        few = np.count_nonzero(wishing) < OWN_TREE_FROM_ROWS
        if len(activities) > 1 and activities not in self._doers and few:
            return self.doers(activities[:1])
        return self.doers(activities)

    def _rows_by_language(self, rows: IntArray) -> list[tuple[int, BoolArray]]:
        return _rows_by_bit(self.referrals.language_words[rows])

    def _safe(self, referral: IntArray, volunteer: IntArray) -> BoolArray:
        ref, vol = self.referrals, self.volunteers
        barred = self._referral_bars(referral, vol.municipality[volunteer])
        barred |= self._volunteer_bars(volunteer, ref.municipality[referral])
        return ~barred

    def _not_rejected(self, referral: IntArray, volunteer: IntArray) -> BoolArray:
        keys = referral * len(self.volunteers) + volunteer
        return ~_contains(self._forbidden, keys)


class _Exclusions:
    """Who excludes which municipality; only people with exclusions are looked up."""

    def __init__(self, excluded_keys: IntArray, width: int, n_people: int) -> None:
        self.keys = excluded_keys
        self.width = width
        self.has_any = np.zeros(n_people, dtype=np.bool_)
        self.has_any[excluded_keys // width] = True

    def __call__(self, person: IntArray, other_place: IntArray) -> BoolArray:
        barred = np.zeros(person.shape, dtype=np.bool_)
        if self.keys.size == 0:
            return barred
        look = self.has_any[person]
        barred[look] = _contains(self.keys, person[look] * self.width + other_place[look])
        return barred


class Speakers:
    """A KD-tree over the volunteers who speak one language."""

    def __init__(self, xyz: FloatArray, members: IntArray) -> None:
        self.members = members
        self.tree = _tree(xyz[members]) if members.size else None

    def nearest(
        self, points: FloatArray, k: int, limit_km: FloatArray
    ) -> tuple[IntArray, IntArray, FloatArray]:
        """(point index, volunteer) pairs for each point's k nearest members within its limit,
        and the radius within which all members are among them."""
        if self.tree is None:
            return _no_pairs(), _no_pairs(), limit_km.copy()
        k = min(k, self.members.size)
        chords, found = self.tree.query(
            points, k=k, distance_upper_bound=float(chord_for_km(limit_km.max()))
        )
        chords, found = chords.reshape(-1, k), found.reshape(-1, k)
        present = found < self.members.size
        complete = ~present[:, -1] | (k == self.members.size)
        last = km_for_chord(np.where(complete, 0.0, chords[:, -1])) * (1.0 - 1e-9)
        radius = np.where(complete, limit_km, np.minimum(last, limit_km))
        point = np.repeat(np.arange(points.shape[0]), k).reshape(-1, k)[present]
        return point, self.members[found[present]], radius

    def within(self, points: FloatArray, radius_km: FloatArray) -> tuple[IntArray, IntArray]:
        if self.tree is None:
            return _no_pairs(), _no_pairs()
        hits = self.tree.query_ball_point(points, r=chord_for_km(radius_km), return_sorted=False)
        counts = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(hits))
        flat = np.fromiter(chain.from_iterable(hits), dtype=np.int64, count=int(counts.sum()))
        return np.repeat(np.arange(points.shape[0]), counts), self.members[flat]


def _tree(points: FloatArray) -> cKDTree:
    # Split at the sliding midpoint, without shrinking boxes: built two to three times
    # faster than the default (a solve builds a tree per language and activity set), and
    # queried about as fast (measured on 200,000 points spread like people).
    return cKDTree(points, balanced_tree=False, compact_nodes=False)


def _rows_by_bit(words: WordArray) -> list[tuple[int, BoolArray]]:
    """Each bit set in some row, with the rows that have it."""
    having = _bit_matrix(words)
    return [(int(bit), having[:, bit]) for bit in np.flatnonzero(having.any(axis=0))]


def _rows_by_bit_set(words: WordArray, size: int) -> list[tuple[tuple[int, ...], BoolArray]]:
    """Each set of `size` bits all set in some row, with the rows that have them all.
    Enumerated per distinct row: rows repeat the same few wishes."""
    if words.shape[1] == 1:  # up to 64 activities: one word, sorted as numbers (faster)
        patterns, pattern_of_row = np.unique(words[:, 0], return_inverse=True)
        patterns = patterns.reshape(-1, 1)
    else:
        patterns, pattern_of_row = np.unique(words, axis=0, return_inverse=True)
    having: dict[tuple[int, ...], list[int]] = {}
    for pattern, bits in enumerate(_bit_matrix(patterns)):
        for subset in combinations(np.flatnonzero(bits).tolist(), size):
            having.setdefault(subset, []).append(pattern)
    subsets = sorted(having)
    pattern_has = np.zeros((len(patterns), len(subsets)), dtype=np.bool_)
    for column, subset in enumerate(subsets):
        pattern_has[having[subset], column] = True
    row_has = pattern_has[pattern_of_row.ravel()]
    return [(subset, row_has[:, column]) for column, subset in enumerate(subsets)]


def _bit_matrix(words: WordArray) -> BoolArray:
    """Rows x bits: whether bit b of word w (column 64 w + b) is set."""
    as_bytes = np.ascontiguousarray(words, dtype="<u8").view(np.uint8)
    return np.unpackbits(as_bytes, axis=1, bitorder="little").astype(np.bool_)


def _lowest_bits_are(words: WordArray, bits: tuple[int, ...]) -> BoolArray:
    """Per row, whether the lowest `len(bits)` bits set are exactly these."""
    top = max(bits)
    up_to_top = [min(max(top + 1 - 64 * word, 0), 64) for word in range(words.shape[1])]
    low = np.array([(1 << n) - 1 for n in up_to_top], dtype=np.uint64)
    wanted = np.array(
        [sum(1 << (bit % 64) for bit in bits if bit // 64 == word) for word in range(len(low))],
        dtype=np.uint64,
    )
    return np.asarray(np.all((words & low) == wanted, axis=1))


def _has_bit(words: WordArray, bit: int) -> BoolArray:
    return np.asarray((words[:, bit // 64] & (np.uint64(1) << np.uint64(bit % 64))) != 0)


def concatenate_edges(blocks: list[Edges]) -> Edges:
    if not blocks:
        empty = _no_pairs()
        return Edges(empty, empty, np.zeros(0), empty, np.zeros(0))
    return Edges(
        referral=np.concatenate([b.referral for b in blocks]),
        volunteer=np.concatenate([b.volunteer for b in blocks]),
        distance_km=np.concatenate([b.distance_km for b in blocks]),
        overlap_minutes=np.concatenate([b.overlap_minutes for b in blocks]),
        cost=np.concatenate([b.cost for b in blocks]),
    )


def _concatenate_pairs(pairs: list[tuple[IntArray, IntArray]]) -> tuple[IntArray, IntArray]:
    if not pairs:
        return _no_pairs(), _no_pairs()
    return np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])


def _contains(sorted_keys: IntArray, queries: IntArray) -> BoolArray:
    if sorted_keys.size == 0:
        return np.zeros(queries.shape, dtype=np.bool_)
    position = np.minimum(np.searchsorted(sorted_keys, queries), sorted_keys.size - 1)
    return np.asarray(sorted_keys[position] == queries)


def _no_pairs() -> IntArray:
    return np.zeros(0, dtype=np.int64)
