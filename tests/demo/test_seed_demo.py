import datetime
import io
from collections import Counter

import pytest
import time_machine
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count, Q
from django.test import RequestFactory
from django.utils import timezone

from demo import builder as demo
from demo import history as demo_history
from matching import charts
from matching.models import Agreement, CheckIn, Match, ProposalPair, UnmatchedReferral
from matching.selectors import dashboard_map_for, matches_per_month_for
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
from tests import shared_rows
from tests.clock import NOON
from tests.matching.lifecycle_invariants import assert_lifecycle_invariants
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


@pytest.fixture(scope="module")
def demo_rows(loaded_geodata, django_db_blocker):
    with shared_rows.module_rows(
        "output", lambda: seed_demo("--seed", "7"), django_db_blocker
    ) as rows:
        yield rows


@pytest.fixture
def output(demo_rows, db) -> str:
    """What seed_demo printed; the demo it built is in the database, built once per module."""
    return demo_rows.for_test()


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


@pytest.mark.slow
def test_same_seed_builds_the_same_rows_at_any_time_of_day_and_another_seed_does_not():
    """Both builds on one day (a run passing midnight would build two different days), in
    the morning and the evening: a year of history is drawn at times of day, counted from
    the minute of the build, and must not come out otherwise later the same day."""
    with time_machine.travel(NOON.replace(hour=8), tick=True):
        seed_demo("--seed", "3")
        first = fingerprint()
    with time_machine.travel(NOON.replace(hour=21, minute=30), tick=True):
        seed_demo("--seed", "3", "--reset")
        again = fingerprint()
    seed_demo("--seed", "4", "--reset")
    other = fingerprint()

    assert first == again
    assert other["referrals"] != first["referrals"]
    assert other["volunteers"] != first["volunteers"]


def test_scale_multiplies_the_people_and_keeps_the_centres_and_logins():
    output = seed_demo("--seed", "5", "--scale", "2")

    assert Volunteer.objects.count() == 2 * demo.VOLUNTEER_COUNT
    assert Referral.objects.filter(matches=None).count() == 2 * demo.REFERRAL_COUNT
    assert CrisisCentre.objects.count() == 16
    assert "Created 16 crisis centres, 32 programme sites, 1200 volunteers" in output
    login = RequestFactory().post("/accounts/login/")  # django-axes needs the request
    assert authenticate(login, username="koordinator-oslo", password=demo.DEMO_PASSWORD)


@pytest.mark.parametrize("scale", ["0", "21", "ten"])
def test_a_scale_out_of_range_is_refused_before_anything_is_written(scale):
    with pytest.raises(CommandError, match="--scale"):
        seed_demo("--scale", scale)
    assert not Volunteer.objects.exists()


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
    # 150 referrals of today, and one for each match of the year of history.
    assert Referral.objects.filter(matches=None).count() == 150
    assert Referral.objects.count() == 150 + Match.objects.count()
    assert Match.objects.count() >= 0.8 * demo_history.HISTORY_MATCHES
    assert "Created 16 crisis centres, 32 programme sites, 600 volunteers" in output


def test_referrals_mostly_wait_since_at_most_120_days_and_families_have_children(output):
    referrals = list(Referral.objects.select_related("site__programme"))
    today = list(Referral.objects.filter(matches=None))
    statuses = [r.status for r in today]
    oldest = timezone.now() - datetime.timedelta(days=120, minutes=1)
    this_year = timezone.localdate().year

    # Today's run at the first centre proposes some; the year of history matched the rest.
    assert set(statuses) == {"submitted", "waiting", "proposed", "withdrawn"}
    assert {r.status for r in referrals} - set(statuses) == {"matched", "active", "closed"}
    assert statuses.count("waiting") > len(today) / 2
    assert all(r.waiting_since >= oldest for r in referrals if r.status == "waiting")
    for referral in referrals:
        if referral.programme.slug == "fritidsvenn":
            years = referral.children_birth_years
            assert years and all(this_year - 16 <= year <= this_year - 2 for year in years)


def test_activities_wished_and_offered_and_some_languages_spoken_only_a_little(output):
    this_year = timezone.localdate().year
    volunteers = Volunteer.objects.annotate(offered=Count("activities"))
    drawn_today = ("submitted", "waiting", "proposed", "withdrawn")
    referrals = Referral.objects.filter(status__in=drawn_today).select_related("site__programme")
    wished = dict(referrals.annotate(n=Count("wished_activities")).values_list("pk", "n"))
    basic = [v for v in volunteers if any(e["level"] == "basic" for e in v.languages)]

    assert {v.offered for v in volunteers} <= {1, 2, 3, 4} and max(
        v.offered for v in volunteers
    ) == 4
    assert 0.05 * len(volunteers) < len(basic) < 0.2 * len(volunteers)
    for referral in referrals:
        least, most = (1, 3) if referral.programme.slug == "fritidsvenn" else (0, 2)
        assert least <= wished[referral.pk] <= most
        if referral.programme.slug == "fritidsvenn":
            assert any(6 <= this_year - year <= 17 for year in referral.children_birth_years)
    shared = ProposalPair.objects.filter(proposal__status="pending").exclude(shared_activities=[])
    assert shared.exists()


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


