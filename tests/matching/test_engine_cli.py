"""`python -m matching solve` as a subprocess: JSON on success, one stderr line on bad input."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from .test_engine_validation import VALID, broken

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
