"""The restricted matching model over the pool's columns, solved by HiGHS as LP or MILP.

Variables: x (one per column edge), p (one "phantom" per referral that is not fully
explored, standing for all its unexplored edges at a lower bound of their cost), y (one
per referral). Rows:
  referral r:   sum_v x_rv + p_r - needed_r * y_r  = 0     (all or nothing)
  volunteer v:  sum_r x_rv                         <= capacity_v
  pair e=(r,v): x_rv - y_r                         <= 0   (only where needed_r > 1)
  fixing k:     -coef_k . y                        <= -value_k   (earlier optima held)
Phantoms carry no volunteer rows, so the model relaxes the full graph; a solution that
leaves every phantom at zero is feasible for the full graph. The pair rows are valid for
binary solutions and cut off LP optima that serve a family with one volunteer at y = 1/2,
which keeps most relaxations integral. An edge outside the model may take a zero dual on
its own pair row, so pricing it needs only the referral and volunteer duals.
"""

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from .pool import EdgePool
from .tables import FloatArray, IntArray


class SolverFailure(RuntimeError):
    """HiGHS did not return an optimal solution (should not happen for valid models)."""


@dataclass(frozen=True)
class Fixing:
    referral_weight: FloatArray
    value: float


@dataclass(frozen=True)
class Model:
    columns: IntArray
    phantoms: IntArray  # referral of each phantom column
    n_referrals: int
    volunteer_rows: IntArray
    a_eq: sparse.csr_array
    a_ub: sparse.csr_array
    b_ub: FloatArray
    bounds: FloatArray

    @property
    def n_columns(self) -> int:
        return int(self.columns.size)

    @property
    def n_phantoms(self) -> int:
        return int(self.phantoms.size)

    def objective(self, objective: "Objective") -> FloatArray:
        return np.concatenate(
            (objective.edge[self.columns], objective.phantom[self.phantoms], objective.referral)
        )

    def solution(
        self,
        value: float,
        variables: FloatArray,
        referral_duals: FloatArray,
        volunteer_duals: FloatArray,
    ) -> "Solution":
        n_x, n_p = self.n_columns, self.n_phantoms
        phantom_use = np.zeros(self.n_referrals)
        phantom_use[self.phantoms] = variables[n_x : n_x + n_p]
        return Solution(
            value=value,
            columns=self.columns,
            x=variables[:n_x],
            phantom_use=phantom_use,
            y=variables[n_x + n_p :],
            referral_duals=referral_duals,
            volunteer_duals=volunteer_duals,
        )


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

    @property
    def integral(self) -> bool:
        values = np.concatenate((self.x, self.phantom_use, self.y))
        return bool(np.all(np.abs(values - np.round(values)) <= 1e-6))

    @property
    def chosen(self) -> IntArray:
        return self.columns[self.x > 0.5]


class RebuildingLp:
    """Builds the model afresh and solves it with `scipy.optimize.linprog` (no warm start)."""

    def solve(
        self, pool: EdgePool, objective: Objective, fixings: list[Fixing], y_upper: FloatArray
    ) -> Solution:
        model = build_model(pool, fixings, y_upper, np.flatnonzero(~pool.fully_explored))
        result = linprog(
            model.objective(objective),
            A_ub=model.a_ub,
            b_ub=model.b_ub,
            A_eq=model.a_eq,
            b_eq=np.zeros(model.n_referrals),
            bounds=model.bounds,
            method="highs",
        )
        if result.status != 0:
            raise SolverFailure(f"LP relaxation failed: {result.message}")
        volunteer_duals = np.zeros(pool.n_volunteers)
        volunteer_duals[model.volunteer_rows] = result.ineqlin.marginals[
            : model.volunteer_rows.size
        ]
        return model.solution(
            float(result.fun),
            np.asarray(result.x, dtype=np.float64),
            np.asarray(result.eqlin.marginals, dtype=np.float64),
            volunteer_duals,
        )


