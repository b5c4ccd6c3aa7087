"""Connected components of the bipartite referral-volunteer graph.

Matching decomposes along them: no edge, capacity or family row links two components, so
each can be optimised on its own and the lexicographic objective is the sum over them.

The components are found here with numpy rather than `scipy.sparse.csgraph`, whose import
loads `scipy.sparse.linalg` and `scipy.linalg`: about 0.07 s of the command line's start,
for one function (docs/benchmarks.md, ninth stop).
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .tables import IntArray


@dataclass(frozen=True)
class Components:
    """A label per referral row and per volunteer row; labels are 0..count-1, numbered in
    order of the lowest referral row (then volunteer row) they contain, so they depend
    only on the rows, which are canonically ordered."""

    referral: IntArray
    volunteer: IntArray
    count: int


def label_components(
    n_referrals: int,
    n_volunteers: int,
    edges: tuple[IntArray, IntArray],
    linked_referrals: Sequence[IntArray] = (),
) -> Components:
    """Components of the graph with the given (referral rows, volunteer rows) edges, where
    the referrals of each array in `linked_referrals` are also joined to one another."""
    referral, volunteer = edges
    links = [arr for arr in linked_referrals if arr.size > 1]
    first = np.concatenate([np.full(arr.size - 1, arr[0]) for arr in links] + [referral])
    second = np.concatenate([arr[1:] for arr in links] + [n_referrals + volunteer])
    n = n_referrals + n_volunteers
    lowest = lowest_node_of_component(n, first.astype(np.int64), second.astype(np.int64))
    roots, labels = np.unique(lowest, return_inverse=True)
    labels = labels.astype(np.int64)
    return Components(labels[:n_referrals], labels[n_referrals:], int(roots.size))


def lowest_node_of_component(n: int, first: IntArray, second: IntArray) -> IntArray:
    """For each of the nodes 0..n-1, the lowest node joined to it by the undirected edges
    (first[i], second[i]).

    Each round hooks the higher of an edge's two roots under the lower, then points every
    node at its parent's parent until each points at its root. A root is only ever hooked
    under a lower node of its own component, so the last root standing is the component's
    lowest.
    """
    parent = np.arange(n, dtype=np.int64)
    while True:
        a, b = parent[first], parent[second]
        apart = a != b
        if not apart.any():
            return parent
        low, high = np.minimum(a[apart], b[apart]), np.maximum(a[apart], b[apart])
        np.minimum.at(parent, high, low)
        while True:
            grandparent = parent[parent]
            if np.array_equal(grandparent, parent):
                break
            parent = grandparent
