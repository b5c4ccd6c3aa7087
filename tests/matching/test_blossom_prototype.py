"""The blossom prototype (benchmarks/blossom_prototype.py) may only add inequalities that
every matching keeps, and must find one wherever the LP's vertex is fractional: checked
against every matching of small random instances, at LP vertices and at mixtures of
matchings (where any cut would be wrong)."""

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

from benchmarks.blossom_prototype import LpPoint, blossoms_near


def random_instance(rng):
    n_r, n_v = int(rng.integers(3, 7)), int(rng.integers(2, 5))
    needed = rng.choice([1, 2], size=n_r)
    capacity = rng.choice([1, 2], size=n_v)
    pairs = [(r, v) for r in range(n_r) for v in range(n_v) if rng.random() < 0.6]
    referral = np.array([r for r, _ in pairs], dtype=np.int64)
    volunteer = np.array([v for _, v in pairs], dtype=np.int64)
    return referral, volunteer, needed, capacity


def matchings(referral, volunteer, needed, capacity):
    """Every (x, y): each referral gets none or exactly `needed` of its edges, no volunteer
    more than its capacity."""
    options = []
    for r in range(needed.size):
        own = np.flatnonzero(referral == r).tolist()
        options.append([(), *itertools.combinations(own, int(needed[r]))])
    for choice in itertools.product(*options):
        x = np.zeros(referral.size)
        for edges in choice:
            x[list(edges)] = 1.0
        if np.all(np.bincount(volunteer, weights=x, minlength=capacity.size) <= capacity):
            yield x, np.array([1.0 if edges else 0.0 for edges in choice])


def lp_vertex(referral, volunteer, needed, capacity, weight):
    """Vertex of the LP relaxation maximising weight . y (x then y as variables)."""
    n_e, n_r = referral.size, needed.size
    equal = np.zeros((n_r, n_e + n_r))
    equal[referral, np.arange(n_e)] = 1.0
    equal[np.arange(n_r), n_e + np.arange(n_r)] = -needed
    upper = np.zeros((capacity.size, n_e + n_r))
    upper[volunteer, np.arange(n_e)] = 1.0
    families = np.flatnonzero(needed[referral] > 1)
    pair = np.zeros((families.size, n_e + n_r))
    pair[np.arange(families.size), families] = 1.0
    pair[np.arange(families.size), n_e + referral[families]] = -1.0
    result = linprog(
        np.concatenate((np.zeros(n_e), -weight)),
        A_ub=np.vstack((upper, pair)),
        b_ub=np.concatenate((capacity, np.zeros(families.size))),
        A_eq=equal,
        b_eq=np.zeros(n_r),
        bounds=(0, 1),
        method="highs-ds",
    )
    return result.x[:n_e], result.x[n_e:]


def assert_kept_by_every_matching(cuts, referral, volunteer, needed, capacity):
    for cut in cuts:
        inside = cut.edge_coefficients(referral, volunteer)
        for x, y in matchings(referral, volunteer, needed, capacity):
            assert x[inside].sum() + cut.y_coefficient @ y <= cut.bound + 1e-9


@pytest.mark.parametrize("seed", range(6))
def test_cuts_at_lp_vertices_hold_for_every_matching(seed):
    rng = np.random.default_rng(seed)
    found = 0
    for _ in range(60):
        referral, volunteer, needed, capacity = random_instance(rng)
        if referral.size == 0:
            continue
        x, y = lp_vertex(referral, volunteer, needed, capacity, rng.integers(1, 9, needed.size))
        point = LpPoint(referral, volunteer, x, y, needed, capacity)
        cuts = blossoms_near(point, np.ones(needed.size, dtype=bool), radius=50)
        assert_kept_by_every_matching(cuts, referral, volunteer, needed, capacity)
        # Blossoms, degrees and bounds give the hull (Edmonds), so a fractional vertex
        # violates one, and the search, reaching every vertex here, is exact.
        fractional = not np.allclose(np.concatenate((x, y)), np.round(np.concatenate((x, y))))
        assert bool(cuts) == fractional
        found += fractional
    assert found > 0  # the vertices were fractional often enough to test something


