import io

import pytest
from django.core.management import call_command

from programmes.models import County, Municipality, PostalCode

pytestmark = pytest.mark.django_db

# Mainland Norway with its coastal islands, generously.
NORWAY_LAT = (57.9, 71.3)
NORWAY_LON = (4.0, 31.3)


def load_geodata() -> str:
    out = io.StringIO()
    call_command("load_geodata", stdout=out)
    return out.getvalue()


def test_geodata_has_every_municipality_county_and_postal_code():
    assert Municipality.objects.count() == 357
    assert County.objects.count() == 15
    assert PostalCode.objects.count() == 5113


def test_every_point_lies_inside_norway():
    for model in (Municipality, PostalCode):
        for lat, lon in model.objects.values_list("lat", "lon"):
            assert NORWAY_LAT[0] <= lat <= NORWAY_LAT[1]
            assert NORWAY_LON[0] <= lon <= NORWAY_LON[1]


def test_postal_code_0150_is_in_oslo():
    code = PostalCode.objects.select_related("municipality").get(code="0150")
    assert (code.municipality.number, code.municipality.name) == ("0301", "Oslo")


def test_sami_language_area_has_its_thirteen_municipalities():
    assert Municipality.objects.filter(sami_language_area=True).count() == 13
    assert Municipality.objects.get(number="5612").sami_language_area  # Kautokeino


def test_reloading_changes_nothing_and_says_so():
    output = load_geodata()
    assert "Municipalities: 0 created, 0 updated, 357 unchanged" in output
    assert "Postal codes: 0 created, 0 updated, 5113 unchanged" in output
    assert Municipality.objects.count() == 357


def test_reloading_repairs_a_changed_row_and_names_it():
    Municipality.objects.filter(number="0301").update(name="Kristiania")
    PostalCode.objects.filter(code="9990").delete()

    output = load_geodata()

    assert "Municipalities: 0 created, 1 updated, 356 unchanged" in output
    assert "updated: 0301" in output
    assert Municipality.objects.get(number="0301").name == "Oslo"
    assert PostalCode.objects.filter(code="9990").exists()
