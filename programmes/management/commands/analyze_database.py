"""Refresh the database's planner statistics (``ANALYZE``); the release step runs it after
``migrate``. PostgreSQL's autovacuum analyzes a table only once 50 rows and a tenth of it have
changed, so the small tables every page joins (programmes, crisis centres, sites) may never get
statistics of their own, and the planner then guesses their size (32 sites taken for 1,360 in
the load test, docs/benchmarks.md)."""

from django.core.management.base import BaseCommand
from django.db import connection


class Command(BaseCommand):
    help = "Refresh the planner statistics of every table (ANALYZE). Run by scripts/serve release."

    def handle(self, *args, **options):
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.stdout.write("Planner statistics refreshed (ANALYZE).")
