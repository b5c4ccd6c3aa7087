"""Fritidsvenn is about leisure (issue 17): referrals say which activities the children (or, for
Ressursvenn, the woman) wish for, from a maintained list named in the reader's language; every
child is under 18; a Fritidsvenn family has a child of an age the programme is for; and the
level a volunteer speaks a language at is said in words."""

import importlib

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from programmes.catalogue import PROGRAMMES
from programmes.languages import codes_spoken_at_least, language_with_level, level_at_least
from programmes.models import Activity, Programme, Referral
from programmes.services import referral_submit, referral_update
from tests.auth import login_verified
from tests.matching.factories import site_with_people, waiting_referral
from tests.portal_html import attributes, summary_links
from tests.programmes.factories import (
    CrisisCentreFactory,
    ProgrammeSiteFactory,
    UserFactory,
    programme,
)
from tests.programmes.test_referral_pages import valid_post
from tests.programmes.test_referrals import error_for, valid_input

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
interests_migration = importlib.import_module(
    "volunteers.migrations.0006_activities_replace_interests"
)


def this_year() -> int:
    return timezone.localdate().year


@pytest.fixture
def fritidsvenn_site():
    staff = UserFactory(username="staff-fritidsvenn")
    site = ProgrammeSiteFactory(
        programme=programme("fritidsvenn"), crisis_centre=CrisisCentreFactory(staff=[staff])
    )
    return site, staff


# Children's ages -----------------------------------------------------------------------------


def test_a_child_born_18_years_ago_is_refused_naming_the_field():
    born = this_year() - 18
    message = error_for("children_birth_years", children_birth_years=[2015, born])
    assert message == (
        f"Child 2: {born}: the child must be under 18 (born {this_year() - 17} or later)."
    )


def test_a_child_born_in_2000_is_refused_and_one_born_17_years_ago_taken(fritidsvenn_site):
    site, staff = fritidsvenn_site
    assert "2000: the child must be under 18" in error_for(
        "children_birth_years", children_birth_years=[2000]
    )

    referral = referral_submit(
        site=site, data=valid_input(children_birth_years=[this_year() - 17]), submitted_by=staff
    )

    assert referral.children_birth_years == [this_year() - 17]


def test_a_fritidsvenn_family_needs_a_child_of_the_programmes_ages(fritidsvenn_site):
    site, staff = fritidsvenn_site
    toddler = this_year() - 3

    with pytest.raises(ValidationError) as caught:
        referral_submit(
            site=site, data=valid_input(children_birth_years=[toddler]), submitted_by=staff
        )

    assert caught.value.message_dict["children_birth_years"] == [
        f"Fritidsvenn is for children aged 6 to 17: at least one child must be born between "
        f"{this_year() - 17} and {this_year() - 6}."
    ]
    assert not Referral.objects.exists()


def test_a_toddler_with_an_older_sibling_is_a_fritidsvenn_family(fritidsvenn_site):
    site, staff = fritidsvenn_site
    years = [this_year() - 3, this_year() - 8]

    referral = referral_submit(
        site=site, data=valid_input(children_birth_years=years), submitted_by=staff
    )

    assert referral.children_birth_years == years


def test_ressursvenn_sets_no_ages_so_a_toddler_is_welcome():
    site = ProgrammeSiteFactory(crisis_centre=CrisisCentreFactory(staff=[UserFactory()]))
    staff = site.crisis_centre.staff.get()

    referral = referral_submit(
        site=site, data=valid_input(children_birth_years=[this_year() - 1]), submitted_by=staff
    )

    assert site.programme.child_min_age is None and referral.pk is not None


def test_an_open_ended_range_is_said_as_such():
    chosen = programme("ressursvenn")
    chosen.child_min_age, chosen.child_max_age = 12, None
    chosen.save()

    message = error_for("children_birth_years", children_birth_years=[this_year() - 4])

    assert message == (
        f"Ressursvenn is for children aged 12 or older: at least one child must be born in "
        f"{this_year() - 12} or earlier."
    )


