"""scipy's k-d tree, loaded without the rest of `scipy.spatial`.

`import scipy.spatial` also loads triangulations, distance metrics, rotations, linear algebra
and special functions, none of which the engine uses: about 0.05 s of the command line's start
of 0.31 s (docs/benchmarks.md). The tree is scipy's own extension module, loaded here by itself
under its own name, so that a later `import scipy.spatial` finds it and uses the same class.
If scipy is ever laid out otherwise, the public import takes over.
"""

import sys
from importlib.machinery import EXTENSION_SUFFIXES
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import scipy

_TREE_MODULE = "scipy.spatial._ckdtree"


def _load_tree_module() -> ModuleType:
    folder = Path(scipy.__file__).parent / "spatial"
    for suffix in EXTENSION_SUFFIXES:
        spec = spec_from_file_location(_TREE_MODULE, folder / f"_ckdtree{suffix}")
        if spec is not None and spec.loader is not None and Path(str(spec.origin)).is_file():
            module = sys.modules[_TREE_MODULE] = module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    raise ImportError(f"no {_TREE_MODULE} in {folder}")


if TYPE_CHECKING:
    from scipy.spatial import cKDTree
elif _TREE_MODULE in sys.modules:
    cKDTree = sys.modules[_TREE_MODULE].cKDTree
else:
    try:
        cKDTree = _load_tree_module().cKDTree
    except Exception:
        sys.modules.pop(_TREE_MODULE, None)
        from scipy.spatial import cKDTree

__all__ = ["cKDTree"]
