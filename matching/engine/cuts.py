"""Odd-capacity cuts: valid inequalities that cut off LP optima in which families and the
singles beside them share volunteers by halves.

Take referrals R and volunteers V. Half of V's capacity rows, plus half of R's referral rows
(sum_v x_rv + p_r = needed_r y_r), plus half of y_s <= 1 for some singles B of R, rounded
down (a Chvatal-Gomory cut), give

    sum of x_rv over edges with r in R and v in V
      - sum of y_r over R's families and over R's singles not in B
        <=  floor((capacity of V + |B|) / 2).

It holds for every matching of the whole instance, so it may join the restricted model like
any row. An edge's coefficient is 1 where it joins R to V and 0 elsewhere, known or not, so
pricing an edge that is not yet a column needs only the cut's dual. A phantom's coefficient
is 0, at most what any of its unknown edges has, and the dual of a <= row is never positive
in a minimisation: the phantom still bounds its unknown edges from below and the model
stays a relaxation of the full graph.

Where a family y_f = 1/2 takes volunteers a and b (capacity 1) by halves and a single served
from both by halves too, R = {f, s} and V = {a, b} give x_sa + x_sb + x_fa + x_fb - y_f <= 1,
which that point (1.5) violates and every matching keeps.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix

from .candidates import BoolArray
from .components import label_components
from .tables import FloatArray, IntArray

VIOLATION_TOLERANCE = 1e-6
FRACTIONAL = 1e-6

Candidate = tuple[BoolArray, BoolArray]  # R per referral, V per volunteer


@dataclass(frozen=True)
class OddCut:
    referrals: BoolArray  # R, per referral
    volunteers: BoolArray  # V, per volunteer
    y_coefficient: FloatArray  # per referral: -1 for R's families and singles outside B
    bound: float

    def edge_coefficients(self, referral: IntArray, volunteer: IntArray) -> BoolArray:
        """1 (True) for the given edges that join R to V."""
        return np.asarray(self.referrals[referral] & self.volunteers[volunteer])


def violated_cuts(
    referral: IntArray,
    volunteer: IntArray,
    x: FloatArray,
    y: FloatArray,
    needed: IntArray,
    capacity: IntArray,
) -> list[OddCut]:
    """Distinct cuts that an LP optimum (x over the columns' edges, given by their referral
    and volunteer rows; y per referral) violates. Candidates: each connected set of
    fractional edges, and the shortest cycle of fractional edges through each family served
    in part; each also with the referrals served from its volunteers, and with the
    volunteers its referrals use up (which add to both sides alike)."""
    point = _LpPoint(referral, volunteer, x, y, needed, capacity)
    fractional = (x > FRACTIONAL) & (x < 1.0 - FRACTIONAL)
    if not fractional.any():
        return []
    candidates = [*_fractional_components(point, fractional)]
    candidates += _cycles_through_families(point, fractional)
    found: dict[tuple[bytes, bytes], OddCut] = {}
    for in_r, in_v in candidates:
        for referrals in (in_r, in_r | point.users_of(in_v)):
            for volunteers in (in_v, in_v | point.saturated_by(referrals)):
                key = (np.packbits(referrals).tobytes(), np.packbits(volunteers).tobytes())
                cut = point.cut(referrals, volunteers)
                if key not in found and point.violation(cut) > VIOLATION_TOLERANCE:
                    found[key] = cut
    return list(found.values())


@dataclass(frozen=True)
class _LpPoint:
    referral: IntArray  # per column
    volunteer: IntArray  # per column
    x: FloatArray  # per column
    y: FloatArray  # per referral
    needed: IntArray
    capacity: IntArray

    def cut(self, in_r: BoolArray, in_v: BoolArray) -> OddCut:
        """The cut for R and V; singles of R join B where that deepens it at this point
        (y above 1/2: -y_s on the left weighs more than 1/2 on the right)."""
        bounded = in_r & (self.needed == 1) & (self.y > 0.5)
        y_coefficient = np.where(in_r & ~bounded, -1.0, 0.0)
        bound = float((int(self.capacity[in_v].sum()) + int(bounded.sum())) // 2)
        return OddCut(in_r, in_v, y_coefficient, bound)

    def violation(self, cut: OddCut) -> float:
        inside = cut.edge_coefficients(self.referral, self.volunteer)
        return float(self.x[inside].sum() + cut.y_coefficient @ self.y) - cut.bound

    def users_of(self, in_v: BoolArray) -> BoolArray:
        """Referrals served, in whole or in part, from V."""
        users = np.zeros(self.y.size, dtype=np.bool_)
        users[self.referral[in_v[self.volunteer] & (self.x > FRACTIONAL)]] = True
        return users

    def saturated_by(self, in_r: BoolArray) -> BoolArray:
        """Volunteers whose whole capacity R uses."""
        inside = in_r[self.referral] & (self.x > FRACTIONAL)
        load = np.bincount(
            self.volunteer[inside], weights=self.x[inside], minlength=self.capacity.size
        )
        return np.asarray(load >= self.capacity - FRACTIONAL)


def _fractional_components(point: _LpPoint, fractional: BoolArray) -> Iterator[Candidate]:
    n_referrals, n_volunteers = point.y.size, point.capacity.size
    referral, volunteer = point.referral[fractional], point.volunteer[fractional]
    components = label_components(n_referrals, n_volunteers, (referral, volunteer))
    touched_r = np.zeros(n_referrals, dtype=np.bool_)
    touched_r[referral] = True
    touched_v = np.zeros(n_volunteers, dtype=np.bool_)
    touched_v[volunteer] = True
    for label in np.unique(components.referral[touched_r]).tolist():
        in_r = touched_r & (components.referral == label)
        yield in_r, touched_v & (components.volunteer == label)


def _cycles_through_families(point: _LpPoint, fractional: BoolArray) -> list[Candidate]:
    """For a family served in part from volunteers a, b, ...: the shortest path of
    fractional edges from a to each other one, avoiding the family, closes a cycle."""
    n_referrals = point.y.size
    part_served = (point.needed > 1) & (point.y > FRACTIONAL) & (point.y < 1.0 - FRACTIONAL)
    # Here only, not at the top: `scipy.sparse.csgraph` would add 0.07 s to every command's
    # start, and most solves add no cut (matching/engine/components.py).
    from scipy.sparse.csgraph import breadth_first_order

    candidates = []
    for family in np.flatnonzero(part_served).tolist():
        own = fractional & (point.referral == family)
        ends = n_referrals + point.volunteer[own]
        if ends.size < 2:
            continue
        graph = _graph(point, fractional & ~own)
        _, predecessor = breadth_first_order(graph, int(ends[0]), directed=False)
        for end in ends[1:].tolist():
            if predecessor[end] >= 0:
                path = _path(predecessor, int(ends[0]), end)
                candidates.append(_as_sets(point, np.append(path, family)))
    return candidates


def _graph(point: _LpPoint, edges: BoolArray) -> coo_matrix:
    """Referral rows, then volunteer rows, as the nodes of an undirected graph."""
    n_referrals = point.y.size
    n = n_referrals + point.capacity.size
    rows, columns = point.referral[edges], n_referrals + point.volunteer[edges]
    return coo_matrix((np.ones(rows.size), (rows, columns)), shape=(n, n)).tocsr()


def _path(predecessor: IntArray, start: int, end: int) -> IntArray:
    path = [end]
    while path[-1] != start:
        path.append(int(predecessor[path[-1]]))
    return np.array(path, dtype=np.int64)


def _as_sets(point: _LpPoint, nodes: IntArray) -> Candidate:
    n_referrals = point.y.size
    in_r = np.zeros(n_referrals, dtype=np.bool_)
    in_r[nodes[nodes < n_referrals]] = True
    in_v = np.zeros(point.capacity.size, dtype=np.bool_)
    in_v[nodes[nodes >= n_referrals] - n_referrals] = True
    return in_r, in_v