@pytest.mark.slow
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


def test_demo_staff_have_names_the_header_greets_them_by(output):
    staff = User.objects.filter(is_staff=True, is_superuser=False)
    names = [user.get_full_name() for user in staff]

    assert len(names) == 32 and all(" " in name for name in names)
    assert len(set(names)) == len(names)


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


@pytest.mark.slow
def test_reset_also_removes_rows_built_on_the_demo(output):
    staff = User.objects.get(username="krisesenter-oslo")
    outside = ReferralFactory(consent_recorded_by=staff, municipality=municipality("0301"))

    seed_demo("--reset")

    assert not Referral.objects.filter(pk=outside.pk).exists()
    assert Referral.objects.filter(matches=None).count() == 150


def test_a_year_of_history_fills_every_month_of_the_coordinators_charts(output):
    coordinator = User.objects.get(username="koordinator-oslo")

    months = matches_per_month_for(coordinator, timezone.localdate())

    assert sum(row["matches"] > 0 for row in months) >= 10
    assert sum(row["median_wait_days"] is not None for row in months) >= 10
    assert "A year of history:" in output


def test_the_history_keeps_the_lifecycle_rules_and_has_endings_and_answers(output):
    assert_lifecycle_invariants()
    ended = set(Match.objects.filter(status="closed").values_list("closure_reason", flat=True))
    assert {"completed", "participant_ended"} <= ended or {"completed", "moved"} <= ended
    assert Match.objects.filter(status="active").exists()
    assert not Agreement.objects.filter(match__status="active", countersigned_at=None).exists()
    answered = CheckIn.objects.exclude(answered_at=None)
    wellbeing = Counter(answered.values_list("wellbeing", flat=True))
    assert wellbeing["good"] > wellbeing["mixed"] > 0 and wellbeing["poor"] > 0


def test_the_demo_coordinator_has_check_ins_that_need_attention(output):
    oslo = CheckIn.objects.filter(
        match__referral__site__crisis_centre__name="Krisesenteret i Oslo-regionen",
        match__status="active",
        handled_at=None,
    )
    contact = oslo.get(wants_contact=True)
    assert contact.note and contact.answered_at
    assert oslo.filter(wellbeing="poor").count() >= 2
    assert oslo.filter(answered_at=None, due_on__lt=timezone.localdate()).count() == 1


def test_todays_oslo_proposals_have_real_distances_and_some_referrals_wait(output):
    oslo = Q(proposal__referral__site__crisis_centre__name="Krisesenteret i Oslo-regionen")
    pairs = ProposalPair.objects.filter(oslo, proposal__status="pending")
    distances = list(pairs.values_list("distance_km", flat=True))

    assert len(distances) >= 10
    assert min(distances) > 0.1  # not one point for all of Oslo any more
    assert sum(d < 1 for d in distances) <= 2
    assert UnmatchedReferral.objects.filter(run__site__crisis_centre__name__contains="Oslo")


def test_a_one_centre_coordinators_map_starts_on_their_catchment_not_all_of_norway(output):
    coordinator = User.objects.get(username="koordinator-oslo")
    data = dashboard_map_for(coordinator)
    frame = charts.frame_around(data["catchment"])

    assert frame != charts.NORWAY
    assert frame.lat_max - frame.lat_min < (charts.LAT_MAX - charts.LAT_MIN) / 4
    for lat, lon in data["served"]:
        assert charts.in_view(charts.project(lat, lon, frame))
    tromso = Municipality.objects.get(number="5501")
    assert not charts.in_view(charts.project(tromso.lat, tromso.lon, frame))
    admin = User.objects.get(username="admin")
    assert charts.frame_around(dashboard_map_for(admin)["catchment"]) == charts.NORWAY


# Tests that seed on their own come last: a test that does not use ``output`` closes the
# demo shared by the tests before it (tests/shared_rows.py).


def test_ressursvenn_volunteers_are_mostly_women():
    seed_demo()
    volunteers = Volunteer.objects.filter(programmes__slug="ressursvenn")
    women = volunteers.filter(gender="female")

    assert women.count() / volunteers.count() >= 0.85


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
