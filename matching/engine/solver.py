"""Exact lexicographic matching by column generation over a spatially explored edge pool.

Stages, each optimal over ALL feasible edges before the next starts:
  1. most referrals matched, 2. largest waiting-day sum, 3. least total cost.
Each stage holds the earlier optima as constraints on y (see lp.py for the model).
Stages 1 and 2 are usually solved as one (Stage.MATCHED_THEN_WAITING): each referral scores
M + its waiting days, with M above every referral's waiting days together, so that one more
referral matched outweighs any waiting days and the best score is the best count with, among
those, the largest waiting-day sum. Its LPs are far less degenerate than stage 1's alone and
one MILP proof does for two: on four of five scarce instances the whole solve took 1.6-2.6x
less time, on one 1.34x more (docs/benchmarks.md, 2026-12-01, seventh stop).

Why the answer is optimal. For each referral the pool knows every feasible edge closer
than `explored_km`; the restricted model has some of those edges as columns plus one
phantom per referral not yet fully explored, which stands for all its unexplored edges at
a lower bound of their objective: in stage 3 how far they are at least, less the most they
can earn for shared weekly time and shared activities (pool.py keeps how far each referral
is explored per number of shared activities, so that pairs sharing more are looked for
farther away), and in
stages 1-2 (where edges cost 0) a small delta whose total stays below 1/2, less than one
unit of the integer objective. So the model with all known edges is a relaxation of the
full graph. The LP is re-solved, warm-started, while a known edge prices in (negative
reduced cost) or a phantom is used (its referral is then explored further); at that point
its value bounds the full graph. If the LP optimum is integral and uses no phantom, it is
feasible for the full graph, hence optimal. Otherwise the MILP is solved over the columns;
known edges whose reduced cost is below the gap between MILP value and LP bound are the
only ones that could improve on it, so they are added and the MILP solved again; if that
optimum uses a phantom, exploration continues, else it is optimal for the full graph. By the
same argument a referral the LP leaves unserved, whose y has a reduced cost above the gap, is
unserved in every solution as good as the MILP's: it is held at 0 and its edges stay out.
Edges added only for this proof leave the model again unless the proven optimum uses them.

Odd-capacity cuts (cuts.py). Where the LP optimum is fractional, families and singles
usually share volunteers by halves; the cuts it violates join the model (up to
MAX_CUT_ROUNDS rounds per stage) before any MILP. They hold for every matching of the full
graph, so every bound above stays valid; pricing takes each cut's dual on the edges it
covers, and a phantom, covered by none, still bounds its unknown edges from below (the
argument is in cuts.py). Often the LP is then integral and no MILP runs at all.

Why the stage optima can be held per component. Take the components of the known edges
(joined where an earlier fixing spans referrals). A full-graph solution restricted to one
component is feasible for that component's relaxed model (its unknown edges become phantom
use; phantoms have no volunteer rows), so it scores at most that component's share of the
stage optimum; the shares add up to the optimum. Every full-graph optimum therefore scores
exactly its share in every component, and one fixing row per component holds the same set
of solutions as one row over all referrals - but leaves the model separable, so the MILP
is solved one component at a time (lp.py).
"""

from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from .candidates import BoolArray, CandidateIndex
from .components import label_components
from .cuts import OddCut, violated_cuts
from .lp import Fixing, Objective, RestrictedModel, Solution
from .pool import EdgePool
from .tables import FloatArray, IntArray

