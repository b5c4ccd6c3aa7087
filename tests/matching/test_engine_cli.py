"""`python -m matching solve` as a subprocess: JSON on success, one stderr line on bad input."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import engine as bench
from matching.engine import parse_instance, result_to_dict, solve
from matching.engine.wire import encode

from .test_engine_validation import LEISURE_MALFORMED, VALID, broken

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "matching", *args],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def write(tmp_path: Path, data: Any) -> str:
    path = tmp_path / "instance.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_solve_prints_the_result_as_json(tmp_path: Path) -> None:
    completed = run_cli("solve", write(tmp_path, VALID))
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert result["summary"]["matched"] + result["summary"]["unmatched"] == 1
    assert completed.stderr == ""


def test_solve_is_byte_identical_between_runs(tmp_path: Path) -> None:
    path = write(tmp_path, VALID)
    assert run_cli("solve", path).stdout == run_cli("solve", path).stdout


def test_malformed_instance_exits_2_with_one_line_naming_the_field(tmp_path: Path) -> None:
    data = broken(("volunteers", 0, "availability", 0, "end"), "09:00")
    completed = run_cli("solve", write(tmp_path, data))
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert completed.stderr == "volunteers[0].availability[0]: end 09:00 is before start 17:00\n"


@pytest.mark.parametrize(("path", "value", "message"), LEISURE_MALFORMED)
def test_malformed_levels_and_activities_exit_2_with_one_line_naming_the_field(
    tmp_path: Path, path: tuple[Any, ...], value: Any, message: str
) -> None:
    completed = run_cli("solve", write(tmp_path, broken(path, value)))
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert completed.stderr == message + "\n"


def test_missing_file_and_invalid_json_exit_2_with_one_line(tmp_path: Path) -> None:
    missing = run_cli("solve", str(tmp_path / "nope.json"))
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"rules": ', encoding="utf-8")
    invalid = run_cli("solve", str(bad_json))
    for completed in (missing, invalid):
        assert completed.returncode == 2
        assert completed.stderr.count("\n") == 1 and "Traceback" not in completed.stderr
    assert "not valid JSON" in invalid.stderr


def test_usage_errors_exit_2() -> None:
    assert run_cli().returncode == 2


def run_cli_with_input(data: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "matching", *args],
        cwd=REPO, input=data, capture_output=True, timeout=120, check=False,
    )  # fmt: skip


def as_dumped(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def test_solve_prints_what_json_dumps_prints(tmp_path: Path) -> None:
    data = bench.generate(bench.SIZES["small"], seed=8)
    completed = run_cli("solve", write(tmp_path, data))
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == as_dumped(result_to_dict(solve(parse_instance(data)))) + "\n"


def test_solve_reads_stdin_as_it_reads_a_file(tmp_path: Path) -> None:
    completed = run_cli_with_input(json.dumps(VALID).encode(), "solve", "-")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.decode() == run_cli("solve", write(tmp_path, VALID)).stdout


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            json.dumps(broken(("referrals", 0, "availability", 0, "start"), "9:00")).encode(),
            "referrals[0].availability[0].start: '9:00' is not a time HH:MM",
        ),
        (
            json.dumps(broken(("rules", "min_overlap_hours"), float("nan"))).encode(),
            "rules.min_overlap_hours: must be finite",
        ),
        (
            json.dumps(broken(("volunteers", 0, "gender"), " ")).encode(),
            "volunteers[0].gender: must be a non-empty string",
        ),
        (
            b'{"rules": \xff}',
            "cannot read -: 'utf-8' codec can't decode byte 0xff in position 10: "
            "invalid start byte",
        ),
        (b"[1,", "- is not valid JSON: Expecting value: line 1 column 4 (char 3)"),
    ],
)
def test_malformed_stdin_exits_2_with_the_same_line(raw: bytes, message: str) -> None:
    completed = run_cli_with_input(raw, "solve", "-")
    assert completed.returncode == 2
    assert completed.stdout == b""
    assert completed.stderr.decode() == message + "\n"


@pytest.mark.parametrize(
    "document",
    [
        {"floats": [0.0, -0.0, 1e-4, 9.99e-5, 1e-5, 5e-324, 0.1, 1 / 3, 1e15, 1e16, 1.5e300]},
        {"odd": [float("nan"), float("inf"), -float("inf"), None, True, 10**20]},
        {"text": 'é 😀 \u2028 \x7f \x00 \x1f " \\ / \n', "naïve key": ["r1e5", "0.00001"]},
        {"plain": {"id": "v000001", "distance_km": 12.345, "matched": 3, "shortfall": 2.5}},
    ],
)
def test_encoder_writes_what_json_dumps_writes(document: dict[str, Any]) -> None:
    assert encode(document) == as_dumped(document).encode("utf-8")


def test_a_solve_runs_without_numpy_modules_the_command_defers(tmp_path: Path) -> None:
    """numpy.f2py and numpy.testing load only if used (matching/__main__.py): not by a solve,
    and then as themselves."""
    path = write(tmp_path, VALID)
    code = (
        "import contextlib, io, json, sys\n"
        "import matching.__main__ as command\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    status = command.main(['solve', {path!r}])\n"
        "inner = ('numpy.f2py.crackfortran', 'numpy.testing._private.utils')\n"
        "loaded = [name in sys.modules for name in inner]\n"
        "import numpy\n"
        "numpy.testing.assert_equal([1, 2], [1, 2])\n"
        "print(json.dumps([status, loaded, [name in sys.modules for name in inner]]))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == [0, [False, False], [False, True]]
