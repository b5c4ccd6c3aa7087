"""Connected components of the bipartite referral-volunteer graph.

Matching decomposes along them: no edge, capacity or family row links two components, so
each can be optimised on its own and the lexicographic objective is the sum over them.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

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
    graph = coo_matrix(
        (np.ones(first.size, dtype=np.int8), (first.astype(np.int64), second.astype(np.int64))),
        shape=(n, n),
    )
    count, labels = connected_components(graph, directed=False)
    labels = labels.astype(np.int64)
    return Components(labels[:n_referrals], labels[n_referrals:], int(count))