REDUCED_COST_TOLERANCE = 1e-7
ENTERING_PER_REFERRAL = 8
PHANTOM_USE_TOLERANCE = 1e-6
INITIAL_NEIGHBOURS = 16
SPARE_CANDIDATES = 4
INITIAL_COLUMN_SPARE = 2
# Rounds of cuts per stage before its MILP. On the scarce benchmark one round per stage left
# both LPs integral (no MILP: 39 s to 10 s); on a harder seed, 20 rounds narrowed the gaps
# without closing them and the MILPs did the rest (121 s to 80 s); 200 rounds in all cost more
# in LPs than they saved (169 s, another solve running beside it).
MAX_CUT_ROUNDS = 20
# In stages 1-2 the model's objective is minus an integer score plus the phantoms' price,
# whose total stays below PHANTOM_PRICE_TOTAL. An incumbent within GAP of the bound then
# scores the optimum: a solution scoring 1 more would lie below the bound by at least
# 1 - PHANTOM_PRICE_TOTAL - GAP > 0. LP bounds of families often end in 1/2, so the gap must
# exceed 1/2 for branch and bound to stop as soon as it finds the optimum.
PHANTOM_PRICE_TOTAL = 0.2
# The margin of 0.2 (above 1 - PHANTOM_PRICE_TOTAL - gap) leaves room for HiGHS's
# tolerances: lp.MAX_ROUNDING_SLACK, and dual feasibility (1e-7 per column used).
INTEGER_STAGE_MIP_GAP = 1.0 - PHANTOM_PRICE_TOTAL - 0.2
# Stages 1 and 2 are solved as one while each referral's score M + waiting days stays below
# this (waiting days of up to 1,000 for 16,000 referrals do), so that scores stay exact in
# floating point and far from HiGHS's limits; beyond, the stages are solved one by one.
MAX_COMBINED_SCORE_WEIGHT = 2.0**24


class Stage(Enum):
    COUNT = "count"
    WAITING = "waiting"
    MATCHED_THEN_WAITING = "matched then waiting"
    COST = "cost"


@dataclass
class SolveStats:
    lp_solves: int = 0
    milp_solves: int = 0
    explorations: int = 0
    columns: int = 0
    known_edges: int = 0
    stages: list[Stage] = field(default_factory=list)
    cuts: int = 0
    cut_rounds: int = 0  # over all stages; MAX_CUT_ROUNDS limits each stage's


@dataclass(frozen=True)
class Selection:
    """Chosen edges (indices into the pool) and the pool they index."""

    pool: EdgePool
    chosen: IntArray
    stats: SolveStats


def select_matches(index: CandidateIndex) -> Selection:
    pool = EdgePool(index)
    stats = SolveStats()
    if len(index.referrals) == 0 or len(index.volunteers) == 0:
        return Selection(pool, np.zeros(0, dtype=np.int64), stats)
    _explore_initially(pool)
    _start_with_cheapest_columns(pool)
    model = RestrictedModel(pool)
    fixings: list[Fixing] = []
    solution: Solution | None = None
    for stage in _stages(index):
        stats.stages.append(stage)
        solution = _solve_stage(pool, stage, fixings, stats, model)
        for weight in _optima_held_after(index, stage):
            fixings += _fixings_per_component(pool, weight, fixings, solution)
    assert solution is not None
    stats.columns, stats.known_edges = solution.columns.size, int(pool.referral.size)
    return Selection(pool, solution.chosen, stats)


def _explore_initially(pool: EdgePool) -> None:
    """Enough nearby candidates that few referrals need exploring again."""
    needed = pool.index.referrals.needed
    rows = np.arange(needed.size, dtype=np.int64)
    k = INITIAL_NEIGHBOURS
    while rows.size:
        pool.explore_nearest(rows, k + int(needed[rows].max()))
        short = pool.edges_per_referral()[rows] < needed[rows] + SPARE_CANDIDATES
        rows = rows[short & ~pool.fully_explored[rows]]
        k *= 4


def _start_with_cheapest_columns(pool: EdgePool) -> None:
    """A few cheap edges per referral start in the model; pricing brings in the rest."""
    limit = pool.index.referrals.needed[pool.referral] + INITIAL_COLUMN_SPARE
    order = np.lexsort((pool.cost, pool.referral))
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = _rank_in_group(pool.referral[order])
    pool.is_column[:] = rank < limit


def _rank_in_group(sorted_groups: IntArray) -> IntArray:
    start = np.searchsorted(sorted_groups, sorted_groups, side="left")
    return np.arange(sorted_groups.size) - start


