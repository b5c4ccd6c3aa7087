"""Command line: `python -m matching solve INSTANCE.json` prints the result as JSON;
`python -m matching what-if INSTANCE.json HYPOTHETICALS.json` prints, for each hypothetical
volunteer added alone, how many more referrals the optimum matches and which.

Exit 0 on success; exit 2 with one line on stderr for unreadable or malformed input.
"""

import argparse
import gc
import importlib.util
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

# numpy modules that scipy's array-API layer touches while it is imported (it copies every
# attribute of numpy) but that no command uses: about 0.07 s of the command's start of 0.3 s
# (docs/benchmarks.md, ninth stop).
NUMPY_MODULES_NOT_USED = ("numpy.f2py", "numpy.testing")


def defer_until_used(names: Sequence[str]) -> None:
    """Make each module a stand-in that loads the module on its first use (the standard
    library's LazyLoader), set on its parent package so that looking it up finds it."""
    for name in names:
        if name in sys.modules:
            continue
        spec = importlib.util.find_spec(name)  # imports the parent package
        if spec is None or spec.loader is None:
            continue
        spec.loader = importlib.util.LazyLoader(spec.loader)
        module = sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        parent, _, child = name.rpartition(".")
        setattr(sys.modules[parent], child, module)


defer_until_used(NUMPY_MODULES_NOT_USED)

from matching.engine import (  # noqa: E402  (after the deferral above)
    MatchingInputError,
    SolverFailure,
    result_to_dict,
    solve,
)
from matching.engine.validation import parse_instance_json  # noqa: E402
from matching.engine.what_if import answer_to_dict, parse_hypotheticals, what_if  # noqa: E402
from matching.engine.wire import encode  # noqa: E402

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
    what_if_command = commands.add_parser(
        "what-if", help="how many more referrals each hypothetical volunteer would match"
    )
    what_if_command.add_argument("instance", type=Path, help="instance JSON file")
    what_if_command.add_argument(
        "hypotheticals", type=Path, help='JSON {"volunteers": [...]}, each added alone'
    )
    arguments = parser.parse_args(argv)
    if arguments.command == "what-if":
        return _what_if(arguments)
    return _solve(arguments)


def _solve(arguments: argparse.Namespace) -> int:
    def solved() -> str:
        with _collector_off_while_building():
            instance = parse_instance_json(_read_bytes(arguments.instance), str(arguments.instance))
        return encode(result_to_dict(solve(instance))).decode("utf-8")

    return _printed(solved)


def _what_if(arguments: argparse.Namespace) -> int:
    def answered() -> str:
        with _collector_off_while_building():
            instance = parse_instance_json(_read_bytes(arguments.instance), str(arguments.instance))
        answers = what_if(instance, parse_hypotheticals(_read_json(arguments.hypotheticals)))
        answers_json = {"answers": [answer_to_dict(answer) for answer in answers]}
        return json.dumps(answers_json, ensure_ascii=False, separators=(",", ":"))

    return _printed(answered)


@contextmanager
def _collector_off_while_building() -> Iterator[None]:
    """The instance is built with the garbage collector off; then `gc.freeze` sets it and the
    modules aside for good. They live as long as this one-shot process, and the collector
    would otherwise walk them all as soon as it is on again, and again during the solve
    (about 0.2 s of 2.6 at national size)."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def _printed(command: Callable[[], str]) -> int:
    """Run a command and print its JSON; errors as one line on stderr, with the exit code."""
    try:
        output = command()
    except MatchingInputError as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_INPUT
    except SolverFailure as error:
        print(f"solver failure: {_one_line(error)}", file=sys.stderr)
        return EXIT_SOLVER_FAILURE
    sys.stdout.write(output + "\n")
    return 0


def _read_bytes(path: Path) -> bytes:
    try:
        return sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as error:
        raise MatchingInputError("", f"cannot read {path}: {_one_line(error)}") from error


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
    exit_code = main()
    # A one-shot process: leave without freeing the instance and the solver object by object.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exit_code)
