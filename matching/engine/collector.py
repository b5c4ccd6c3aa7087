"""The garbage collector paused while the engine builds and solves."""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def garbage_collector_paused() -> Iterator[None]:
    """Parsing and solving make hundreds of thousands of short-lived objects and no cycles
    worth collecting. With the collector on, each run of it walks all of them and every
    object of the instance again: about half of parsing at national size, and 4-5 % of a
    solve. Process-wide, as `gc.disable` is, and restored as it was found."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