def _stages(index: CandidateIndex) -> tuple[Stage, ...]:
    """All equal waiting days make stage 2 a no-op; else it is solved with stage 1 where
    the combined score stays small enough to be exact."""
    waiting = index.referrals.waiting_days
    if np.all(waiting == waiting[0]):
        return (Stage.COUNT, Stage.COST)
    if _combined_weight(index).max() <= MAX_COMBINED_SCORE_WEIGHT:
        return (Stage.MATCHED_THEN_WAITING, Stage.COST)
    return (Stage.COUNT, Stage.WAITING, Stage.COST)


def _optima_held_after(index: CandidateIndex, stage: Stage) -> list[FloatArray]:
    """Referral weights of the optima a stage settles, held by every later stage.

    After the combined stage both are held, each per component: where the stage's solution
    matched k referrals with e waiting days above the shortest wait, every solution of the
    best score scores M k + e too (solver docstring), and as 0 <= e < M it matches k there,
    waiting as long."""
    held = {
        Stage.COUNT: (Stage.COUNT,),
        Stage.WAITING: (Stage.WAITING,),
        Stage.MATCHED_THEN_WAITING: (Stage.COUNT, Stage.WAITING),
        Stage.COST: (),
    }
    return [_referral_weight(index, settled) for settled in held[stage]]


def _fixings_per_component(
    pool: EdgePool, weight: FloatArray, fixings: list[Fixing], solution: Solution
) -> list[Fixing]:
    """Hold a stage optimum with one row per component of the known edges that scores above
    zero (weights are never negative, so a row >= 0 holds anyway)."""
    components = label_components(
        len(weight),
        pool.n_volunteers,
        (pool.referral, pool.volunteer),
        [fixing.referrals for fixing in fixings],
    )
    labels = components.referral
    scores = np.bincount(labels, weights=weight * solution.y, minlength=components.count)
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(components.count + 1))
    return [
        Fixing(members, weight[members], float(round(scores[label])))
        for label in np.flatnonzero(np.round(scores) > 0).tolist()
        for members in (order[bounds[label] : bounds[label + 1]],)
    ]


def _referral_weight(index: CandidateIndex, stage: Stage) -> FloatArray:
    if stage is Stage.COUNT:
        return np.ones(len(index.referrals))
    if stage is Stage.MATCHED_THEN_WAITING:
        return _combined_weight(index)
    return index.referrals.waiting_days.astype(np.float64)


def _combined_weight(index: CandidateIndex) -> FloatArray:
    """M + waiting days, less the shortest wait (which every referral has, so the order of
    scores stays), with M one more than all referrals' waits together."""
    extra: FloatArray = index.referrals.waiting_days.astype(np.float64)
    extra -= extra.min()
    return extra + float(extra.sum() + 1.0)


def _solve_stage(
    pool: EdgePool, stage: Stage, fixings: list[Fixing], stats: SolveStats, model: RestrictedModel
) -> Solution:
    cut_rounds = 0
    while True:
        relaxed = _solve_relaxation(pool, stage, fixings, stats, model)
        if relaxed.integral:
            return relaxed
        if cut_rounds < MAX_CUT_ROUNDS and _add_violated_cuts(pool, model, relaxed, stats):
            cut_rounds += 1
            continue
        exact = _solve_integer(pool, stage, fixings, stats, model, relaxed)
        used = np.flatnonzero(exact.phantom_use > 0.5)
        if used.size == 0:
            return exact
        _explore_further(pool, stage, used, relaxed)
        stats.explorations += 1


def _add_violated_cuts(
    pool: EdgePool, model: RestrictedModel, relaxed: Solution, stats: SolveStats
) -> bool:
    """Add the odd-capacity cuts (cuts.py) this LP optimum violates; False if none."""
    columns = relaxed.columns
    cuts = violated_cuts(
        pool.referral[columns],
        pool.volunteer[columns],
        relaxed.x,
        relaxed.y,
        pool.index.referrals.needed,
        pool.index.volunteers.capacity,
    )
    if not cuts:
        return False
    stats.cut_rounds += 1
    stats.cuts += len(cuts)
    model.add_cuts(cuts)
    return True


