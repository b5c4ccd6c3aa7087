"""Long work in a worker says it is alive while it works: a thread touches a row's
`heartbeat_at` at a fixed interval, so a sweep for silent (dead) work leaves it alone.
The work itself holds the main thread, often in C code (the solver), for minutes."""

import contextlib
import logging
import threading
from collections.abc import Iterator

from django.db import DatabaseError, connection
from django.db.models import QuerySet
from django.utils import timezone

log = logging.getLogger("kobling.heartbeat")


@contextlib.contextmanager
def heartbeat(rows: QuerySet, every_seconds: float, name: str) -> Iterator[None]:
    """Touch `heartbeat_at` of `rows` every `every_seconds` until the block ends. `rows`
    should match only while the work is still its own (its status and attempt), so a late
    beat never revives work that has ended or been taken over. The thread dies with its
    process, as it should: then the work is dead."""
    stop = threading.Event()
    beating = threading.Thread(
        target=_beat, args=(rows, every_seconds, stop, name), name=name, daemon=True
    )
    beating.start()
    try:
        yield
    finally:
        stop.set()
        beating.join()


def _beat(rows: QuerySet, every_seconds: float, stop: threading.Event, name: str) -> None:
    try:
        while not stop.wait(every_seconds):
            rows.update(heartbeat_at=timezone.now())
    except DatabaseError:
        # The database went away: the work itself fails on its next query and says so.
        log.exception("%s: heartbeat stopped", name)
    finally:
        connection.close()  # this thread's own connection
