"""The engine as it was at a git revision, runnable beside the current one.

`export(ref, into)` reads the revision's `matching/engine` (and the CLI around it) with
`git archive`, without touching the work tree, index or HEAD, and lays out two copies:

- `into/lib/engine_before/`: the engine package under another name, importable in the
  same process as `matching.engine` (the engine uses only relative imports inside itself);
- `into/cli/matching/`: `matching/__init__.py`, `matching/__main__.py` and the engine, so
  `python -m matching solve FILE` run with `cwd=into/cli` is the whole old command line.
"""

import importlib
import io
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from types import ModuleType

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BEFORE_PACKAGE = "engine_before"
CLI_PATHS = ("matching/__init__.py", "matching/__main__.py", "matching/engine")


def resolve(ref: str) -> str:
    """The full commit id of `ref`; `ValueError` if git does not know it."""
    completed = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    if completed.returncode != 0:
        raise ValueError(f"git does not know the revision {ref!r}")
    return completed.stdout.strip()


def export(commit: str, into: Path) -> None:
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit, *CLI_PATHS],
        capture_output=True,
        check=True,
        cwd=PROJECT_ROOT,
    ).stdout
    cli = into / "cli"
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(cli, filter="data")
    shutil.copytree(cli / "matching" / "engine", into / "lib" / BEFORE_PACKAGE)


def cli_dir(into: Path) -> Path:
    return into / "cli"


def import_engine(into: Path) -> ModuleType:
    """`engine_before` from an `export`ed tree."""
    sys.path.insert(0, str(into / "lib"))
    return importlib.import_module(BEFORE_PACKAGE)
