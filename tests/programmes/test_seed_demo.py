import datetime
import io

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from django.utils import timezone

from programmes import demo
from programmes.models import (
    County,
    CrisisCentre,
    Municipality,
    Organisation,
    PostalCode,
    Programme,
    ProgrammeSite,
    Referral,
)
from programmes.validators import minutes_of
from tests.programmes.factories import ReferralFactory, municipality
from volunteers.models import VettingRecord, Volunteer
from volunteers.selectors import volunteers_eligible_for

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture(scope="module", autouse=True)
def loaded_geodata(django_db_setup, django_db_blocker):
    """seed_demo needs the geodata. Loaded once and committed: the loader changes nothing
    when it is already there, and reloading it for every test costs more than the test."""
    with django_db_blocker.unblock():
        call_command("load_geodata", stdout=io.StringIO())


def seed_demo(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def output() -> str:
    return seed_demo("--seed", "7")


def fingerprint() -> dict[str, list]:
    """What a seed decides, without primary keys or dates (dates follow today)."""
    return {
        "referrals": sorted(
            Referral.objects.values_list(
                "alias", "status", "site__crisis_centre__name", "postal_code__code", "languages"
            )
        ),
        "volunteers": sorted(
            Volunteer.objects.values_list(
                "user__username", "status", "home_postal_code__code", "gender", "capacity"
            )
        ),
    }


def test_same_seed_builds_the_same_rows_and_another_seed_does_not():
    seed_demo("--seed", "3")
    first = fingerprint()
    seed_demo("--seed", "3", "--reset")
    again = fingerprint()
    seed_demo("--seed", "4", "--reset")
    other = fingerprint()

    assert first == again
    assert other["referrals"] != first["referrals"]
    assert other["volunteers"] != first["volunteers"]


def test_builds_both_programmes_with_their_rules(output):
    ressursvenn = Programme.objects.get(slug="ressursvenn")
    fritidsvenn = Programme.objects.get(slug="fritidsvenn")

    assert (ressursvenn.volunteers_per_referral, ressursvenn.min_commitment_months) == (1, 6)
    assert ressursvenn.required_politiattest_type == "ordinary"
    assert not ressursvenn.requires_children
    assert (fritidsvenn.volunteers_per_referral, fritidsvenn.min_commitment_months) == (2, 12)
    assert fritidsvenn.required_politiattest_type == "children"
    assert "first_aid" in fritidsvenn.required_vetting
    assert fritidsvenn.requires_children


def test_every_municipality_is_served_by_exactly_one_centre_of_ten_to_thirty_odd(output):
    centres = CrisisCentre.objects.prefetch_related("municipalities_served")
    served = [m.number for c in centres for m in c.municipalities_served.all()]

    assert 12 <= len(centres) <= 18
    assert sorted(served) == sorted(Municipality.objects.values_list("number", flat=True))
    assert all(10 <= c.municipalities_served.count() <= 32 for c in centres)
    assert all(c.host_municipality in c.municipalities_served.all() for c in centres)


def test_each_centre_has_both_sites_run_by_its_local_organisations(output):
    assert ProgrammeSite.objects.count() == 2 * CrisisCentre.objects.count()
    for site in ProgrammeSite.objects.select_related("programme", "organisation"):
        expected = {"ressursvenn": "sanitetsforening", "fritidsvenn": "redd_barna"}
        assert site.organisation.kind == expected[site.programme.slug]
    assert Organisation.objects.filter(name="Oslo Sanitetsforening").exists()
    assert Organisation.objects.filter(name="Redd Barna Tromsø").exists()


def test_counts_and_mixes_are_in_the_expected_ranges(output):
    volunteers = list(Volunteer.objects.all())
    active = [v for v in volunteers if v.status == Volunteer.Status.ACTIVE]
    with_two = [v for v in volunteers if v.capacity == 2]
    speaks_nb = [v for v in volunteers if "nb" in v.language_codes]

    assert len(volunteers) == 600
    assert 0.7 <= len(active) / len(volunteers) <= 0.9
    assert 0.08 <= len(with_two) / len(volunteers) <= 0.25
    assert len(speaks_nb) / len(volunteers) >= 0.95
    assert {v.status for v in volunteers} == set(Volunteer.Status.values)
    assert Referral.objects.count() == 150
    assert "Created 16 crisis centres, 32 programme sites, 600 volunteers" in output


def test_ressursvenn_volunteers_are_mostly_women():
    seed_demo()
    volunteers = Volunteer.objects.filter(programmes__slug="ressursvenn")
    women = volunteers.filter(gender="female")

    assert women.count() / volunteers.count() >= 0.85


def test_referrals_mostly_wait_since_at_most_120_days_and_families_have_children(output):
    referrals = list(Referral.objects.select_related("site__programme"))
    statuses = [r.status for r in referrals]
    oldest = timezone.now() - datetime.timedelta(days=120, minutes=1)
    this_year = timezone.localdate().year

    assert set(statuses) == {"submitted", "waiting", "withdrawn"}
    assert statuses.count("waiting") > len(referrals) / 2
    assert all(r.waiting_since >= oldest for r in referrals if r.status == "waiting")
    for referral in referrals:
        if referral.programme.slug == "fritidsvenn":
            years = referral.children_birth_years
            assert years and all(this_year - 16 <= year <= this_year - 2 for year in years)


def test_every_referral_lives_where_its_sites_centre_serves_at_a_real_postal_code(output):
    referrals = Referral.objects.select_related("postal_code", "site__crisis_centre")
    served = {
        c.pk: set(c.municipalities_served.values_list("pk", flat=True))
        for c in CrisisCentre.objects.all()
    }
    for referral in referrals:
        assert referral.postal_code is not None
        assert referral.postal_code.municipality_id == referral.municipality_id
        assert referral.municipality_id in served[referral.site.crisis_centre_id]


def test_every_volunteer_lives_at_a_real_postal_code_near_their_organisation(output):
    real_codes = set(PostalCode.objects.values_list("pk", flat=True))
    volunteers = Volunteer.objects.select_related("home_postal_code", "organisation")
    for volunteer in volunteers:
        assert volunteer.home_postal_code_id in real_codes
        centre = volunteer.organisation.programme_sites.get().crisis_centre
        assert centre.municipalities_served.filter(
            pk=volunteer.home_postal_code.municipality_id
        ).exists()


def test_availability_is_evenings_and_weekends_one_to_three_slots(output):
    for volunteer in Volunteer.objects.all():
        assert 1 <= len(volunteer.availability) <= 3
        for slot in volunteer.availability:
            assert slot["day"] >= 5 or minutes_of(slot["start"]) >= 16 * 60


def test_volunteers_with_expired_politiattest_are_not_eligible(output):
    today = timezone.localdate()
    expired = VettingRecord.objects.filter(kind="politiattest", expires_on__lt=today)
    expired_active = set(
        expired.filter(volunteer__status="active").values_list("volunteer", flat=True)
    )
    expiring = VettingRecord.objects.filter(
        kind="politiattest", expires_on__range=(today, today + datetime.timedelta(days=30))
    )

    assert 0.03 <= expired.count() / Volunteer.objects.count() <= 0.07
    assert expired_active and expiring.exists()
    for programme in Programme.objects.all():
        eligible = set(volunteers_eligible_for(programme, today).values_list("pk", flat=True))
        assert eligible
        assert not eligible & expired_active


def test_generated_rows_pass_model_validation(output):
    rows = [
        *Volunteer.objects.select_related("user", "home_postal_code"),
        *Referral.objects.select_related("site__programme", "postal_code", "municipality"),
        *VettingRecord.objects.all()[:600],
        *CrisisCentre.objects.all(),
        *Organisation.objects.all(),
        *ProgrammeSite.objects.all(),
        *Programme.objects.all(),
    ]
    for row in rows:
        row.full_clean()


def test_users_have_their_roles_and_the_printed_logins_work(output):
    coordinator = User.objects.get(username="koordinator-oslo")
    staff = User.objects.get(username="krisesenter-oslo")
    volunteer_username = next(
        line.split()[1] for line in output.splitlines() if line.strip().startswith("volunteer")
    )
    volunteer = Volunteer.objects.get(user__username=volunteer_username)

    assert User.objects.get(username="admin").is_superuser
    assert coordinator.is_staff and coordinator.groups.filter(name="Coordinators").exists()
    assert coordinator.coordinated_sites.count() == 2
    assert staff.is_staff and staff.crisis_centres.get().name == "Krisesenteret i Oslo-regionen"
    assert staff.groups.filter(name="Crisis centre staff").exists()
    assert not User.objects.filter(volunteer__isnull=False, is_staff=True).exists()
    assert volunteer.status == "active" and volunteer.municipality.name == "Oslo"
    login = RequestFactory().post("/accounts/login/")  # django-axes needs the request
    assert authenticate(login, username=volunteer_username, password=demo.DEMO_PASSWORD)
    assert authenticate(login, username="koordinator-oslo", password=demo.DEMO_PASSWORD)


def test_groups_get_permissions_for_their_work_in_the_admin(output):
    coordinator = User.objects.get(username="koordinator-oslo")
    staff = User.objects.get(username="krisesenter-oslo")

    assert coordinator.has_perms(["programmes.view_referral", "volunteers.add_vettingrecord"])
    assert not coordinator.has_perm("programmes.change_referral")
    assert staff.has_perms(["programmes.change_referral", "programmes.view_postalcode"])
    assert not staff.has_perm("volunteers.view_volunteer")


def test_running_again_without_reset_changes_nothing(output):
    before = fingerprint(), User.objects.count(), VettingRecord.objects.count()

    again = seed_demo("--seed", "8")

    assert "already exists" in again
    assert (fingerprint(), User.objects.count(), VettingRecord.objects.count()) == before


def test_reset_also_removes_rows_built_on_the_demo(output):
    staff = User.objects.get(username="krisesenter-oslo")
    outside = ReferralFactory(consent_recorded_by=staff, municipality=municipality("0301"))

    seed_demo("--reset")

    assert not Referral.objects.filter(pk=outside.pk).exists()
    assert Referral.objects.count() == 150


def test_existing_admin_account_is_left_alone():
    User.objects.create_user("admin", password="their-own")

    output = seed_demo()

    login = RequestFactory().post("/accounts/login/")  # django-axes needs the request
    assert authenticate(login, username="admin", password="their-own")
    assert "existing account" in output


def test_without_geodata_it_refuses_and_says_how_to_load_it():
    PostalCode.objects.all().delete()
    Municipality.objects.all().delete()
    County.objects.all().delete()

    with pytest.raises(CommandError, match="load_geodata"):
        seed_demo()
    assert not CrisisCentre.objects.exists()
