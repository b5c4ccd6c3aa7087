"""The layer order in pyproject.toml ([tool.importlinter], drawn in docs/design.md) holds, and
breaking it fails the build: scripts/test runs lint-imports on the real tree; these tests break
a copy of the tree on purpose and show the contracts catch it."""

import ast
import pathlib
import shutil
import subprocess
import sys
import tomllib

import grimp
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
PACKAGES = CONFIG["root_packages"]
LINT_IMPORTS = pathlib.Path(sys.executable).with_name("lint-imports")

# AppConfig.ready() is where Django says to import what needs the app registry (signal receivers,
# models to register); those imports are not there to dodge a cycle.
APP_CONFIGS = "apps.py"


def copy_of_the_tree(tmp_path) -> pathlib.Path:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns(
                "migrations", "static", "templates", "data", "__pycache__"
            ),
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def lint_imports(tree: pathlib.Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def add_line(path: pathlib.Path, line: str) -> None:
    path.write_text(path.read_text() + f"\n{line}\n")


@pytest.mark.slow
def test_the_untouched_copy_keeps_every_contract(tmp_path):
    result = lint_imports(copy_of_the_tree(tmp_path))
    assert result.returncode == 0, result.stdout


@pytest.mark.slow
def test_a_lower_layer_importing_a_higher_one_fails_the_build(tmp_path):
    tree = copy_of_the_tree(tmp_path)
    add_line(tree / "programmes" / "geodata.py", "from matching import models  # noqa")

    result = lint_imports(tree)

    assert result.returncode != 0
    assert "programmes is not allowed to import matching" in result.stdout
    assert "programmes.geodata -> matching.models" in result.stdout


@pytest.mark.slow
def test_the_engine_importing_django_fails_the_build(tmp_path):
    tree = copy_of_the_tree(tmp_path)
    add_line(tree / "matching" / "engine" / "geo.py", "import django.db  # noqa")

    result = lint_imports(tree)

    assert result.returncode != 0
    assert "matching.engine is not allowed to import django" in result.stdout
    assert "matching.engine.geo -> django" in result.stdout


def imports_inside_functions(path: pathlib.Path):
    tree = ast.parse(path.read_text())
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom) and node.level == 0:
                    yield node.module.split(".")[0]
                elif isinstance(node, ast.Import):
                    yield from (alias.name.split(".")[0] for alias in node.names)


def test_no_module_of_ours_is_imported_inside_a_function():
    """An import inside a function is how a cycle gets hidden; the layers leave no need."""
    found = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative:
                continue
            for module in imports_inside_functions(path):
                if module in PACKAGES and path.name != APP_CONFIGS:
                    found.append(f"{relative} imports {module}")
    assert not found, "\n".join(found)


def test_no_two_modules_import_each_other_even_indirectly():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    modules = {m for m in graph.modules if ".migrations" not in m}
    cycles = []
    for module in sorted(modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if imported in modules and graph.chain_exists(imported, module):
                cycles.append(f"{module} -> {imported} -> … -> {module}")
    assert not cycles, "\n".join(cycles)
