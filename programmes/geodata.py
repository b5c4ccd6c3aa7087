"""The bundled reference geodata (programmes/data/, see its README for sources, licences and how
the postal-code points are made): reading it, and bringing the points of an existing database up
to date with it."""

import csv
from pathlib import Path

from django.utils.formats import number_format
from django.utils.translation import gettext

DATA_DIR = Path(__file__).resolve().parent / "data"


def read_rows(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def postal_code_points_refresh(postal_code_model) -> int:
    """Move every stored postal code whose point differs from the bundled data to the bundled
    point, in place: same rows, so referrals and volunteers keep pointing at them. Codes the
    database does not hold are left to ``manage.py load_geodata``. Returns how many moved.

    Takes the model as an argument so that a data migration can pass its historical model."""
    wanted = {
        row["postal_code"]: (float(row["lat"]), float(row["lon"]))
        for row in read_rows("postal_codes.csv")
    }
    moved = []
    for code in postal_code_model.objects.filter(code__in=wanted).only("code", "lat", "lon"):
        point = wanted[code.code]
        if (code.lat, code.lon) != point:
            code.lat, code.lon = point
            moved.append(code)
    postal_code_model.objects.bulk_update(moved, ["lat", "lon"], batch_size=1000)
    return len(moved)


def distance_in_words(distance: float | None) -> str:
    """A distance as people say it: "under 1 km" below one kilometre (points are postal-code
    areas, so closer than that means nothing), else kilometres with one decimal under 10."""
    if distance is None:
        return ""
    if distance < 1:
        return gettext("under 1 km")
    places = 1 if distance < 10 else 0
    return gettext("%(distance)s km") % {"distance": number_format(distance, places)}
