"""The restricted LP kept alive in one HiGHS instance, so that each re-solve after adding
columns, moving phantom bounds or costs, switching objective or adding a fixing row starts
from the previous optimal basis instead of from scratch.

Uses the HiGHS binding that scipy ships (`scipy.optimize._highspy._core`); if a scipy
release drops it, `available()` is False and the solver rebuilds models with linprog.
Same model as lp.py; here every referral has a phantom column, closed by bound 0 once the
referral is fully explored.
"""

from typing import Any

import numpy as np

from .lp import Fixing, Objective, Solution, SolverFailure
from .pool import EdgePool
from .tables import FloatArray, IntArray

try:
    from scipy.optimize._highspy import _core
except ImportError:  # pragma: no cover - depends on the scipy build
    _core = None

INFINITY = 1e30  # HiGHS treats magnitudes >= 1e20 as infinite


def available() -> bool:
    return _core is not None and hasattr(_core, "_Highs")


class IncrementalLp:
    """Columns: y (one per referral), phantoms (one per referral), then x in entry order.
    Rows: referral rows, then volunteer, family-pair and fixing rows as they appear."""

    def __init__(self, pool: EdgePool) -> None:
        self.pool = pool
        if _core is None:
            raise SolverFailure("the HiGHS binding shipped with scipy is not available")
        self.highs: Any = _core._Highs()
        self.highs.setOptionValue("output_flag", False)
        self.n_referrals = len(pool.index.referrals)
        self.columns = np.zeros(0, dtype=np.int64)
        self.in_model = np.zeros(0, dtype=np.bool_)
        self.volunteer_row = np.full(pool.n_volunteers, -1, dtype=np.int64)
        self.n_rows = 0
        self.n_fixings = 0
        self.costs = np.zeros(0)  # as last passed to HiGHS, in column order
        needed = pool.index.referrals.needed.astype(np.float64)
        self.upper = np.concatenate((np.ones(self.n_referrals), needed))  # y, phantoms
        self._add_referral_rows_and_columns()

    def solve(
        self, pool: EdgePool, objective: Objective, fixings: list[Fixing], y_upper: FloatArray
    ) -> Solution:
        self._add_new_columns()
        self._add_new_fixings(fixings)
        self._set_bounds(y_upper)
        self._set_costs(objective)
        self._check(self.highs.run(), "run")
        status = self.highs.getModelStatus()
        if status != _core.HighsModelStatus.kOptimal:
            raise SolverFailure(f"LP relaxation failed: {self.highs.modelStatusToString(status)}")
        return self._solution()

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
        rows = np.column_stack(
            (pool.referral[entering], self.volunteer_row[pool.volunteer[entering]])
        ).ravel()
        starts = np.arange(0, 2 * m, 2, dtype=np.int32)
        self._check(
            self.highs.addCols(
                m, np.zeros(m), np.zeros(m), np.ones(m), 2 * m, starts, rows.astype(np.int32),
                np.ones(2 * m),
            ),
            "addCols(x)",
        )  # fmt: skip
        self.columns = np.concatenate((self.columns, entering))
        self.in_model[entering] = True
        self._add_family_rows(entering, first_column + np.arange(m))

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
        for fixing in fixings[self.n_fixings :]:
            referral_columns = np.arange(self.n_referrals)
            self._add_rows(
                np.array([fixing.value]), np.array([INFINITY]),
                [referral_columns], [fixing.referral_weight],
            )  # fmt: skip
            self.n_fixings += 1

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
        self.upper = upper

    def _set_costs(self, objective: Objective) -> None:
        """Only changed costs are passed on: HiGHS then keeps more of its factorisation."""
        costs = np.concatenate(
            (objective.referral, objective.phantom, objective.edge[self.columns])
        )
        known = self.costs.size
        changed = np.flatnonzero(costs[:known] != self.costs)
        changed = np.concatenate((changed, np.arange(known, costs.size)))
        if changed.size:
            self._check(
                self.highs.changeColsCost(changed.size, changed.astype(np.int32), costs[changed]),
                "costs",
            )
        self.costs = costs

    def _solution(self) -> Solution:
        raw = self.highs.getSolution()
        values = np.asarray(raw.col_value, dtype=np.float64)
        row_duals = np.asarray(raw.row_dual, dtype=np.float64)
        n = self.n_referrals
        volunteer_duals = np.zeros(self.pool.n_volunteers)
        has_row = self.volunteer_row >= 0
        volunteer_duals[has_row] = row_duals[self.volunteer_row[has_row]]
        return Solution(
            value=float(self.highs.getInfo().objective_function_value),
            columns=self.columns.copy(),
            x=values[2 * n :],
            phantom_use=values[n : 2 * n],
            y=values[:n],
            referral_duals=row_duals[:n],
            volunteer_duals=volunteer_duals,
        )

    @staticmethod
    def _check(status: Any, action: str) -> None:
        if _core is not None and status == _core.HighsStatus.kError:
            raise SolverFailure(f"HiGHS {action} failed")
