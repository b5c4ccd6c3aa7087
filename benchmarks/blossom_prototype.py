"""Prototype, not used by the engine: exact separation of blossom inequalities at the centre
of the LP's optimal face (docs/benchmarks.md, twelfth stop).

    .venv/bin/python -m benchmarks.blossom_prototype INSTANCE.json [--radius 40]

It solves INSTANCE with the engine, replacing only its search for odd-capacity cuts (and
counting its MILPs):
each round solves a copy of the restricted LP by interior point without crossover (a point
near the centre of the optimal face), and looks for violated blossoms around the referrals
the simplex vertex leaves fractional. It prints each round, the objective (to compare with
`python -m matching solve`) and how many MILPs ran. The engine's private functions are
replaced at run time, so this file follows the engine only as long as their names and
signatures do.

Stages 1-2 with families are a capacitated b-matching: a family is a vertex taking exactly 2
with a loop worth 1 - y, a single takes at most 1, a volunteer at most its capacity, every
edge at most 1. A blossom is a vertex set U and edges F leaving it with b(U) + |F| odd:
x(E[U]) + x(F) <= floor((b(U) + |F|) / 2). Padberg and Rao: split each edge by a new odd
vertex into arcs weighing x and 1 - x, join every vertex's slack to one extra vertex; a
violated blossom is then an odd cut lighter than 1, and the lightest odd cut is one of a
Gomory-Hu tree's (here by Gusfield's algorithm, one maximum flow per vertex).
"""

import argparse
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import highspy
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, maximum_flow

from matching.engine import lp, result_to_dict, solve, solver
from matching.engine.validation import parse_instance_json

EPS = 1e-6
FLOW_SCALE = 10**6  # scipy's maximum_flow takes integer capacities


@dataclass(frozen=True)
class BlossomCut:
    """The engine's cut interface (cuts.OddCut): a row over y and the edges' x."""

    referrals: np.ndarray  # every referral the row touches (links the MILP's components)
    inside_referrals: np.ndarray  # R = U's referrals
    volunteers: np.ndarray  # V = U's volunteers
    y_coefficient: np.ndarray  # -1 for U's families (their loops), else 0
    bound: float
    crossing_keys: np.ndarray  # F as referral * n_volunteers + volunteer
    n_volunteers: int

    def edge_coefficients(self, referral: np.ndarray, volunteer: np.ndarray) -> np.ndarray:
        inside = self.inside_referrals[referral] & self.volunteers[volunteer]
        key = referral.astype(np.int64) * self.n_volunteers + volunteer
        return np.asarray(inside | np.isin(key, self.crossing_keys))


@dataclass(frozen=True)
class LpPoint:
    referral: np.ndarray  # per column
    volunteer: np.ndarray  # per column
    x: np.ndarray  # per column
    y: np.ndarray  # per referral
    needed: np.ndarray
    capacity: np.ndarray


def gomory_hu(n: int, edges: list[tuple[int, int, float]]) -> tuple[list[int], list[float]]:
    """Gusfield's Gomory-Hu cut tree: parent and cut value per vertex (0 is the root); the
    subtree of each vertex is a minimum cut between it and its parent."""
    rows = [u for u, v, _ in edges] + [v for u, v, _ in edges]
    cols = [v for u, v, _ in edges] + [u for u, v, _ in edges]
    caps = [round(w * FLOW_SCALE) for *_, w in edges] * 2
    graph = csr_matrix((np.array(caps, dtype=np.int32), (rows, cols)), shape=(n, n))
    graph.sum_duplicates()
    parent, value = [0] * n, [0.0] * n
    for i in range(1, n):
        t = parent[i]
        flow = maximum_flow(graph, i, t)
        value[i] = flow.flow_value / FLOW_SCALE
        residual = (graph - flow.flow).tocsr()
        residual.data[residual.data < 0] = 0
        residual.eliminate_zeros()
        side = np.zeros(n, dtype=bool)
        side[breadth_first_order(residual, i, directed=True, return_predecessors=False)] = True
        for j in range(n):
            if j != i and side[j] and parent[j] == t:
                parent[j] = i
        if side[parent[t]]:  # keeps it a cut tree, not only a flow-equivalent one
            parent[i], parent[t] = parent[t], i
            value[i], value[t] = value[t], value[i]
    return parent, value


