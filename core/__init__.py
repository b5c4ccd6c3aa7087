"""The bottom layer: plumbing every app uses (settings readers, API conventions, audit and
cache helpers, the Celery app). It imports no app of Kobling."""