def test_a_programmes_youngest_age_may_not_be_above_its_oldest():
    chosen = Programme(**{**_catalogue("fritidsvenn"), "child_min_age": 12, "child_max_age": 6})

    with pytest.raises(ValidationError) as caught:
        chosen.full_clean()

    assert "child_max_age" in caught.value.message_dict


def _catalogue(slug: str) -> dict:
    return {**{p["slug"]: p for p in PROGRAMMES}[slug], "slug": f"{slug}-2", "name": f"{slug} 2"}


def test_the_portal_form_names_the_field_and_the_age_limit(client):
    site, staff, _coordinator = site_with_people("fritidsvenn")
    login_verified(client, staff)

    response = client.post(
        "/referrals/new/", valid_post(site, children_birth_years="2000, 2024"), **EN
    )

    assert response.status_code == 400
    assert summary_links(response) == [
        (
            "#id_children_birth_years",
            f"Children's birth years: 2000: the child must be under 18 (born "
            f"{this_year() - 17} or later).",
        )
    ]
    assert not Referral.objects.exists()


def test_the_portal_form_refuses_a_family_without_a_child_of_the_ages(client):
    site, staff, _coordinator = site_with_people("fritidsvenn")
    login_verified(client, staff)
    baby = this_year() - 1

    sent = valid_post(site, children_birth_years=str(baby))

    response = client.post("/referrals/new/", sent, **EN)

    assert response.status_code == 400
    assert response.context["form"].errors["children_birth_years"] == [
        f"Fritidsvenn is for children aged 6 to 17: at least one child must be born between "
        f"{this_year() - 17} and {this_year() - 6}."
    ]


# Wished activities ---------------------------------------------------------------------------


def test_staff_pick_the_wished_activities_on_the_referral_form(client):
    site, staff, _coordinator = site_with_people("fritidsvenn")
    login_verified(client, staff)
    chosen = {"children_birth_years": "2016", "wished_activities": ["swimming", "scouting"]}

    response = client.post("/referrals/new/", valid_post(site, **chosen))

    assert response.status_code == 302
    referral = Referral.objects.get()
    assert [a.code for a in referral.wished_activities.all()] == ["swimming", "scouting"]


def test_the_wished_activities_are_checkboxes_in_the_readers_language(client):
    _site, staff, _coordinator = site_with_people("fritidsvenn")
    login_verified(client, staff)
    Activity.objects.filter(code="gaming").update(is_active=False)

    response = client.get("/referrals/new/", HTTP_ACCEPT_LANGUAGE="nb")
    english = client.get("/referrals/new/", **EN).content.decode()

    first = attributes(response, "id_wished_activities_0")
    assert (first["type"], first["value"]) == ("checkbox", "football")
    page = response.content.decode()
    assert ">Fotball</label>" in page and ">Speideren</label>" in page
    assert ">Football</label>" in english and ">Scouting</label>" in english
    assert 'value="gaming"' not in page


def test_an_unknown_or_retired_activity_is_named_and_nothing_saved():
    Activity.objects.filter(code="gaming").update(is_active=False)

    message = error_for("wished_activities", wished_activities=["football", "knitting", "gaming"])

    assert message == (
        "wished_activities[1]: unknown activity 'knitting'. "
        "wished_activities[2]: unknown activity 'gaming'."
    )


def test_a_correction_keeps_an_activity_no_longer_offered(fritidsvenn_site):
    site, staff = fritidsvenn_site
    referral = referral_submit(
        site=site,
        data=valid_input(children_birth_years=[2016], wished_activities=["gaming", "music"]),
        submitted_by=staff,
    )
    Activity.objects.filter(code="gaming").update(is_active=False)

    changed = referral_update(
        referral, changes={"wished_activities": ["music", "gaming", "dance"]}, updated_by=staff
    )

    assert [a.code for a in changed.wished_activities.all()] == ["dance", "music", "gaming"]