def _solve_integer(
    pool: EdgePool,
    stage: Stage,
    fixings: list[Fixing],
    stats: SolveStats,
    model: RestrictedModel,
    relaxed: Solution,
) -> Solution:
    """MILP optimum over every known edge and the phantoms.

    Known edges that are not columns can only appear in a solution at least as good as
    the MILP's if their reduced cost (against the LP optimum's duals) is below the gap
    between the MILP value and the LP bound; those are added and the MILP solved again.
    """
    # A solution scoring better lies at least this far below the incumbent.
    gain = 0.0 if stage is Stage.COST else 1.0 - PHANTOM_PRICE_TOTAL
    absolute_gap = None if stage is Stage.COST else INTEGER_STAGE_MIP_GAP
    # Stage 1 alone weighs every referral alike and no edge, so its LPs are highly
    # degenerate: on the scarce benchmark the proof's MILP over 222,000 columns took 495 s
    # with dual simplex (its root LP unfinished after 150 s), 18-19 s with interior point for
    # the root. The other stages tell referrals or pairs apart, and there dual simplex was as
    # fast or faster (combined stages 1-2: 4.9 s against 20.2 s; docs/benchmarks.md).
    interior = stage is Stage.COUNT
    exact = model.solve_integer(
        _objective(pool, stage),
        fixings,
        _y_upper(pool),
        relaxed,
        absolute_gap,
        interior_point_root=interior,
    )
    stats.milp_solves += 1
    gap = exact.value - gain - relaxed.value + REDUCED_COST_TOLERANCE
    y_upper = _y_upper(pool)
    entered = np.zeros(0, dtype=np.int64)
    if gap >= 0:
        y_upper[_never_served_in_better(relaxed, exact)] = 0.0
        entered = _price_known_edges(pool, stage, relaxed, gap, None, model.cuts, y_upper)
    if entered.size == 0:
        return exact
    stats.milp_solves += 1
    proven = model.solve_integer(
        _objective(pool, stage),
        fixings,
        y_upper,
        relaxed,
        absolute_gap,
        incumbent=exact,
        interior_point_root=interior,
    )
    # When the gap is wide (families, scarce volunteers) nearly every known edge enters
    # only to prove the optimum; kept, they would slow every later LP and MILP.
    model.drop_columns(np.setdiff1d(entered, proven.chosen))
    return proven


def _never_served_in_better(relaxed: Solution, exact: Solution) -> BoolArray:
    """Referrals unserved in the LP whose serving would raise the LP bound above the
    incumbent's value: no solution as good as the incumbent serves them. (The LP's duals
    price every known edge at or above zero, so its reduced costs bound the full graph.)"""
    span = exact.value - relaxed.value + REDUCED_COST_TOLERANCE
    return np.asarray((relaxed.y < PHANTOM_USE_TOLERANCE) & (relaxed.y_reduced_costs > span))


def _solve_relaxation(
    pool: EdgePool, stage: Stage, fixings: list[Fixing], stats: SolveStats, model: RestrictedModel
) -> Solution:
    while True:
        relaxed = model.solve_relaxation(_objective(pool, stage), fixings, _y_upper(pool))
        stats.lp_solves += 1
        used = np.flatnonzero(relaxed.phantom_use > PHANTOM_USE_TOLERANCE)
        if used.size:
            _explore_further(pool, stage, used, relaxed)
            stats.explorations += 1
        entered = _price_known_edges(
            pool, stage, relaxed, -REDUCED_COST_TOLERANCE, ENTERING_PER_REFERRAL, model.cuts
        )
        if entered.size == 0 and used.size == 0:
            return relaxed


