"""The engine loads scipy's k-d tree by itself (matching/engine/kdtree.py), which keeps the rest
of `scipy.spatial` out of the command line's start, and must still be scipy's own class."""

import json
import subprocess
import sys


def run_python(code: str) -> object:
    """The JSON a fresh interpreter prints: what a module imports shows only there."""
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(completed.stdout)


def test_the_engine_loads_no_more_of_scipy_spatial_than_its_tree() -> None:
    loaded = run_python(
        "import json, sys, matching.engine\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('scipy.spatial'))))"
    )
    assert loaded == ["scipy.spatial._ckdtree"]


def test_the_tree_is_the_class_scipy_spatial_gives_when_imported_after_the_engine() -> None:
    same = run_python(
        "import json, matching.engine.kdtree as k, scipy.spatial as s\n"
        "print(json.dumps([k.cKDTree is s.cKDTree, s.cKDTree([[0.0, 0.0], [3.0, 4.0]])"
        ".query([0.0, 0.0], k=2)[0].tolist()]))"
    )
    assert same == [True, [0.0, 5.0]]


def test_the_engine_uses_the_tree_scipy_spatial_already_loaded() -> None:
    same = run_python(
        "import json, scipy.spatial as s, matching.engine.kdtree as k\n"
        "print(json.dumps(k.cKDTree is s.cKDTree))"
    )
    assert same is True


def test_where_scipy_has_no_such_module_the_public_import_is_used() -> None:
    fallback = run_python(
        "import importlib.machinery, json, sys\n"
        "importlib.machinery.EXTENSION_SUFFIXES[:] = ['.not-there.so']\n"
        "import matching.engine.kdtree as k\n"
        "loaded_whole = 'scipy.spatial' in sys.modules\n"
        "import scipy.spatial as s\n"
        "print(json.dumps([loaded_whole, k.cKDTree is s.cKDTree]))"
    )
    assert fallback == [True, True]