def build_model(
    pool: EdgePool, fixings: list[Fixing], y_upper: FloatArray, phantoms: IntArray
) -> Model:
    columns = np.flatnonzero(pool.is_column)
    needed = pool.index.referrals.needed
    n_x, n_p = columns.size, phantoms.size
    n_var = n_x + n_p + y_upper.size
    volunteer_rows, volunteer_part = _volunteer_rows(pool.volunteer[columns], n_var)
    family_part = _family_pair_rows(pool.referral[columns], needed, n_x + n_p, n_var)
    fixing_part = _fixing_rows(fixings, n_x + n_p, n_var)
    return Model(
        columns=columns,
        phantoms=phantoms,
        n_referrals=y_upper.size,
        volunteer_rows=volunteer_rows,
        a_eq=_referral_rows(np.concatenate((pool.referral[columns], phantoms)), needed),
        a_ub=sparse.vstack((volunteer_part, family_part, fixing_part), format="csr"),
        b_ub=np.concatenate(
            (
                pool.index.volunteers.capacity[volunteer_rows].astype(np.float64),
                np.zeros(family_part.shape[0]),
                [-f.value for f in fixings],
            )
        ),
        bounds=np.column_stack(
            (np.zeros(n_var), np.concatenate((np.ones(n_x), needed[phantoms], y_upper)))
        ),
    )


def _volunteer_rows(column_volunteer: IntArray, n_var: int) -> tuple[IntArray, sparse.csr_array]:
    volunteers, row = np.unique(column_volunteer, return_inverse=True)
    n_x = column_volunteer.size
    matrix = sparse.csr_array((np.ones(n_x), (row, np.arange(n_x))), shape=(volunteers.size, n_var))
    return volunteers, matrix


def _fixing_rows(fixings: list[Fixing], y_offset: int, n_var: int) -> sparse.csr_array:
    padded = np.zeros((len(fixings), n_var))
    for row, fixing in enumerate(fixings):
        padded[row, y_offset:] = -fixing.referral_weight
    return sparse.csr_array(padded)


def _family_pair_rows(
    column_referral: IntArray, needed: IntArray, y_offset: int, n_var: int
) -> sparse.csr_array:
    family_columns = np.flatnonzero(needed[column_referral] > 1)
    n_rows = family_columns.size
    rows = np.concatenate((np.arange(n_rows), np.arange(n_rows)))
    cols = np.concatenate((family_columns, y_offset + column_referral[family_columns]))
    values = np.concatenate((np.ones(n_rows), -np.ones(n_rows)))
    return sparse.csr_array((values, (rows, cols)), shape=(n_rows, n_var))


def _referral_rows(entry_referral: IntArray, needed: IntArray) -> sparse.csr_array:
    n_ref, n_entries = needed.size, entry_referral.size
    rows = np.concatenate((entry_referral, np.arange(n_ref)))
    cols = np.arange(n_entries + n_ref)
    values = np.concatenate((np.ones(n_entries), -needed.astype(np.float64)))
    return sparse.csr_array((values, (rows, cols)), shape=(n_ref, n_entries + n_ref))


def solve_milp(
    pool: EdgePool, objective: Objective, fixings: list[Fixing], y_upper: FloatArray
) -> Solution:
    model = build_model(pool, fixings, y_upper, np.flatnonzero(~pool.fully_explored))
    c = model.objective(objective)
    result = milp(
        c,
        integrality=np.ones(c.size),
        bounds=Bounds(model.bounds[:, 0], model.bounds[:, 1]),
        constraints=[
            LinearConstraint(model.a_eq, 0.0, 0.0),
            LinearConstraint(model.a_ub, -np.inf, model.b_ub),
        ],
        options={"mip_rel_gap": 0.0, "presolve": True},
    )
    if result.status != 0 or result.x is None:
        raise SolverFailure(f"MILP failed: {result.message}")
    no_duals = np.zeros(model.n_referrals)
    return model.solution(
        float(result.fun), np.asarray(result.x), no_duals, np.zeros(pool.n_volunteers)
    )
