"""Command line: `python -m matching solve INSTANCE.json` prints the result as JSON.

Exit 0 on success; exit 2 with one line on stderr for unreadable or malformed input.
"""

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from matching.engine import (
    MatchingInputError,
    SolverFailure,
    parse_instance,
    result_to_dict,
    solve,
)

EXIT_SOLVER_FAILURE = 1
EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _Parser(prog="python -m matching", description="Kobling matching engine")
    commands = parser.add_subparsers(dest="command", required=True)
    solve_command = commands.add_parser("solve", help="solve an instance and print JSON")
    solve_command.add_argument("instance", type=Path, help="instance JSON file ('-' for stdin)")
    arguments = parser.parse_args(argv)
    try:
        data = _read_json(arguments.instance)
        result = solve(parse_instance(data))
    except MatchingInputError as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_INPUT
    except SolverFailure as error:
        print(f"solver failure: {_one_line(error)}", file=sys.stderr)
        return EXIT_SOLVER_FAILURE
    json.dump(result_to_dict(result), sys.stdout, ensure_ascii=False, separators=(",", ":"))
    sys.stdout.write("\n")
    return 0


def _read_json(path: Path) -> Any:
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise MatchingInputError("", f"cannot read {path}: {_one_line(error)}") from error
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise MatchingInputError("", f"{path} is not valid JSON: {_one_line(error)}") from error


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


if __name__ == "__main__":
    sys.exit(main())