def blossoms_near(
    point: LpPoint, focus: np.ndarray, radius: int, max_vertices: int = 8000
) -> list[BlossomCut]:
    """Violated blossoms whose vertex sets lie within `radius` hops (in the auxiliary graph)
    of the `focus` referrals; the rest of the graph is contracted into one outside vertex,
    so every cut's weight is exact."""
    n_r, n_v = point.y.size, point.capacity.size
    extra = n_r + n_v
    x = point.x
    fractional, whole = (x > EPS) & (x < 1 - EPS), x >= 1 - EPS
    split = np.flatnonzero(fractional)
    n_nodes = extra + 1 + split.size
    parity = np.concatenate((point.needed % 2, point.capacity % 2, [0], np.ones(split.size)))
    parity = parity.astype(np.int64)
    np.bitwise_xor.at(parity, point.referral[whole], 1)
    np.bitwise_xor.at(parity, n_r + point.volunteer[whole], 1)
    np.bitwise_xor.at(parity, n_r + point.volunteer[fractional], 1)
    split_node = extra + 1 + np.arange(split.size)
    load_r = np.bincount(point.referral, weights=x, minlength=n_r)
    load_v = np.bincount(point.volunteer, weights=x, minlength=n_v)
    slack = np.concatenate(
        (np.where(point.needed == 1, 1.0 - load_r, 0.0), point.capacity - load_v)
    )
    some_slack = np.flatnonzero((slack > EPS) & (slack < 1 - EPS))
    u = np.concatenate((point.referral[split], split_node, some_slack))
    v = np.concatenate((split_node, n_r + point.volunteer[split], np.full(some_slack.size, extra)))
    w = np.concatenate((x[split], 1.0 - x[split], slack[some_slack]))
    root = np.arange(n_nodes)
    root[np.flatnonzero(slack >= 1 - EPS)] = extra
    u, v = root[u], root[v]
    kept = u != v
    u, v, w = u[kept], v[kept], w[kept]
    root_parity = np.bincount(root, weights=parity, minlength=n_nodes).astype(np.int64) % 2
    start = np.unique(root[np.flatnonzero(focus)])
    local = _within(n_nodes, u, v, start[start != extra], extra, radius, max_vertices)
    outside = local.size
    position = np.full(n_nodes, outside)
    position[local] = np.arange(local.size)
    pu, pv = position[u], position[v]
    crossing = pu != pv
    graph = csr_matrix(
        (w[crossing], (np.minimum(pu, pv)[crossing], np.maximum(pu, pv)[crossing])),
        shape=(outside + 1, outside + 1),
    ).tocoo()
    local_parity = np.append(root_parity[local], 0)
    local_parity[outside] = local_parity[:outside].sum() % 2  # the extra vertex evens the total
    edges = list(zip(graph.row.tolist(), graph.col.tolist(), graph.data.tolist(), strict=True))
    parent, value = gomory_hu(outside + 1, edges)
    members: dict[int, list[int]] = {}
    for node in range(n_nodes):
        members.setdefault(int(root[node]), []).append(node)
    split_of = dict(zip(split.tolist(), split_node.tolist(), strict=True))
    cuts = []
    for side in _odd_light_subtrees(parent, value, local_parity):
        if outside in side:
            side = set(range(outside + 1)) - side
        nodes = [m for s in side for m in members[int(local[s])]]
        cut = _as_cut(point, nodes, split_of, whole)
        if cut is not None:
            cuts.append(cut)
    return cuts


def _within(
    n: int, u: np.ndarray, v: np.ndarray, start: np.ndarray, avoid: int, radius: int, limit: int
) -> np.ndarray:
    adjacency = csr_matrix((np.ones(u.size), (u, v)), shape=(n, n))
    adjacency = (adjacency + adjacency.T).tocsr()
    distance = np.full(n, -1)
    distance[start] = 0
    frontier = start.tolist()
    for step in range(1, radius + 1):
        reached = []
        for node in frontier:
            for other in adjacency.indices[adjacency.indptr[node] : adjacency.indptr[node + 1]]:
                if distance[other] < 0 and other != avoid:
                    distance[other] = step
                    reached.append(int(other))
        frontier = reached
    local = np.flatnonzero(distance >= 0)
    return local[np.argsort(distance[local], kind="stable")[:limit]]