def _objective(pool: EdgePool, stage: Stage) -> Objective:
    """Stage objective; phantoms get a lower bound on what an unexplored edge costs.

    In stage 3 that is `EdgePool.unknown_cost_bound` (how far unknown edges are, less the
    best bonus they can earn for shared time and activities). In stages 1-2 edges cost 0;
    the phantom costs delta instead, so that it is used only when needed, with
    delta * (total phantom capacity) < PHANTOM_PRICE_TOTAL < 1: a solution free of phantoms
    that is optimal with delta then loses less than 1 against any full-graph solution, hence
    nothing, the stage objective being an integer. Delta stays the same while referrals are
    explored, so each LP starts from a basis that is still dual feasible.
    """
    n_ref = len(pool.index.referrals)
    if stage is Stage.COST:
        phantom = pool.unknown_cost_bound()
        return Objective(edge=pool.cost, phantom=phantom, referral=np.zeros(n_ref))
    capacity = float(pool.index.referrals.needed.sum())
    return Objective(
        edge=np.zeros(pool.cost.size),
        phantom=np.full(n_ref, PHANTOM_PRICE_TOTAL / (capacity + 1.0)),
        referral=-_referral_weight(pool.index, stage),
    )


def _price_known_edges(
    pool: EdgePool,
    stage: Stage,
    lp: Solution,
    below: float,
    per_referral: int | None,
    cuts: list[OddCut],
    y_upper: FloatArray | None = None,
) -> IntArray:
    """Make known edges with reduced cost below `below` columns (at most `per_referral` of
    each referral's cheapest, if given; none of referrals whose `y_upper` is 0); return
    those added."""
    edge_objective = pool.cost if stage is Stage.COST else np.zeros(pool.cost.size)
    reduced = edge_objective - lp.referral_duals[pool.referral]
    reduced -= lp.volunteer_duals[pool.volunteer]
    for cut, dual in zip(cuts, lp.cut_duals.tolist(), strict=True):
        if dual != 0.0:
            reduced -= dual * cut.edge_coefficients(pool.referral, pool.volunteer)
    candidate = ~pool.is_column & (reduced < below)
    if y_upper is not None:
        candidate &= y_upper[pool.referral] > 0
    entering = np.flatnonzero(candidate)
    if per_referral is not None:
        entering = entering[
            _best_per_group(pool.referral[entering], reduced[entering], per_referral)
        ]
    pool.is_column[entering] = True
    return entering


def _best_per_group(groups: IntArray, values: FloatArray, limit: int) -> IntArray:
    """Positions of the `limit` smallest values in each group (partial pricing)."""
    order = np.lexsort((values, groups))
    return order[_rank_in_group(groups[order]) < limit]


def _explore_further(pool: EdgePool, stage: Stage, rows: IntArray, lp: Solution) -> None:
    """Widen the explored radius of referrals that lean on their phantom; new edges join.

    In stage 3 an unknown edge of activity tier k prices in only if it is closer than the
    referral's dual plus the overlap bonus plus k activity bonuses: each tier not yet that far
    is widened to there, at least by tier 0's radius, so pairs sharing more activities are
    looked for farther away, the others not."""
    limit = pool.index.referrals.limit_km[rows]
    if stage is Stage.COST:
        index = pool.index
        reach = pool.reach_km[rows]
        dual = lp.referral_duals[rows] + index.overlap_bonus_km[rows] + 0.5
        worthwhile = dual[:, np.newaxis] + index.tier_search_km[rows]
        # Tiers reaching that far already stay; the others grow at least as tier 0 would
        # (doubling), so exploration ends after few rounds. (A phantom in use always has such
        # a tier; should the duals say otherwise, every tier grows.)
        short = reach < worthwhile
        short[~short.any(axis=1)] = True
        step = reach[:, :1] + 1.0
        radius = np.where(short, np.maximum(reach + step, worthwhile), reach)
    else:
        radius = limit[:, np.newaxis]
    pool.explore_within(rows, np.minimum(radius, limit[:, np.newaxis]))


def _y_upper(pool: EdgePool) -> FloatArray:
    """Referrals that can never be served (explored fully, too few edges) are fixed unmatched."""
    needed = pool.index.referrals.needed
    hopeless = pool.fully_explored & (pool.edges_per_referral() < needed)
    return np.where(hopeless, 0.0, 1.0)
