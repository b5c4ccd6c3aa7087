"""The known feasible edges, which of them are LP columns, and how far each referral is explored."""

import numpy as np

from .candidates import BoolArray, CandidateIndex, Edges
from .tables import FloatArray, IntArray


class EdgePool:
    """Feasible edges found so far; every feasible edge of referral r closer than
    `explored_km[r]` is known, so anything unknown is at least that far away."""

    def __init__(self, index: CandidateIndex) -> None:
        self.index = index
        self.n_volunteers = len(index.volunteers)
        self.explored_km = np.zeros(len(index.referrals), dtype=np.float64)
        self.referral = np.zeros(0, dtype=np.int64)
        self.volunteer = np.zeros(0, dtype=np.int64)
        self.distance_km = np.zeros(0, dtype=np.float64)
        self.overlap_minutes = np.zeros(0, dtype=np.int64)
        self.cost = np.zeros(0, dtype=np.float64)
        self.is_column = np.zeros(0, dtype=np.bool_)
        self._sorted_keys = np.zeros(0, dtype=np.int64)

    @property
    def fully_explored(self) -> BoolArray:
        return np.asarray(self.explored_km >= self.index.referrals.limit_km)

    def explore_nearest(self, rows: IntArray, k: int) -> None:
        referral, volunteer, radius = self.index.nearest(rows, k)
        self._add(self.index.feasible_edges(referral, volunteer))
        self.explored_km[rows] = np.maximum(self.explored_km[rows], radius)

    def explore_within(self, rows: IntArray, radius_km: FloatArray) -> None:
        """Widen rows to the given radius; only the ring beyond what is known is checked."""
        radius = np.minimum(radius_km, self.index.referrals.limit_km[rows])
        referral, volunteer = self.index.within(rows, radius)
        distance = self.index.distances(referral, volunteer)
        ring = distance >= self.explored_km[referral] * (1.0 - 1e-9)
        referral, volunteer, distance = referral[ring], volunteer[ring], distance[ring]
        self._add(self.index.feasible_edges(referral, volunteer, distance))
        self.explored_km[rows] = np.maximum(self.explored_km[rows], radius)

    def edges_per_referral(self) -> IntArray:
        return np.bincount(self.referral, minlength=len(self.explored_km)).astype(np.int64)

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


def _contains(sorted_keys: IntArray, queries: IntArray) -> BoolArray:
    if sorted_keys.size == 0:
        return np.zeros(queries.shape, dtype=np.bool_)
    position = np.minimum(np.searchsorted(sorted_keys, queries), sorted_keys.size - 1)
    return np.asarray(sorted_keys[position] == queries)
