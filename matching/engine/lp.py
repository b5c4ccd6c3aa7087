"""The restricted matching model over the pool's columns, kept alive in one HiGHS instance
(the public `highspy` binding), solved as LP warm-started from the previous optimal basis,
or solved as MILP one connected component at a time (see `solve_integer`).

Variables: y (one per referral), p (one "phantom" per referral, standing for all its
unexplored edges at a lower bound of their cost; bound 0 once the referral is fully
explored), then x (one per column edge, in the order they entered). Rows:
  referral r:   sum_v x_rv + p_r - needed_r * y_r  = 0     (all or nothing)
  volunteer v:  sum_r x_rv                         <= capacity_v
  pair e=(r,v): x_rv - y_r                         <= 0   (only where needed_r > 1)
  fixing k:     coef_k . y_S_k                     >= value_k   (earlier optima held, one
                                                                row per component S_k)
  cut c:        x over R_c x V_c - y of some of R_c <= bound_c  (cuts.py; a column joining
                                                                later gets its entries)
Phantoms carry no volunteer rows, so the model relaxes the full graph; a solution that
leaves every phantom at zero is feasible for the full graph. The pair rows are valid for
binary solutions and cut off LP optima that serve a family with one volunteer at y = 1/2,
which keeps most relaxations integral. An edge outside the model may take a zero dual on
its own pair row, so pricing it needs only the referral, volunteer and cut duals.
"""

from dataclasses import dataclass

import highspy
import numpy as np
from scipy.sparse import csc_matrix

from .candidates import BoolArray
from .components import label_components
from .cuts import OddCut
from .errors import SolverFailure
from .pool import EdgePool
from .tables import FloatArray, IntArray

INFINITY = 1e30  # HiGHS treats magnitudes >= 1e20 as infinite


INTEGRALITY_TOLERANCE = 1e-6
# HiGHS takes a value within 1e-6 of an integer as integral (its mip_feasibility_tolerance),
# so a referral weighing M + waiting days (solver.py, 224,000 on the scarce benchmark) can
# make HiGHS judge its incumbent by up to 0.22 better than the rounded solution scores.
# Branch and bound prunes against the incumbents' values, each at least the final one's, so
# where the final incumbent's y round to within this slack of its value, every pruned node
# was bounded within the stage's margin (solver.py); else the component is solved again with
# a strict tolerance (slower: at 1e-9 throughout, stages 1-2 of scarce-families took 336 s
# against 116 s).
MAX_ROUNDING_SLACK = 0.05
STRICT_FEASIBILITY = 1e-9
# Where asked for (solver.py says when), a component MILP with this many columns solves its
# root LP by interior point.
INTERIOR_POINT_FROM_COLUMNS = 20_000
# HiGHS's simplex_strategy values.
DUAL_SIMPLEX, PRIMAL_SIMPLEX = 1, 4


@dataclass(frozen=True)
class Fixing:
    """An earlier stage's optimum over some referrals: weight . y[referrals] >= value."""

    referrals: IntArray
    referral_weight: FloatArray  # per referral in `referrals`
    value: float


@dataclass(frozen=True)
class Objective:
    """Stage objective split by variable kind: per pool edge, per phantom, per referral y."""

    edge: FloatArray
    phantom: FloatArray
    referral: FloatArray


@dataclass(frozen=True)
class Solution:
    """A solved restricted model, in pool terms."""

    value: float
    columns: IntArray  # pool edges that were variables
    x: FloatArray
    phantom_use: FloatArray  # per referral
    y: FloatArray  # per referral
    referral_duals: FloatArray  # zero for MILP solutions
    volunteer_duals: FloatArray  # per volunteer of the instance, zero where no row
    y_reduced_costs: FloatArray  # per referral; zero for MILP solutions
    cut_duals: FloatArray  # per cut of the model; zero for MILP solutions

    @property
    def integral(self) -> bool:
        return bool(np.all(is_integral(np.concatenate((self.x, self.phantom_use, self.y)))))

    @property
    def chosen(self) -> IntArray:
        return self.columns[self.x > 0.5]


