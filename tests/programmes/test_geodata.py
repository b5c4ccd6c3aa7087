import importlib
import io

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.template import Context, Template
from django.utils import translation
from geopy.distance import great_circle

from programmes.geodata import postal_code_points_refresh
from programmes.models import County, Municipality, PostalCode
from tests.programmes.factories import ReferralFactory
from tests.volunteers.factories import VolunteerFactory

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


# The one point every Oslo postal code had before the shared data of 2026-11-29.
OLD_OSLO_POINT = (59.91273, 10.74609)


def oslo_points() -> set[tuple[float, float]]:
    return set(PostalCode.objects.filter(municipality__number="0301").values_list("lat", "lon"))


def test_street_address_codes_have_their_own_points_so_oslo_distances_are_real():
    assert len(set(PostalCode.objects.values_list("lat", "lon"))) == 3874
    assert len(oslo_points()) == 446
    a, b = (PostalCode.objects.get(code=code) for code in ("0150", "1270"))
    assert great_circle((a.lat, a.lon), (b.lat, b.lon)).km == pytest.approx(9.2, abs=0.1)


def test_reloading_moves_old_points_in_place_and_keeps_who_lives_there():
    PostalCode.objects.filter(municipality__number="0301").update(
        lat=OLD_OSLO_POINT[0], lon=OLD_OSLO_POINT[1]
    )
    referral = ReferralFactory(postal_code=PostalCode.objects.get(code="0150"))
    volunteer = VolunteerFactory()
    before = dict(PostalCode.objects.values_list("code", "pk"))

    output = load_geodata()

    assert "Postal codes: 0 created, 445 updated, 4668 unchanged" in output
    assert dict(PostalCode.objects.values_list("code", "pk")) == before
    assert len(oslo_points()) == 446
    referral.refresh_from_db()
    volunteer.refresh_from_db()
    assert referral.postal_code.code == "0150" and referral.point != OLD_OSLO_POINT
    assert volunteer.home_postal_code.code == "0150" and volunteer.point == referral.point
    assert "Postal codes: 0 created, 0 updated, 5113 unchanged" in load_geodata()


def test_migrating_moves_old_points_of_an_existing_database():
    migration = importlib.import_module("programmes.migrations.0013_casework")
    PostalCode.objects.filter(municipality__number="0301").update(
        lat=OLD_OSLO_POINT[0], lon=OLD_OSLO_POINT[1]
    )
    before = dict(PostalCode.objects.values_list("code", "pk"))

    migration.postal_code_points_to_area_centroids(django_apps, None)

    assert len(oslo_points()) == 446
    assert dict(PostalCode.objects.values_list("code", "pk")) == before
    assert postal_code_points_refresh(PostalCode) == 0


def test_migrating_an_empty_database_adds_no_postal_codes():
    PostalCode.objects.all().delete()
    assert postal_code_points_refresh(PostalCode) == 0
    assert not PostalCode.objects.exists()


@pytest.mark.parametrize(
    ("language", "near", "far"),
    [("nb", "under 1 km", "3,4 km"), ("en", "under 1 km", "3.4 km")],
)
def test_a_distance_under_a_kilometre_reads_under_1_km_never_zero(language, near, far):
    page = Template("{% load casework %}{{ near|km }}/{{ far|km }}")
    with translation.override(language):
        shown = page.render(Context({"near": 0.4, "far": 3.41}))
    assert shown == f"{near}/{far}"
    assert "0,0" not in shown and "0.0" not in shown


@pytest.mark.parametrize(
    ("language", "heading"),
    [("nb", "Referansedata: kilder og lisenser"), ("en", "Reference data: sources and licences")],
)
def test_the_about_page_credits_every_source_of_the_points(client, language, heading):
    client.cookies["django_language"] = language
    page = client.get("/about/").content.decode()
    assert heading in page
    for credit in ("© Kartverket (CC BY 4.0)", "Kartverket kommuneinfo (CC BY 4.0)", "SSB",
                   "Posten Norge", "GeoNames (CC BY 4.0)", "norway-geodata", "nor-maps",
                   "https://creativecommons.org/licenses/by/4.0/"):  # fmt: skip
        assert credit in page
    assert "under 1 km" in page