@pytest.mark.parametrize("seed", range(6))
def test_no_cut_at_a_mixture_of_matchings(seed):
    rng = np.random.default_rng(100 + seed)
    for _ in range(60):
        referral, volunteer, needed, capacity = random_instance(rng)
        every = list(matchings(referral, volunteer, needed, capacity))
        picked = rng.choice(len(every), size=min(3, len(every)), replace=False)
        share = rng.dirichlet(np.ones(picked.size))
        x = sum(s * every[i][0] for s, i in zip(share, picked, strict=True))
        y = sum(s * every[i][1] for s, i in zip(share, picked, strict=True))
        point = LpPoint(referral, volunteer, np.asarray(x), np.asarray(y), needed, capacity)
        assert blossoms_near(point, np.ones(needed.size, dtype=bool), radius=50) == []


def most_violated_by_brute_force(point):
    """The largest violation over every vertex set U, with the best F for it: the edges
    leaving U with x above 1/2, and the parity mended by the edge nearest 1/2."""
    n_r, n_v = point.y.size, point.capacity.size
    best = 0.0
    for mask in range(1, 2 ** (n_r + n_v)):
        members = np.array([(mask >> i) & 1 for i in range(n_r + n_v)], dtype=bool)
        in_r, in_v = members[:n_r], members[n_r:]
        inside = in_r[point.referral] & in_v[point.volunteer]
        leaving = np.flatnonzero(in_r[point.referral] ^ in_v[point.volunteer])
        in_f = point.x[leaving] > 0.5
        b = point.capacity[in_v].sum() + (in_r & (point.needed == 1)).sum()
        if (b + in_f.sum()) % 2 == 0:
            if leaving.size == 0:
                continue
            nearest = np.argmin(np.abs(point.x[leaving] - 0.5))
            in_f[nearest] = ~in_f[nearest]
        lhs = point.x[inside].sum() + point.x[leaving[in_f]].sum()
        lhs -= point.y[in_r & (point.needed > 1)].sum()
        best = max(best, lhs - (b + in_f.sum()) // 2)
    return best


@pytest.mark.parametrize("seed", range(4))
def test_the_most_violated_blossom_is_found(seed):
    """Between a fractional vertex and a mixture of matchings many edges are fractional, as
    at the centre of an optimal face, where the engine would separate."""
    rng = np.random.default_rng(200 + seed)
    checked = 0
    while checked < 15:
        referral, volunteer, needed, capacity = random_instance(rng)
        if referral.size == 0 or needed.size + capacity.size > 9:
            continue
        x, y = lp_vertex(referral, volunteer, needed, capacity, rng.integers(1, 9, needed.size))
        every = list(matchings(referral, volunteer, needed, capacity))
        picked = rng.choice(len(every), size=min(3, len(every)), replace=False)
        share = rng.dirichlet(np.ones(picked.size)) * (1 - (weight := rng.uniform(0.3, 0.9)))
        x = weight * x + sum(s * every[i][0] for s, i in zip(share, picked, strict=True))
        y = weight * y + sum(s * every[i][1] for s, i in zip(share, picked, strict=True))
        point = LpPoint(referral, volunteer, x, y, needed, capacity)
        expected = most_violated_by_brute_force(point)
        if expected <= 1e-6:
            continue
        cuts = blossoms_near(point, np.ones(needed.size, dtype=bool), radius=50)
        violations = [
            x[cut.edge_coefficients(referral, volunteer)].sum() + cut.y_coefficient @ y - cut.bound
            for cut in cuts
        ]
        assert max(violations, default=0.0) == pytest.approx(expected, abs=1e-6)
        checked += 1
