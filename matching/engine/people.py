"""People kept as columns, one tuple per field, with a record made only when one is asked for.

The engine reads people field by field (tables.py) and needs whole records only for the few
it explains or pairs. Reading JSON straight into columns, and sorting columns rather than
records, saves making and walking one record per person: at national size (50,000
volunteers) more than a third of the time from bytes to tables (docs/benchmarks.md).
"""

from collections.abc import Iterator, Sequence
from dataclasses import fields
from operator import attrgetter, itemgetter
from typing import Any, Generic, TypeVar, overload

R = TypeVar("R")


class Records(Sequence[R], Generic[R]):
    """A sequence of frozen dataclass records of one kind (of two or more fields), stored as
    columns.

    It equals, hashes and prints as the tuple of the same records, so an instance read into
    columns equals one read into records.
    """

    __slots__ = ("columns", "kind", "names")

    def __init__(self, kind: type[R], columns: Sequence[Sequence[Any]]) -> None:
        self.kind = kind
        self.names = tuple(field.name for field in fields(kind))  # type: ignore[arg-type]
        if len(columns) != len(self.names):
            raise ValueError(f"{kind.__name__} has {len(self.names)} fields, not {len(columns)}")
        self.columns = tuple(tuple(column) for column in columns)

    @classmethod
    def of(cls, kind: type[R], records: Sequence[R]) -> "Records[R]":
        """The records as columns, read in one pass (a no-op for columns already)."""
        if isinstance(records, Records):
            return records
        names = [field.name for field in fields(kind)]  # type: ignore[arg-type]
        return cls.from_rows(kind, list(map(attrgetter(*names), records)))

    @classmethod
    def from_rows(cls, kind: type[R], rows: list[tuple[Any, ...]]) -> "Records[R]":
        """Rows holding `kind`'s fields in their order."""
        n_fields = len(fields(kind))  # type: ignore[arg-type]
        return cls(kind, list(zip(*rows, strict=True)) if rows else [()] * n_fields)

    def column(self, name: str) -> tuple[Any, ...]:
        column: tuple[Any, ...] = self.columns[self.names.index(name)]
        return column

    def reordered(self, order: list[int]) -> "Records[R]":
        """Row `order[i]` at position i."""
        if order == list(range(len(self))):
            return self
        if len(order) < 2:  # itemgetter of one index returns the item, of none fails
            return Records(self.kind, [[column[i] for i in order] for column in self.columns])
        rows = itemgetter(*order)
        return Records(self.kind, [rows(column) for column in self.columns])

    def __len__(self) -> int:
        return len(self.columns[0])

    @overload
    def __getitem__(self, index: int) -> R: ...

    @overload
    def __getitem__(self, index: slice) -> "Records[R]": ...

    def __getitem__(self, index: int | slice) -> "R | Records[R]":
        if isinstance(index, slice):
            return Records(self.kind, [column[index] for column in self.columns])
        return make_record(
            self.kind, dict(zip(self.names, [c[index] for c in self.columns], strict=True))
        )

    def __iter__(self) -> Iterator[R]:
        for values in zip(*self.columns, strict=True):
            yield make_record(self.kind, dict(zip(self.names, values, strict=True)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Records):
            return self.kind is other.kind and self.columns == other.columns
        if isinstance(other, tuple):
            return len(other) == len(self) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return repr(tuple(self))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Records, (self.kind, self.columns))


def ids_of(people: Sequence[Any]) -> tuple[str, ...]:
    """The people's ids, without making records of columns."""
    if isinstance(people, Records):
        return people.column("id")
    return tuple(person.id for person in people)


def make_record(kind: type[R], values: dict[str, Any]) -> R:
    """A frozen dataclass instance without its `__init__`, which costs one `object.__setattr__`
    per field; `values` must name every field, in order."""
    record = kind.__new__(kind)
    object.__setattr__(record, "__dict__", values)
    return record
