"""The engine finds connected components with numpy (matching/engine/components.py), which keeps
`scipy.sparse.csgraph` out of the command line's start: same components, numbered the same."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from matching.engine.components import label_components, lowest_node_of_component

from .test_engine_kdtree import run_python


@st.composite
def bipartite_graphs(draw: st.DrawFn) -> tuple[int, int, np.ndarray, np.ndarray, list[np.ndarray]]:
    n_referrals = draw(st.integers(0, 30))
    n_volunteers = draw(st.integers(0, 30))
    pairs = (
        st.lists(st.tuples(st.integers(0, n_referrals - 1), st.integers(0, n_volunteers - 1)))
        if n_referrals and n_volunteers
        else st.just([])
    )
    edges = draw(pairs)
    referral = np.array([r for r, _ in edges], dtype=np.int64)
    volunteer = np.array([v for _, v in edges], dtype=np.int64)
    groups = (
        st.lists(st.lists(st.integers(0, n_referrals - 1), min_size=1, unique=True), max_size=3)
        if n_referrals
        else st.just([])
    )
    links = [np.array(group, dtype=np.int64) for group in draw(groups)]
    return n_referrals, n_volunteers, referral, volunteer, links


def scipy_labels(
    n_referrals: int, n_volunteers: int, edges: tuple[np.ndarray, np.ndarray], links: list
) -> tuple[int, np.ndarray]:
    first = [*edges[0].tolist()] + [int(g[0]) for g in links for _ in g[1:]]
    second = [*(n_referrals + edges[1]).tolist()] + [int(m) for g in links for m in g[1:]]
    n = n_referrals + n_volunteers
    graph = coo_matrix((np.ones(len(first)), (first, second)), shape=(n, n))
    count, labels = connected_components(graph, directed=False)
    return int(count), labels


@settings(max_examples=300, deadline=None)
@given(bipartite_graphs())
def test_components_and_their_numbers_are_scipys(
    graph: tuple[int, int, np.ndarray, np.ndarray, list[np.ndarray]],
) -> None:
    n_referrals, n_volunteers, referral, volunteer, links = graph
    found = label_components(n_referrals, n_volunteers, (referral, volunteer), links)
    count, labels = scipy_labels(n_referrals, n_volunteers, (referral, volunteer), links)
    assert found.count == count
    assert found.referral.tolist() == labels[:n_referrals].tolist()
    assert found.volunteer.tolist() == labels[n_referrals:].tolist()


def test_a_long_chain_is_one_component() -> None:
    """Node i joined to i + 1: the first round hooks each node under the next lower, a tree
    5,000 deep that the pointer jumping must flatten."""
    n = 5_000
    first = np.arange(n - 2, -1, -1, dtype=np.int64)
    lowest = lowest_node_of_component(n, first, first + 1)
    assert lowest.tolist() == [0] * n


def test_the_engine_loads_no_scipy_graph_routines() -> None:
    loaded = run_python(
        "import json, sys, matching.engine\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('scipy.sparse.csgraph'))))"
    )
    assert loaded == []
