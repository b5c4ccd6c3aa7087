"""The known feasible edges, which of them are LP columns, and how far each referral is explored."""

import numpy as np

from .candidates import PAIRS_PER_BLOCK, BoolArray, CandidateIndex, Edges, concatenate_edges
from .tables import FloatArray, IntArray


class EdgePool:
    """Feasible edges found so far, and how far each referral is explored.

    Per referral r and activity tier k (its pairs sharing k of its wished activities, counted
    up to the cap; tier 0 only, when activities do not count), every feasible edge of tier k
    closer than `reach_km[r, k]` is known, so an unknown one is at least that far away. Reaches
    never decrease along k: a pair earning a larger bonus is worth looking for farther away.
    Every edge of a referral closer than tier 0's reach, `explored_km`, is known.
    """

    def __init__(self, index: CandidateIndex) -> None:
        self.index = index
        self.n_volunteers = len(index.volunteers)
        self.reach_km = np.zeros((len(index.referrals), index.activity_tiers + 1))
        self.referral = np.zeros(0, dtype=np.int64)
        self.volunteer = np.zeros(0, dtype=np.int64)
        self.distance_km = np.zeros(0, dtype=np.float64)
        self.overlap_minutes = np.zeros(0, dtype=np.int64)
        self.cost = np.zeros(0, dtype=np.float64)
        self.is_column = np.zeros(0, dtype=np.bool_)
        self._sorted_keys = np.zeros(0, dtype=np.int64)

    @property
    def explored_km(self) -> FloatArray:
        """Every feasible edge of a referral closer than this is known."""
        return np.asarray(self.reach_km[:, 0])

    @property
    def fully_explored(self) -> BoolArray:
        return np.asarray(self.explored_km >= self.index.referrals.limit_km)

    def unknown_cost_bound(self) -> FloatArray:
        """Per referral, a lower bound on the cost of every feasible edge not known yet: one
        of tier k is at least `reach_km[r, k]` away and earns at most the overlap bonus and
        tier k's activity bonus. A tier explored to the limit has no unknown edge left (nor
        have the tiers above it); 0 for referrals with none left at all."""
        limit = self.index.referrals.limit_km[:, np.newaxis]
        per_tier = np.where(
            self.reach_km >= limit, np.inf, self.reach_km - self.index.tier_bonus_km
        )
        bound = per_tier.min(axis=1) - self.index.overlap_bonus_km
        return np.asarray(np.where(self.fully_explored, 0.0, bound))

    def explore_nearest(self, rows: IntArray, k: int) -> None:
        """The k nearest speakers of each row's languages; where activities count, also the k
        nearest doers of each wished activity, so that pairs earning an activity bonus are
        known farther out from the start (fewer referrals then lean on their phantom)."""
        referral, volunteer, radius = self.index.nearest(rows, k)
        self._add(self.index.feasible_edges(referral, volunteer))
        reach = np.repeat(radius[:, np.newaxis], self.reach_km.shape[1], axis=1)
        if reach.shape[1] > 1:
            referral, volunteer, sharing = self.index.nearest_doers(rows, k)
            self._add(self.index.feasible_edges(referral, volunteer))
            reach[:, 1:] = np.maximum(radius, sharing)[:, np.newaxis]
        self.reach_km[rows] = np.maximum(self.reach_km[rows], reach)

    def explore_within(self, rows: IntArray, radius_km: FloatArray) -> None:
        """Widen rows to the given radius per tier (shape rows x tiers; a column per row
        widens every tier alike); only what lies beyond what is known is checked."""
        limit = self.index.referrals.limit_km[rows][:, np.newaxis]
        wanted = np.broadcast_to(radius_km.reshape(rows.size, -1), self.reach_km[rows].shape)
        radius = np.maximum.accumulate(np.minimum(wanted, limit), axis=1)
        reach = np.maximum(self.reach_km[rows], radius)
        # A pair beyond tier 0's reach can be new only if it shares an activity: everyone is
        # looked up to tier 0's reach (where it widens), and beyond it only those who do
        # as many of the wished activities as the tiers searched for (where they widen).
        known = self.reach_km[rows]
        everyone = reach[:, 0] > known[:, 0]
        found = [self.index.within(rows[everyone], reach[everyone, 0])]
        for n_shared, first, last in self.index.sharing_searches():
            tiers = slice(first, last + 1)
            widened = np.any(reach[:, tiers] > known[:, tiers], axis=1)
            found.append(self.index.within_sharing(rows[widened], reach[widened, last], n_shared))
        referral, volunteer = _concatenate(*found)
        # Those who share an activity and lie within tier 0's reach were found by the first
        # search or are known: not checked twice.
        beyond_tier_0 = np.arange(referral.size) >= found[0][0].size
        at = np.zeros(self.reach_km.shape[0], dtype=np.int64)
        at[rows] = np.arange(rows.size)
        # In blocks: a national widening finds ten million pairs, and each check makes
        # temporaries of their size; most pairs are not new.
        blocks = [
            self._new_edges(
                referral[part], volunteer[part], reach[at[referral[part]]], beyond_tier_0[part]
            )
            for part in _blocks(referral.size)
        ]
        self._add(concatenate_edges(blocks))
        self.reach_km[rows] = reach

    def _new_edges(
        self, referral: IntArray, volunteer: IntArray, reach: FloatArray, beyond_tier_0: BoolArray
    ) -> Edges:
        """The feasible pairs among these that lie beyond what is known of their tier (and
        beyond tier 0's new reach, where `beyond_tier_0`) and within the reach wanted for
        their tier (`reach`: each pair's referral's new reach per tier)."""
        tier = self.index.activity_tier(referral, volunteer)
        known = self.reach_km[referral, tier]
        known[beyond_tier_0] = np.maximum(known[beyond_tier_0], reach[beyond_tier_0, 0])
        wanted_reach = np.take_along_axis(reach, tier[:, np.newaxis], axis=1)[:, 0]
        widened = wanted_reach > known  # tiers that stay need no distances
        referral, volunteer = referral[widened], volunteer[widened]
        known, wanted_reach = known[widened], wanted_reach[widened]
        distance = self.index.distances(referral, volunteer)
        fresh = (distance >= known * (1.0 - 1e-9)) & (distance <= wanted_reach)
        return self.index.feasible_edges(referral[fresh], volunteer[fresh], distance[fresh])

    def edges_per_referral(self) -> IntArray:
        return np.bincount(self.referral, minlength=self.reach_km.shape[0]).astype(np.int64)

    def _add(self, edges: Edges) -> None:
        incoming = edges.referral * self.n_volunteers + edges.volunteer
        incoming_keys, first = np.unique(incoming, return_index=True)
        fresh_keys = ~_contains(self._sorted_keys, incoming_keys)
        fresh = first[fresh_keys]
        if fresh.size == 0:
            return
        self._sorted_keys = np.sort(np.concatenate((self._sorted_keys, incoming_keys[fresh_keys])))
        self.referral = np.concatenate((self.referral, edges.referral[fresh]))
        self.volunteer = np.concatenate((self.volunteer, edges.volunteer[fresh]))
        self.distance_km = np.concatenate((self.distance_km, edges.distance_km[fresh]))
        self.overlap_minutes = np.concatenate((self.overlap_minutes, edges.overlap_minutes[fresh]))
        self.cost = np.concatenate((self.cost, edges.cost[fresh]))
        self.is_column = np.concatenate((self.is_column, np.zeros(fresh.size, dtype=np.bool_)))


def _blocks(size: int) -> list[slice]:
    return [slice(start, start + PAIRS_PER_BLOCK) for start in range(0, size, PAIRS_PER_BLOCK)]


def _contains(sorted_keys: IntArray, queries: IntArray) -> BoolArray:
    if sorted_keys.size == 0:
        return np.zeros(queries.shape, dtype=np.bool_)
    position = np.minimum(np.searchsorted(sorted_keys, queries), sorted_keys.size - 1)
    return np.asarray(sorted_keys[position] == queries)


def _concatenate(*pairs: tuple[IntArray, IntArray]) -> tuple[IntArray, IntArray]:
    return np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])