def _odd_light_subtrees(
    parent: list[int], value: list[float], parity: np.ndarray
) -> list[set[int]]:
    children: dict[int, list[int]] = {}
    for i in range(1, len(parent)):
        children.setdefault(parent[i], []).append(i)
    found = []
    for i in range(1, len(parent)):
        if value[i] >= 1 - EPS:
            continue
        subtree, stack = set(), [i]
        while stack:
            node = stack.pop()
            subtree.add(node)
            stack += children.get(node, [])
        if sum(int(parity[node]) for node in subtree) % 2 == 1:
            found.append(subtree)
    return found


def _as_cut(
    point: LpPoint, nodes: list[int], split_of: dict[int, int], whole: np.ndarray
) -> BlossomCut | None:
    """The blossom of an auxiliary vertex set: U its referrals and volunteers, F the edges
    leaving U whose 1 - x arc the cut crosses (every edge with x = 1 that leaves U)."""
    n_r, n_v = point.y.size, point.capacity.size
    in_r, in_v = np.zeros(n_r, dtype=bool), np.zeros(n_v, dtype=bool)
    chosen = np.array(nodes)
    in_r[chosen[chosen < n_r]] = True
    in_v[chosen[(chosen >= n_r) & (chosen < n_r + n_v)] - n_r] = True
    split_inside = set(chosen[chosen > n_r + n_v].tolist())
    referral_inside, volunteer_inside = in_r[point.referral], in_v[point.volunteer]
    leaving = referral_inside ^ volunteer_inside
    in_f = leaving & whole
    for edge, node in split_of.items():
        if leaving[edge]:
            in_f[edge] = (node in split_inside) == referral_inside[edge]
    f = np.flatnonzero(in_f)
    families, singles = in_r & (point.needed > 1), in_r & (point.needed == 1)
    bound = float((int(point.capacity[in_v].sum()) + int(singles.sum()) + f.size) // 2)
    keys = np.unique(point.referral[f].astype(np.int64) * n_v + point.volunteer[f])
    touched = in_r.copy()
    touched[point.referral[f]] = True
    cut = BlossomCut(touched, in_r, in_v, np.where(families, -1.0, 0.0), bound, keys, n_v)
    inside = cut.edge_coefficients(point.referral, point.volunteer)
    violation = float(point.x[inside].sum() + cut.y_coefficient @ point.y) - bound
    return cut if violation > EPS else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("instance", type=Path)
    parser.add_argument("--radius", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=200)
    arguments = parser.parse_args()
    started = time.perf_counter()
    solver.MAX_CUT_ROUNDS = arguments.rounds

    def central_cuts(pool: Any, model: Any, relaxed: Any, stats: Any) -> bool:
        began = time.perf_counter()
        copy = highspy.Highs()
        copy.setOptionValue("output_flag", False)
        copy.passModel(model.highs.getLp())
        copy.setOptionValue("solver", "ipm")
        copy.setOptionValue("run_crossover", "off")
        copy.run()
        values = np.asarray(copy.getSolution().col_value)
        n = model.n_referrals
        columns = model.columns
        point = LpPoint(
            pool.referral[columns],
            pool.volunteer[columns],
            values[2 * n :],
            values[:n],
            pool.index.referrals.needed,
            pool.index.volunteers.capacity,
        )
        focus = (relaxed.y > EPS) & (relaxed.y < 1 - EPS)
        cuts = blossoms_near(point, focus, arguments.radius)
        elapsed = time.perf_counter() - started
        print(
            f"[{elapsed:.1f} s] round: {len(cuts)} cuts in {time.perf_counter() - began:.2f} s, "
            f"LP {relaxed.value:.3f}, {int(focus.sum())} referrals fractional",
            flush=True,
        )
        if not cuts:
            return False
        stats.cut_rounds += 1
        stats.cuts += len(cuts)
        model.add_cuts(cuts)
        return True

    milps = []
    solve_integer = lp.RestrictedModel.solve_integer

    def counted(model: Any, *args: Any, **kwargs: Any) -> Any:
        milps.append(model.columns.size)
        return solve_integer(model, *args, **kwargs)

    solver._add_violated_cuts = central_cuts
    lp.RestrictedModel.solve_integer = counted  # type: ignore[method-assign]
    instance = parse_instance_json(arguments.instance.read_bytes(), str(arguments.instance))
    summary = result_to_dict(solve(instance))["summary"]
    print(f"[{time.perf_counter() - started:.1f} s] done: {summary}; MILPs run: {len(milps)}")


if __name__ == "__main__":
    main()
