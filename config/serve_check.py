"""What ``scripts/serve PROCESS`` checks before it starts anything: the settings load (they
refuse a missing or weak production setting themselves), and what this process needs on top.
A problem is one line naming the setting, and exit status 2.

    python -m config.serve_check web|worker|beat|release [QUEUE ...]
"""

import logging
import os
import sys
from itertools import takewhile

import django
from django.core.exceptions import ImproperlyConfigured

from core import env

PROCESSES = ("web", "worker", "beat", "release")


def process_requirements(process: str, settings) -> None:
    """Raises ImproperlyConfigured for the first setting ``process`` cannot do without."""
    if process == "worker":
        env.required("CELERY_BROKER_URL", "for a worker: it takes its tasks from the broker")
    if process == "beat":
        env.required("CELERY_BROKER_URL", "for beat: it hands the scheduled tasks to the broker")
    if not settings.IS_PRODUCTION:
        return
    if process == "web":
        env.required(
            "CELERY_BROKER_URL",
            "for the web server in production, or match runs would run inside web requests",
        )
        env.required(
            "CACHE_URL",
            "for the web server in production, so its processes share the login and API limits",
        )
        if not (settings.STATIC_ROOT / "staticfiles.json").exists():
            raise ImproperlyConfigured(
                f"no static files in STATIC_ROOT ({settings.STATIC_ROOT}): "
                "run scripts/serve release first."
            )
    if process in ("web", "worker"):
        env.required("EMAIL_URL", "in production, or e-mails would only be written to the log")
    if process == "release" and settings.DATABASE_IS_POSTGRES:
        env.required(
            "DATABASE_APP_ROLE",
            "for the release step: migrate grants the service's role what it may do "
            "(docs/deployment.md, 'Database roles')",
        )


def queues_check(names: list[str], settings) -> None:
    known = [queue.name for queue in settings.CELERY_TASK_QUEUES]
    for name in names:
        if name not in known:
            raise ImproperlyConfigured(
                f"there is no queue {name!r}; the queues are {', '.join(known)}."
            )


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in PROCESSES:
        print(f"usage: scripts/serve {'|'.join(PROCESSES)}", file=sys.stderr)
        return 64
    process, *rest = argv
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Only problems: not the start-up lines the apps log (the process itself logs them).
    logging.disable(logging.INFO)
    try:
        django.setup()
        from django.conf import settings

        process_requirements(process, settings)
        if process == "worker":
            # The queue names come first, then the worker's own options (scripts/serve).
            queues_check(list(takewhile(lambda arg: not arg.startswith("-"), rest)), settings)
    except ImproperlyConfigured as problem:
        print(f"scripts/serve {process}: Kobling will not start: {problem}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
