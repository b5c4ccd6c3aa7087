"""Activities and children's ages through the API (issue 17): a referral's wished activities are
codes from /api/v1/activities/, an unknown one is a 400 naming the field, every child is under
18 and a Fritidsvenn family has a child of the programme's ages; nothing is saved on an error."""

import pytest
from django.utils import timezone

from programmes.models import Activity, Referral
from tests.api.test_referrals_api import URL, patch, post, submission
from tests.programmes.factories import ProgrammeSiteFactory, programme

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def this_year() -> int:
    return timezone.localdate().year


def test_staff_submit_the_wished_activities_as_codes(world, client_for):
    body = submission(world, wished_activities=["swimming", "football"])

    response = post(client_for("staff_a"), URL, body)

    assert response.status_code == 201, response.json()
    assert response.json()["wished_activities"] == ["football", "swimming"]
    referral = Referral.objects.get(pk=response.json()["id"])
    assert {a.code for a in referral.wished_activities.all()} == {"football", "swimming"}


@pytest.mark.parametrize(
    ("wished", "message"),
    [
        (["football", "knitting"], ["wished_activities[1]: unknown activity 'knitting'."]),
        ("football", ["Must be a list."]),
    ],
)
def test_an_unknown_activity_is_a_400_naming_the_field(world, client_for, wished, message):
    before = Referral.objects.count()
    client = client_for("staff_a")

    response = client.post(URL, submission(world, wished_activities=wished), format="json", **EN)

    assert response.status_code == 400
    assert response.json() == {"wished_activities": message}
    assert Referral.objects.count() == before


def test_a_child_born_in_2000_is_a_400_naming_the_field(world, client_for):
    client = client_for("staff_a")
    body = submission(world, children_birth_years=[2016, 2000])

    response = client.post(URL, body, format="json", **EN)

    assert response.status_code == 400
    assert response.json() == {
        "children_birth_years": [
            f"Child 2: 2000: the child must be under 18 (born {this_year() - 17} or later)."
        ]
    }


def test_a_fritidsvenn_family_without_a_child_of_its_ages_is_a_400(world, client_for):
    site = ProgrammeSiteFactory(
        programme=programme("fritidsvenn"), crisis_centre=world.site_x.crisis_centre
    )
    body = submission(world, site=site.pk, children_birth_years=[this_year() - 2])

    response = client_for("staff_a").post(URL, body, format="json", **EN)

    assert response.status_code == 400
    assert response.json() == {
        "children_birth_years": [
            f"Fritidsvenn is for children aged 6 to 17: at least one child must be born between "
            f"{this_year() - 17} and {this_year() - 6}."
        ]
    }
    assert not Referral.objects.filter(site=site).exists()


def test_staff_change_the_wished_activities(world, client_for):
    client = client_for("staff_a")
    url = f"{URL}{world.referral_x.pk}/"
    etag = client.get(url).headers["ETag"]

    changed = patch(client, url, {"wished_activities": ["library", "art"]}, etag)
    emptied = patch(client, url, {"wished_activities": []}, changed.headers["ETag"])

    assert changed.status_code == 200, changed.json()
    assert changed.json()["wished_activities"] == ["art", "library"]
    assert emptied.json()["wished_activities"] == []


def test_anyone_signed_in_looks_up_the_activities_and_the_programmes_ages(world, client_for):
    Activity.objects.filter(code="gaming").update(is_active=False)
    programme("fritidsvenn")
    client = client_for("volunteer")

    activities = client.get("/api/v1/activities/?page_size=100").json()["results"]
    offered = client.get("/api/v1/activities/?is_active=true&page_size=100").json()["results"]
    fritidsvenn = client.get("/api/v1/programmes/fritidsvenn/")

    assert activities[0] == {
        "code": "football",
        "name_nb": "fotball",
        "name_en": "football",
        "is_active": True,
    }
    assert "gaming" in {a["code"] for a in activities}
    assert "gaming" not in {a["code"] for a in offered}
    body = fritidsvenn.json()
    assert (body["child_min_age"], body["child_max_age"]) == (6, 17)
    assert body["min_language_level"] == "conversational"