def _rounding_slack(weights: FloatArray, values: FloatArray) -> float:
    return float(np.abs(weights) @ np.abs(values - np.round(values)))


def is_integral(values: FloatArray) -> BoolArray:
    return np.asarray(np.abs(values - np.round(values)) <= INTEGRALITY_TOLERANCE)


class _SilentHighs(highspy.Highs):
    """HiGHS that never writes to stdout (the CLI prints its JSON there). Recent highspy
    logs its banner as soon as the constructor enables callbacks, unless output is off."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # highspy leaves it unannotated
        self.setOptionValue("output_flag", False)

    def enableCallbacks(self) -> None:
        self.setOptionValue("output_flag", False)
        super().enableCallbacks()  # type: ignore[no-untyped-call]


class RestrictedModel:
    """Rows: referral rows, then volunteer, family-pair and fixing rows as they appear."""

    def __init__(self, pool: EdgePool) -> None:
        self.pool = pool
        self.highs = _SilentHighs()
        self.n_referrals = len(pool.index.referrals)
        self.columns = np.zeros(0, dtype=np.int64)
        self.in_model = np.zeros(0, dtype=np.bool_)
        self.volunteer_row = np.full(pool.n_volunteers, -1, dtype=np.int64)
        self.n_rows = 0
        self.n_fixings = 0
        self.costs = np.zeros(0)  # as last passed to HiGHS, in column order
        self.cuts: list[OddCut] = []
        self.cut_rows = np.zeros(0, dtype=np.int64)
        needed = pool.index.referrals.needed.astype(np.float64)
        self.upper = np.concatenate((np.ones(self.n_referrals), needed))  # y, phantoms
        # Whether the model has changed since the last LP optimum only by new columns (and
        # the family rows they bring, whose slack is basic): that basis is then still primal
        # feasible (see `solve_relaxation`).
        self.last_basis_primal_feasible = False
        self._add_referral_rows_and_columns()

    def solve_relaxation(
        self, objective: Objective, fixings: list[Fixing], y_upper: FloatArray
    ) -> Solution:
        """LP optimum with duals, warm-started from the last basis.

        Where only priced-in columns have joined since, by primal simplex: the basis is still
        primal feasible, while the new columns' negative reduced costs leave it far from dual
        feasible. On scarce-20k such re-solves over about 255,000 columns took 0.7-0.9 s each by
        primal simplex against 28-39 s by dual simplex (docs/benchmarks.md, eleventh stop).
        Otherwise (bounds tightened, cuts or fixings added, costs changed, columns dropped) by
        dual simplex."""
        columns_before = self.columns.size
        self._update(objective, fixings, y_upper)
        only_columns_joined = self.last_basis_primal_feasible and self.columns.size > columns_before
        strategy = PRIMAL_SIMPLEX if only_columns_joined else DUAL_SIMPLEX
        self._check(self.highs.setOptionValue("simplex_strategy", strategy), "simplex_strategy")
        self._run(self.highs, "LP relaxation")
        self.last_basis_primal_feasible = True
        solution = self.highs.getSolution()
        values = np.asarray(solution.col_value, dtype=np.float64)
        row_duals = np.asarray(solution.row_dual, dtype=np.float64)
        volunteer_duals = np.zeros(self.pool.n_volunteers)
        has_row = self.volunteer_row >= 0
        volunteer_duals[has_row] = row_duals[self.volunteer_row[has_row]]
        value = float(self.highs.getInfo().objective_function_value)
        y_reduced = np.asarray(solution.col_dual, dtype=np.float64)[: self.n_referrals]
        return self._solution(
            value,
            values,
            row_duals[: self.n_referrals],
            volunteer_duals,
            y_reduced,
            row_duals[self.cut_rows],
        )

    def solve_integer(
        self,
        objective: Objective,
        fixings: list[Fixing],
        y_upper: FloatArray,
        relaxed: Solution,
        absolute_gap: float | None = None,
        incumbent: "Solution | None" = None,
        interior_point_root: bool = False,
    ) -> Solution:
        """Exact MILP optimum over the same model, one connected component at a time.

        No row links two components (fixings are per component), so the LP optimum
        restricted to a component is that component's LP optimum; where it is integral and
        no column has joined the component since, it is the component's MILP optimum too.
        Each other component is solved as a MILP of its own: branch and bound over one joint
        model would have to close every component's gap at once. `absolute_gap`, if given,
        is HiGHS's `mip_abs_gap` per component (else zero gap, up to HiGHS's 1e-6).
        `incumbent`, a solution of the model before columns joined, starts each MILP.
        With `interior_point_root`, a component of at least INTERIOR_POINT_FROM_COLUMNS
        columns solves its root LP by interior point. Integral solutions are returned
        rounded, so their value is exact.
        """
        self._update(objective, fixings, y_upper)
        model = _ModelArrays(self.highs.getLp())
        column_label, count = self._column_components(fixings)
        row_label = model.row_labels(column_label)
        values = np.zeros(model.n_columns)
        settled = 2 * self.n_referrals + relaxed.columns.size
        values[:settled] = np.concatenate((relaxed.y, relaxed.phantom_use, relaxed.x))
        unsettled = np.zeros(count, dtype=np.bool_)
        unsettled[column_label[~is_integral(values)]] = True
        unsettled[column_label[settled:]] = True
        start = None if incumbent is None else self._padded(incumbent, model.n_columns)
        column_groups, row_groups = _Groups(column_label), _Groups(row_label)
        for label in np.flatnonzero(unsettled).tolist():
            columns = column_groups.members(label)
            rows = row_groups.members(label)
            component_start = None if start is None else start[columns]
            values[columns] = self._solve_component(
                model, columns, rows, absolute_gap, component_start, interior_point_root
            )
        zero = np.zeros(self.n_referrals)
        return self._solution(
            float(model.cost @ values),
            values,
            zero,
            np.zeros(self.pool.n_volunteers),
            zero,
            np.zeros(len(self.cuts)),
        )

    def drop_columns(self, edges: IntArray) -> None:
        """Take these pool edges out of the model (pricing may bring them back). Their
        family rows stay, as `-y_r <= 0`, which always holds."""
        edges = edges[self.in_model[edges]]
        if edges.size == 0:
            return
        dropped = np.isin(self.columns, edges)
        positions = 2 * self.n_referrals + np.flatnonzero(dropped)
        self._check(self.highs.deleteCols(positions.size, positions.astype(np.int32)), "deleteCols")
        self.last_basis_primal_feasible = False
        self.columns = self.columns[~dropped]
        self.costs = np.delete(self.costs, positions)
        self.in_model[edges] = False
        self.pool.is_column[edges] = False

    def _column_components(self, fixings: list[Fixing]) -> tuple[IntArray, int]:
        """Component label of every model column (y, phantoms, then x)."""
        pool = self.pool
        components = label_components(
            self.n_referrals,
            pool.n_volunteers,
            (pool.referral[self.columns], pool.volunteer[self.columns]),
            [fixing.referrals for fixing in fixings]
            + [np.flatnonzero(cut.referrals) for cut in self.cuts],
        )
        by_referral = components.referral
        labels = np.concatenate(
            (by_referral, by_referral, by_referral[pool.referral[self.columns]])
        )
        return labels, components.count

    @staticmethod
    def _padded(solution: Solution, n_columns: int) -> FloatArray:
        """The solution's values over the model's columns; columns added since are zero."""
        values = np.zeros(n_columns)
        known = np.concatenate((solution.y, solution.phantom_use, solution.x))
        values[: known.size] = np.round(known)
        return values

    def _solve_component(
        self,
        model: "_ModelArrays",
        columns: IntArray,
        rows: IntArray,
        absolute_gap: float | None,
        start: FloatArray | None,
        interior_point_root: bool,
    ) -> FloatArray:
        sub = model.matrix[:, columns][rows, :].tocsr()
        sub.sort_indices()
        milp = _SilentHighs()
        n, m = columns.size, rows.size
        self._check(
            milp.addCols(
                n, model.cost[columns], model.col_lower[columns], model.col_upper[columns],
                0, np.zeros(n, np.int32), np.zeros(0, np.int32), np.zeros(0),
            ),
            "addCols(component)",
        )  # fmt: skip
        self._check(
            milp.addRows(
                m, model.row_lower[rows], model.row_upper[rows], sub.nnz,
                sub.indptr[:-1].astype(np.int32), sub.indices.astype(np.int32), sub.data,
            ),
            "addRows(component)",
        )  # fmt: skip
        self._check(milp.setOptionValue("mip_rel_gap", 0.0), "mip_rel_gap")
        self._choose_lp_solver(milp, interior_point_root and n >= INTERIOR_POINT_FROM_COLUMNS)
        if absolute_gap is not None:
            self._check(milp.setOptionValue("mip_abs_gap", absolute_gap), "mip_abs_gap")
        self._set_integrality(milp, self._integer_columns(columns))
        if start is not None:
            self._start_from(milp, start)
        n_y = int(np.sum(columns < self.n_referrals))
        self._run(milp, "MILP")
        values = np.asarray(milp.getSolution().col_value, dtype=np.float64)
        if _rounding_slack(model.cost[columns[:n_y]], values[:n_y]) > MAX_ROUNDING_SLACK:
            self._check(
                milp.setOptionValue("mip_feasibility_tolerance", STRICT_FEASIBILITY),
                "mip_feasibility_tolerance",
            )
            self._run(milp, "MILP, strictly integral")
            values = np.asarray(milp.getSolution().col_value, dtype=np.float64)
        if np.all(is_integral(values)):
            return np.round(values)
        return self._vertex_for(milp, values[:n_y])

    def _start_from(self, milp: highspy.Highs, start: FloatArray) -> None:
        """Start from a known solution, without HiGHS's feasibility jump: that heuristic only
        looks for a first incumbent, but runs anyway, and on the scarce benchmark's proofs
        (200,000 columns, settled at the root) it took 3-4 s of 12-16 s."""
        n = start.size
        self._check(milp.setSolution(n, np.arange(n, dtype=np.int32), start), "setSolution")
        self._check(
            milp.setOptionValue("mip_heuristic_run_feasibility_jump", False), "feasibility jump"
        )

    def _integer_columns(self, columns: IntArray) -> BoolArray:
        """Only y needs to be integer: for fixed integral y what remains is a bipartite
        transportation problem (volunteer capacities, a referral's needs, x <= 1), whose
        vertices are integral, and branching happens on referrals, not on edges.

        Except where families are most of the component's referrals (Fritidsvenn, where
        every referral is one): then the x of family edges are integer too. With x_rv <= y_r
        between binaries HiGHS finds the implications and cuts that settle such MILPs near the
        root: 500 families x 300 volunteers in one county, 41 s -> 8 s. Where families are
        few, binary x only widen branch and bound (5,000 x 3,000 with 10 % families: not
        solved after 4 minutes, against 52 s with x continuous)."""
        n = self.n_referrals
        integer = columns < n
        families = self.pool.index.referrals.needed[columns[integer]] > 1
        if 2 * np.count_nonzero(families) <= families.size:
            return integer
        x_positions = np.flatnonzero(columns >= 2 * n)
        edges = self.columns[columns[x_positions] - 2 * n]
        family_edge = self.pool.index.referrals.needed[self.pool.referral[edges]] > 1
        integer[x_positions[family_edge]] = True
        return integer

    def _set_integrality(self, milp: highspy.Highs, integer: BoolArray) -> None:
        kinds = np.where(
            integer,
            int(highspy.HighsVarType.kInteger.value),
            int(highspy.HighsVarType.kContinuous.value),
        ).astype(np.uint8)
        n = integer.size
        self._check(
            milp.changeColsIntegrality(n, np.arange(n, dtype=np.int32), kinds), "integrality"
        )

    def _vertex_for(self, milp: highspy.Highs, y: FloatArray) -> FloatArray:
        """An integral x for the MILP's y: the same model as an LP with y fixed, solved to a
        vertex (the y columns come first in every component, in referral order)."""
        fixed = np.round(y)
        rows = np.arange(y.size, dtype=np.int32)
        self._check(milp.changeColsBounds(y.size, rows, fixed, fixed), "bounds(y)")
        self._set_integrality(milp, np.zeros(milp.getNumCol(), dtype=np.bool_))
        self._run(milp, "LP for fixed referrals")
        values = np.asarray(milp.getSolution().col_value, dtype=np.float64)
        return np.where(is_integral(values), np.round(values), values)

    def _update(self, objective: Objective, fixings: list[Fixing], y_upper: FloatArray) -> None:
        self._add_new_columns()
        self._add_new_fixings(fixings)
        self._set_bounds(y_upper)
        self._set_costs(objective)

    def _run(self, highs: highspy.Highs, what: str) -> None:
        self._check(highs.run(), "run")
        status = highs.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise SolverFailure(f"{what} failed: {highs.modelStatusToString(status)}")

    def _solution(
        self,
        value: float,
        values: FloatArray,
        referral_duals: FloatArray,
        volunteer_duals: FloatArray,
        y_reduced_costs: FloatArray,
        cut_duals: FloatArray,
    ) -> Solution:
        n = self.n_referrals
        return Solution(
            value=value,
            columns=self.columns.copy(),
            x=values[2 * n :],
            phantom_use=values[n : 2 * n],
            y=values[:n],
            referral_duals=referral_duals,
            volunteer_duals=volunteer_duals,
            y_reduced_costs=y_reduced_costs,
            cut_duals=cut_duals,
        )

    def _add_referral_rows_and_columns(self) -> None:
        n = self.n_referrals
        needed = self.pool.index.referrals.needed.astype(np.float64)
        self._add_rows(np.zeros(n), np.zeros(n), [np.zeros(0, np.int64)] * n, [np.zeros(0)] * n)
        rows = np.arange(n, dtype=np.int32)
        starts = np.arange(n, dtype=np.int32)
        self._check(
            self.highs.addCols(n, np.zeros(n), np.zeros(n), np.ones(n), n, starts, rows, -needed),
            "addCols(y)",
        )
        self._check(
            self.highs.addCols(n, np.zeros(n), np.zeros(n), needed, n, starts, rows, np.ones(n)),
            "addCols(phantoms)",
        )

    def _add_new_columns(self) -> None:
        pool = self.pool
        grown = pool.is_column.size - self.in_model.size
        self.in_model = np.concatenate((self.in_model, np.zeros(grown, dtype=np.bool_)))
        entering = np.flatnonzero(pool.is_column & ~self.in_model)
        if entering.size == 0:
            return
        self._add_volunteer_rows(np.unique(pool.volunteer[entering]))
        first_column = 2 * self.n_referrals + self.columns.size
        m = entering.size
        starts, rows = self._column_entries(entering)
        self._check(
            self.highs.addCols(
                m, np.zeros(m), np.zeros(m), np.ones(m), rows.size, starts, rows,
                np.ones(rows.size),
            ),
            "addCols(x)",
        )  # fmt: skip
        self.columns = np.concatenate((self.columns, entering))
        self.in_model[entering] = True
        self._add_family_rows(entering, first_column + np.arange(m))

    def _column_entries(self, edges: IntArray) -> tuple[IntArray, IntArray]:
        """Column starts and row indices (each entry 1) of these pool edges: the referral
        row, the volunteer row, and every cut whose referrals and volunteers they join."""
        pool = self.pool
        referral, volunteer = pool.referral[edges], pool.volunteer[edges]
        column = [np.arange(edges.size), np.arange(edges.size)]
        row = [referral, self.volunteer_row[volunteer]]
        for cut, cut_row in zip(self.cuts, self.cut_rows.tolist(), strict=True):
            inside = np.flatnonzero(cut.edge_coefficients(referral, volunteer))
            column.append(inside)
            row.append(np.full(inside.size, cut_row))
        columns, rows = np.concatenate(column), np.concatenate(row)
        order = np.lexsort((rows, columns))
        starts = np.searchsorted(columns[order], np.arange(edges.size))
        return starts.astype(np.int32), rows[order].astype(np.int32)

    def add_cuts(self, cuts: list[OddCut]) -> None:
        """One row per cut over y and the columns it covers. Its referrals are linked into
        one component (`_column_components`), so the MILP stays separable."""
        pool = self.pool
        column_referral = pool.referral[self.columns]
        column_volunteer = pool.volunteer[self.columns]
        entries, values = [], []
        for cut in cuts:
            x_positions = 2 * self.n_referrals + np.flatnonzero(
                cut.edge_coefficients(column_referral, column_volunteer)
            )
            y_positions = np.flatnonzero(cut.y_coefficient)
            entries.append(np.concatenate((y_positions, x_positions)))
            values.append(
                np.concatenate((cut.y_coefficient[y_positions], np.ones(x_positions.size)))
            )
        first_row = self.n_rows
        self._add_rows(
            np.full(len(cuts), -INFINITY), np.array([cut.bound for cut in cuts]), entries, values
        )
        self.last_basis_primal_feasible = False
        self.cuts += cuts
        self.cut_rows = np.concatenate((self.cut_rows, first_row + np.arange(len(cuts))))

    def _add_volunteer_rows(self, volunteers: IntArray) -> None:
        fresh = volunteers[self.volunteer_row[volunteers] < 0]
        if fresh.size == 0:
            return
        capacity = self.pool.index.volunteers.capacity[fresh].astype(np.float64)
        self.volunteer_row[fresh] = self.n_rows + np.arange(fresh.size)
        empty = [np.zeros(0, np.int64)] * fresh.size
        self._add_rows(np.full(fresh.size, -INFINITY), capacity, empty, [np.zeros(0)] * fresh.size)

    def _add_family_rows(self, edges: IntArray, columns: IntArray) -> None:
        """x_rv - y_r <= 0 where the referral needs more than one volunteer."""
        family = self.pool.index.referrals.needed[self.pool.referral[edges]] > 1
        edges, columns = edges[family], columns[family]
        if edges.size == 0:
            return
        y_columns = self.pool.referral[edges]
        entries = [np.array([c, y]) for c, y in zip(columns, y_columns, strict=True)]
        values = [np.array([1.0, -1.0])] * edges.size
        self._add_rows(np.full(edges.size, -INFINITY), np.zeros(edges.size), entries, values)

    def _add_new_fixings(self, fixings: list[Fixing]) -> None:
        fresh = fixings[self.n_fixings :]
        if fresh:
            self._add_rows(
                np.array([fixing.value for fixing in fresh]),
                np.full(len(fresh), INFINITY),
                [fixing.referrals for fixing in fresh],
                [fixing.referral_weight for fixing in fresh],
            )
            self.n_fixings += len(fresh)
            self.last_basis_primal_feasible = False

    def _add_rows(
        self,
        lower: FloatArray,
        upper: FloatArray,
        entries: list[IntArray],
        values: list[FloatArray],
    ) -> None:
        counts = np.array([e.size for e in entries], dtype=np.int64)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int32)
        flat_entries = np.concatenate(entries).astype(np.int32) if counts.sum() else np.zeros(0)
        flat_values = np.concatenate(values).astype(np.float64) if counts.sum() else np.zeros(0)
        status = self.highs.addRows(
            lower.size, lower, upper, int(counts.sum()), starts,
            flat_entries.astype(np.int32), flat_values,
        )  # fmt: skip
        self._check(status, "addRows")
        self.n_rows += lower.size

    def _set_bounds(self, y_upper: FloatArray) -> None:
        needed = self.pool.index.referrals.needed.astype(np.float64)
        phantom_upper = np.where(self.pool.fully_explored, 0.0, needed)
        upper = np.concatenate((y_upper, phantom_upper))
        changed = np.flatnonzero(upper != self.upper)
        if changed.size:
            self._check(
                self.highs.changeColsBounds(
                    changed.size, changed.astype(np.int32), np.zeros(changed.size), upper[changed]
                ),
                "bounds",
            )
            self.last_basis_primal_feasible = False
        self.upper = upper

    def _set_costs(self, objective: Objective) -> None:
        """Only changed costs are passed on: HiGHS then keeps more of its factorisation."""
        costs = np.concatenate(
            (objective.referral, objective.phantom, objective.edge[self.columns])
        )
        known = self.costs.size
        changed_known = np.flatnonzero(costs[:known] != self.costs)
        if changed_known.size:
            self.last_basis_primal_feasible = False
        changed = np.concatenate((changed_known, np.arange(known, costs.size)))
        if changed.size:
            self._check(
                self.highs.changeColsCost(changed.size, changed.astype(np.int32), costs[changed]),
                "costs",
            )
        self.costs = costs

    def _choose_lp_solver(self, milp: highspy.Highs, interior_point: bool) -> None:
        """Interior point for the root LP, with presolve; or dual simplex without presolve."""
        if interior_point:
            self._check(milp.setOptionValue("mip_lp_solver", "ipm"), "mip_lp_solver")
            return
        # Presolve finds little to remove in a matching model but costs a restart of the
        # root LP: without it the MILPs of the scarce benchmark took half the time.
        self._check(milp.setOptionValue("presolve", "off"), "presolve")

    @staticmethod
    def _check(status: highspy.HighsStatus, action: str) -> None:
        if status == highspy.HighsStatus.kError:
            raise SolverFailure(f"HiGHS {action} failed")


class _ModelArrays:
    """The model as HiGHS holds it, as numpy arrays and a column-wise sparse matrix."""

    def __init__(self, lp: highspy.HighsLp) -> None:
        self.n_columns, self.n_rows = int(lp.num_col_), int(lp.num_row_)
        self.cost = np.asarray(lp.col_cost_, dtype=np.float64)
        self.col_lower = np.asarray(lp.col_lower_, dtype=np.float64)
        self.col_upper = np.asarray(lp.col_upper_, dtype=np.float64)
        self.row_lower = np.asarray(lp.row_lower_, dtype=np.float64)
        self.row_upper = np.asarray(lp.row_upper_, dtype=np.float64)
        a = lp.a_matrix_
        self.matrix = csc_matrix(
            (np.asarray(a.value_), np.asarray(a.index_), np.asarray(a.start_)),
            shape=(self.n_rows, self.n_columns),
        )

    def row_labels(self, column_label: IntArray) -> IntArray:
        """Each row takes the component of its columns (-1 for an empty row)."""
        labels = np.full(self.n_rows, -1, dtype=np.int64)
        column_of_entry = np.repeat(np.arange(self.n_columns), np.diff(self.matrix.indptr))
        labels[self.matrix.indices] = column_label[column_of_entry]
        return labels


class _Groups:
    """Members of each label, in increasing order, without a pass over all per label."""

    def __init__(self, labels: IntArray) -> None:
        self.order = np.argsort(labels, kind="stable")
        self.sorted_labels = labels[self.order]

    def members(self, label: int) -> IntArray:
        start, end = np.searchsorted(self.sorted_labels, [label, label + 1])
        return np.asarray(self.order[start:end], dtype=np.int64)
