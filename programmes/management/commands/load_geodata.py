"""Load the bundled municipalities and postal codes (programmes/data/, see its README for
sources and licences). Idempotent: a second run changes nothing and says so.

Rows are matched by their number or code and updated in place, never replaced: referrals,
volunteers and centres keep pointing at the same rows when a new copy of the data moves a
postal code's point (migration programmes 0013 does the same for the points at ``migrate``)."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Model

from programmes.geodata import read_rows
from programmes.models import County, Municipality, PostalCode


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changed_keys: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


def differs(obj, name: str, new: object) -> bool:
    # Compare foreign keys by id so that a re-run does not fetch every related row.
    if isinstance(new, Model):
        return getattr(obj, f"{name}_id") != new.pk
    return getattr(obj, name) != new


def upsert(model, key: str, rows: dict[str, dict], tally: Tally) -> dict[str, object]:
    """Create or update ``model`` rows keyed by ``key``; count what changed."""
    existing = {getattr(obj, key): obj for obj in model.objects.all()}
    to_create, to_update = [], []
    for value, wanted in rows.items():
        obj = existing.get(value)
        if obj is None:
            to_create.append(model(**{key: value}, **wanted))
        elif any(differs(obj, name, new) for name, new in wanted.items()):
            for name, new in wanted.items():
                setattr(obj, name, new)
            to_update.append(obj)
            tally.changed_keys.append(value)
    model.objects.bulk_create(to_create, batch_size=1000)
    if to_update:
        model.objects.bulk_update(to_update, list(next(iter(rows.values()))), batch_size=1000)
    tally.created, tally.updated = len(to_create), len(to_update)
    tally.unchanged = len(rows) - tally.created - tally.updated
    return {getattr(obj, key): obj for obj in model.objects.all()}


class Command(BaseCommand):
    help = "Load or refresh the bundled Norwegian municipalities and postal codes."

    @transaction.atomic
    def handle(self, *args, **options):
        municipality_rows = read_rows("municipalities.csv")
        counties = self.load_counties(municipality_rows)
        municipalities = self.load_municipalities(municipality_rows, counties)
        self.load_postal_codes(read_rows("postal_codes.csv"), municipalities)

    def report(self, label: str, tally: Tally) -> None:
        self.stdout.write(f"{label}: {tally}")
        if tally.changed_keys:
            self.stdout.write(f"  updated: {', '.join(tally.changed_keys[:20])}")

    def load_counties(self, rows):
        wanted = {row["county_number"]: {"name": row["county"]} for row in rows}
        tally = Tally()
        counties = upsert(County, "number", wanted, tally)
        self.report("Counties", tally)
        return counties

    def load_municipalities(self, rows, counties):
        wanted = {
            row["number"]: {
                "name": row["name"],
                "name_official": row["name_official"],
                "county": counties[row["county_number"]],
                "admin_centre": row["admin_centre"],
                "population": int(row["population"]),
                "area_km2": Decimal(row["area_km2"]),
                "language_form": row["language_form"],
                "sami_language_area": row["sami_language_area"] == "1",
                "lat": float(row["lat"]),
                "lon": float(row["lon"]),
            }
            for row in rows
        }
        tally = Tally()
        municipalities = upsert(Municipality, "number", wanted, tally)
        self.report("Municipalities", tally)
        return municipalities

    def load_postal_codes(self, rows, municipalities):
        wanted = {
            row["postal_code"]: {
                "place": row["place"],
                "municipality": municipalities[row["municipality_number"]],
                "lat": float(row["lat"]),
                "lon": float(row["lon"]),
            }
            for row in rows
        }
        tally = Tally()
        upsert(PostalCode, "code", wanted, tally)
        self.report("Postal codes", tally)
