"""People kept as columns (matching/engine/people.py): the JSON reader's and canonical_order's
form of an instance's people, which must behave exactly as the tuple of records it stands for."""

import json
import pickle
import random

import pytest

from benchmarks import engine as bench
from matching.engine import (
    Instance,
    Referral,
    Rules,
    Slot,
    Volunteer,
    canonical_order,
    parse_instance,
    solve,
)
from matching.engine.people import Records, ids_of
from matching.engine.validation import parse_instance_json


def volunteer(id_: str, **fields: object) -> Volunteer:
    values: dict[str, object] = {
        "lat": 59.9,
        "lon": 10.7,
        "municipality": "0301",
        "languages": ("nb",),
        "availability": (Slot(0, 1020, 1200),),
    }
    return Volunteer(id_, **(values | fields))  # type: ignore[arg-type]


PEOPLE = (
    volunteer("v2", gender="female", capacity=2),
    volunteer("v10", languages=("nb", "ar"), language_levels=("native", "basic")),
    volunteer("v1", excluded_municipalities=("0301",), activities=("football",)),
)


def test_columns_equal_hash_and_print_as_the_tuple_of_records() -> None:
    columns = Records.of(Volunteer, PEOPLE)
    assert columns == PEOPLE and columns == PEOPLE
    assert hash(columns) == hash(PEOPLE)
    assert repr(columns) == repr(PEOPLE)
    assert list(columns) == list(PEOPLE)
    assert [columns[i] for i in range(3)] == list(PEOPLE)
    assert columns[1:] == PEOPLE[1:]
    assert columns != PEOPLE[:2]
    assert columns.column("capacity") == (2, 1, 1)


def test_a_record_from_columns_is_a_record() -> None:
    record = Records.of(Volunteer, PEOPLE)[1]
    assert type(record) is Volunteer
    assert vars(record) == vars(PEOPLE[1])
    with pytest.raises(AttributeError):
        record.capacity = 3  # type: ignore[misc]


def test_columns_survive_pickling_and_are_read_only_once() -> None:
    columns = Records.of(Volunteer, PEOPLE)
    assert pickle.loads(pickle.dumps(columns)) == columns
    assert Records.of(Volunteer, columns) is columns
    assert Records.of(Volunteer, ()) == ()
    assert len(Records.of(Volunteer, ())) == 0


def test_reordering_puts_each_asked_row_in_place() -> None:
    columns = Records.of(Volunteer, PEOPLE)
    assert columns.reordered([2, 0, 1]) == (PEOPLE[2], PEOPLE[0], PEOPLE[1])
    assert columns.reordered([1]) == (PEOPLE[1],)
    assert columns.reordered([]) == ()
    assert columns.reordered([0, 1, 2]) is columns


def test_columns_must_match_the_fields() -> None:
    with pytest.raises(ValueError, match="Volunteer has 11 fields, not 2"):
        Records(Volunteer, [("v1",), (59.9,)])


def test_ids_are_read_from_either_form() -> None:
    assert ids_of(PEOPLE) == ids_of(Records.of(Volunteer, PEOPLE)) == ("v2", "v10", "v1")


def test_canonical_order_puts_shorter_ids_first_and_keeps_repeated_ids_in_input_order() -> None:
    referral = Referral("r1", 59.9, 10.7, "0301", ("nb",), (Slot(0, 1020, 1200),))
    twin = volunteer("v1", capacity=3)  # a caller's repeated id: the input order decides
    instance = Instance(Rules(40.0, 1.0, 4.0, 2.5), (*PEOPLE, twin), (referral,))
    canonical = canonical_order(instance)
    assert ids_of(canonical.volunteers) == ("v1", "v1", "v2", "v10")
    assert [v.capacity for v in canonical.volunteers[:2]] == [1, 3]
    assert canonical_order(canonical) == canonical


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_read_as_columns_or_as_records_the_result_is_the_same(seed: int) -> None:
    """The JSON reader's columns and `parse_instance`'s records, shuffled and with forbidden
    pairs, give the same answer, explanations and near misses included."""
    data = bench.generate(bench.SIZES["small"], seed=seed)
    rng = random.Random(seed)
    rng.shuffle(data["volunteers"])
    rng.shuffle(data["referrals"])
    data["forbidden_pairs"] = [
        {"referral": r["id"], "volunteer": v["id"]}
        for r, v in zip(data["referrals"][:20], data["volunteers"][:20], strict=True)
    ]
    from_columns = parse_instance_json(json.dumps(data).encode("utf-8"))
    from_records = parse_instance(data)
    assert isinstance(from_columns.volunteers, Records)
    assert isinstance(from_records.volunteers, tuple)
    result = solve(from_records)
    assert solve(from_columns) == result
    assert result.unmatched, "the instance should leave someone waiting"