def test_the_edit_form_shows_the_wished_activities_and_saves_a_change(client):
    site, staff, _coordinator = site_with_people("fritidsvenn")
    referral = waiting_referral(site, consent_recorded_by=staff, wished_activities=["library"])
    Activity.objects.filter(code="library").update(is_active=False)
    login_verified(client, staff)

    form = client.get(f"/referrals/{referral.pk}/edit/").context["form"]
    sent = {name: form[name].value() for name in form.fields}
    sent = {name: value for name, value in sent.items() if value is not None}
    sent["wished_activities"] = ["library", "climbing"]
    response = client.post(f"/referrals/{referral.pk}/edit/", sent)

    assert form["wished_activities"].value() == ["library"]
    assert response.status_code == 302, response.context["form"].errors
    assert {a.code for a in referral.wished_activities.all()} == {"library", "climbing"}


def test_the_referral_page_names_the_wished_activities(client):
    site, staff, _coordinator = site_with_people("fritidsvenn")
    referral = waiting_referral(
        site, consent_recorded_by=staff, wished_activities=["football", "outdoor-life"]
    )
    login_verified(client, staff)

    page = client.get(f"/referrals/{referral.pk}/", HTTP_ACCEPT_LANGUAGE="nb").content.decode()

    assert "Fotball, friluftsliv" in page


def test_an_activity_is_named_in_the_readers_language():
    outdoors = Activity.objects.get(code="outdoor-life")
    with translation.override("nb"):
        assert str(outdoors) == "friluftsliv"
    assert str(outdoors) == "outdoor life"


# Language levels -----------------------------------------------------------------------------


def test_a_level_counts_when_it_is_at_least_the_one_asked_for():
    assert level_at_least("fluent", "conversational") and level_at_least("native", "native")
    assert not level_at_least("basic", "conversational") and not level_at_least("", "basic")
    entries = [{"code": "ar", "level": "basic"}, {"code": "nb", "level": "native"}]
    assert codes_spoken_at_least(entries, "conversational") == ["nb"]


def test_how_someone_speaks_a_language_is_said_in_words():
    assert language_with_level("ar", "fluent") == "speaks Arabic fluently"
    assert language_with_level("ar", "native") == "speaks Arabic as a native language"
    assert language_with_level("so", "basic") == "speaks some Somali"
    assert language_with_level("so", "") == "Somali"


# The old free-text interests -----------------------------------------------------------------


def test_recognisable_interests_became_activities_and_the_rest_was_dropped():
    found = interests_migration.activity_codes_in("Fotball, fjellturer og turer; strikking, Chess")
    assert found == {"football", "outdoor-life", "gaming"}
    assert interests_migration.activity_codes_in("matlaging, baking") == set()


# The maintained list in the back office --------------------------------------------------------


@pytest.fixture
def admin_client(client):
    login_verified(client, UserFactory(username="admin", is_superuser=True, is_staff=True))
    return client


def test_an_activity_in_use_cannot_be_deleted_only_no_longer_offered(admin_client):
    climbing = Activity.objects.get(code="climbing")
    waiting_referral(site_with_people()[0], wished_activities=["climbing"])
    url = f"/admin/programmes/activity/{climbing.pk}/delete/"

    page = admin_client.get(url, **EN).content.decode()
    admin_client.post(url, {"post": "yes"}, **EN)
    admin_client.post(
        "/admin/programmes/activity/",
        {"action": "stop_offering", "_selected_action": [climbing.pk]},
        **EN,
    )

    assert "klatring: chosen 1 time. Untick “offered” instead." in page
    climbing.refresh_from_db()
    assert climbing.is_active is False


def test_an_activity_nobody_chose_can_be_deleted(admin_client):
    unused = Activity.objects.create(code="chess", name_nb="sjakk", name_en="chess")

    response = admin_client.post(f"/admin/programmes/activity/{unused.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Activity.objects.filter(code="chess").exists()
