"""Weekly availability as merged minute intervals, and vectorised pairwise overlap."""

from collections.abc import Sequence
from itertools import chain
from operator import attrgetter

import numpy as np
from numpy.typing import NDArray

from .instance import MINUTES_PER_DAY, MINUTES_PER_WEEK, Slot

IntArray = NDArray[np.int64]


def merged_intervals(slots: tuple[Slot, ...]) -> list[tuple[int, int]]:
    """The union of a person's slots as sorted, disjoint (start, end) week-minute intervals."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted((slot.week_start, slot.week_end) for slot in slots):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def padded_intervals(people_slots: Sequence[tuple[Slot, ...]]) -> tuple[IntArray, IntArray]:
    """Each person's merged intervals as starts and ends of shape (n, widest), padded with
    empty [0, 0) intervals; vectorised, as national instances hold 10^5 people."""
    owner, starts, ends = _flat_slots(people_slots)
    if owner.size == 0:
        return np.zeros((len(people_slots), 1), np.int64), np.zeros(
            (len(people_slots), 1), np.int64
        )
    order = np.lexsort((starts, owner))
    owner, starts, ends = owner[order], starts[order], ends[order]
    # Running maximum of ends within each owner: owners are sorted and offsets separate them.
    offset = owner * (2 * MINUTES_PER_WEEK)
    reach = np.maximum.accumulate(ends + offset) - offset
    opens = np.ones(owner.size, dtype=np.bool_)
    opens[1:] = (owner[1:] != owner[:-1]) | (starts[1:] > reach[:-1])
    first = np.flatnonzero(opens)
    last = np.append(first[1:] - 1, owner.size - 1)
    merged_owner = owner[first]
    column = np.arange(first.size) - np.searchsorted(merged_owner, merged_owner, side="left")
    width = int(column.max(initial=0)) + 1
    padded_starts = np.zeros((len(people_slots), width), dtype=np.int64)
    padded_ends = np.zeros((len(people_slots), width), dtype=np.int64)
    padded_starts[merged_owner, column] = starts[first]
    padded_ends[merged_owner, column] = reach[last]
    return padded_starts, padded_ends


def _flat_slots(people_slots: Sequence[tuple[Slot, ...]]) -> tuple[IntArray, IntArray, IntArray]:
    counts = np.fromiter(map(len, people_slots), dtype=np.int64, count=len(people_slots))
    owner = np.repeat(np.arange(len(people_slots), dtype=np.int64), counts)
    n_slots = int(counts.sum())
    # (day, start, end) of every slot read in one pass: the week_* properties cost a call each.
    fields = chain.from_iterable(map(attrgetter("day", "start", "end"), chain(*people_slots)))
    flat = np.fromiter(fields, dtype=np.int64, count=3 * n_slots).reshape(n_slots, 3)
    day_start = flat[:, 0] * MINUTES_PER_DAY
    return owner, day_start + flat[:, 1], day_start + flat[:, 2]


def overlap_minutes(
    starts_a: IntArray, ends_a: IntArray, starts_b: IntArray, ends_b: IntArray
) -> IntArray:
    """Row-wise overlap of two interval sets; rows are pairs, both sides disjoint within a row."""
    total = np.zeros(starts_a.shape[0], dtype=np.int64)
    for i in range(starts_a.shape[1]):
        for j in range(starts_b.shape[1]):
            low = np.maximum(starts_a[:, i], starts_b[:, j])
            high = np.minimum(ends_a[:, i], ends_b[:, j])
            total += np.maximum(high - low, 0)
    return total


class WeeklyOverlap:
    """Pairwise weekly overlap in minutes between referrals and volunteers.

    When every slot boundary is a multiple of a coarse grain (say 15 or 30 minutes), each
    person's week is a short bitset and overlap is a popcount; otherwise interval arithmetic.
    Both are exact.
    """

    MAX_WORDS = 8
    PEOPLE_PER_BLOCK = 20_000

    def __init__(self, referrals: tuple[IntArray, IntArray], volunteers: tuple[IntArray, IntArray]):
        self.referrals, self.volunteers = referrals, volunteers
        self.grain = _common_grain((*referrals, *volunteers))
        n_bits = MINUTES_PER_WEEK // self.grain
        self.use_bits = (n_bits + 63) // 64 <= self.MAX_WORDS
        if self.use_bits:
            self.referral_bits = self._bitsets(*referrals)
            self.volunteer_bits = self._bitsets(*volunteers)

    def minutes(self, referral: IntArray, volunteer: IntArray) -> IntArray:
        if not self.use_bits:
            starts_r, ends_r = self.referrals
            starts_v, ends_v = self.volunteers
            return overlap_minutes(
                starts_r[referral], ends_r[referral], starts_v[volunteer], ends_v[volunteer]
            )
        shared = self.referral_bits[referral] & self.volunteer_bits[volunteer]
        counts = np.bitwise_count(shared).sum(axis=1, dtype=np.int64)
        return np.asarray(counts * self.grain, dtype=np.int64)

    def _bitsets(self, starts: IntArray, ends: IntArray) -> NDArray[np.uint64]:
        blocks = [
            self._bitset_block(
                starts[i : i + self.PEOPLE_PER_BLOCK], ends[i : i + self.PEOPLE_PER_BLOCK]
            )
            for i in range(0, max(starts.shape[0], 1), self.PEOPLE_PER_BLOCK)
        ]
        return np.concatenate(blocks) if blocks else np.zeros((0, 1), dtype=np.uint64)

    def _bitset_block(self, starts: IntArray, ends: IntArray) -> NDArray[np.uint64]:
        n_bits = MINUTES_PER_WEEK // self.grain
        n_words = (n_bits + 63) // 64
        # Intervals are merged, so coverage is 0 or 1: int8 keeps the cumulative sum small
        # (numpy would otherwise sum into int64, eight times the memory and five times slower).
        steps = np.zeros((starts.shape[0], n_words * 64 + 1), dtype=np.int8)
        # A row's merged intervals neither touch nor overlap, so no two of its boundaries fall
        # on the same step and plain assignment does what np.add.at would, twice as fast.
        # The padding [0, 0) is left out.
        real = ends > starts
        rows = np.broadcast_to(np.arange(starts.shape[0])[:, np.newaxis], starts.shape)[real]
        steps[rows, starts[real] // self.grain] = 1
        steps[rows, ends[real] // self.grain] = -1
        covered = np.cumsum(steps[:, :-1], axis=1, dtype=np.int8) > 0
        packed = np.packbits(covered, axis=1, bitorder="little")
        return np.ascontiguousarray(packed).view(np.uint64).reshape(starts.shape[0], n_words)


def _common_grain(arrays: tuple[IntArray, ...]) -> int:
    """Largest number of minutes dividing every slot boundary (and the week)."""
    grain = MINUTES_PER_WEEK
    for values in arrays:
        if values.size:
            grain = int(np.gcd.reduce(np.append(values.ravel(), grain)))
    return max(grain, 1)
