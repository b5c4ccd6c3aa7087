"""Where one more volunteer would help: the calculation against re-solving, its life as a
background task (after runs, on demand, a dying worker, a redelivered task) and its page."""

import dataclasses
import datetime

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from matching import engine, recruitment
from matching.engine_keys import referral_key
from matching.models import MatchRun, RecruitmentSweep
from matching.selectors import engine_instance_for
from matching.tasks import match_run_task, recruitment_sweep_queue
from outbox.models import OutboxTask
from programmes.models import AuditLogEntry, Municipality
from tests.auth import login_verified
from tests.matching.factories import (
    MatchRunFactory,
    ready_volunteer,
    site_with_people,
    waiting_referral,
)
from tests.programmes.factories import CrisisCentreFactory, municipality
from tests.resilience.faults import broker_unreachable

pytestmark = pytest.mark.django_db

OSLO, BAERUM, DRAMMEN, ASKER = "0301", "3201", "3301", "3203"
SO = ["so", "nb"]
WEDNESDAY_EVENING = [{"day": 2, "start": "17:00", "end": "20:00"}]
SATURDAY = [{"day": 5, "start": "11:00", "end": "15:00"}]


@pytest.fixture(autouse=True)
def english_pages(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


def catchment_site():
    """An Oslo site whose centre serves Oslo, Bærum, Drammen and Asker."""
    site, staff, coordinator = site_with_people()
    centre = site.crisis_centre
    centre.municipalities_served.set([municipality(n) for n in (OSLO, BAERUM, DRAMMEN, ASKER)])
    return site, staff, coordinator


def waiting_in(site, number, **fields):
    fields.setdefault("languages", SO)
    fields.setdefault("availability", WEDNESDAY_EVENING)
    return waiting_referral(site, municipality=municipality(number), **fields)


def calculated(site) -> RecruitmentSweep:
    sweep = recruitment_sweep_queue(site.programme, site)
    return recruitment.sweep_execute(sweep.pk)


def test_every_place_and_profile_equals_re_solving_with_that_volunteer_added():
    site, _staff, _coordinator = catchment_site()
    waiting_in(site, DRAMMEN)
    waiting_in(site, DRAMMEN, availability=SATURDAY)
    waiting_in(site, ASKER, languages=["ar"], volunteer_gender="male")
    waiting_in(site, OSLO)
    ready_volunteer(code="0150", languages=[{"code": "so", "level": "native"}])  # in Oslo

    sweep = calculated(site)

    assert sweep.status == RecruitmentSweep.Status.SUCCEEDED and sweep.waiting == 4
    instance = engine_instance_for(recruitment._run_like(sweep))
    baseline = engine.solve(instance)
    matched = {a.referral for a in baseline.assignments}
    found = {(gap["municipality"], gap["profile"]): gap for gap in sweep.gaps}
    profiles = [recruitment.Profile.from_json(p) for p in sweep.profiles]
    level = instance.rules.min_language_level
    for place in Municipality.objects.filter(number__in=(OSLO, BAERUM, DRAMMEN, ASKER)):
        for n, profile in enumerate(profiles):
            added = dataclasses.replace(
                profile.volunteer(n, level),
                lat=place.lat,
                lon=place.lon,
                municipality=place.number,
            )
            result = engine.solve(
                dataclasses.replace(instance, volunteers=(*instance.volunteers, added))
            )
            now_matched = {a.referral for a in result.assignments}
            extra = len(now_matched) - len(matched)
            gap = found.get((place.number, n))
            assert (gap["extra"] if gap else 0) == extra, (place.name, profile)
            if gap:
                newly = sorted(now_matched - matched)
                assert [referral_key(pk) for pk in gap["referrals"]] == newly
    assert max(gap["extra"] for gap in sweep.gaps) >= 1
    extras = [gap["extra"] for gap in sweep.gaps]
    assert extras == sorted(extras, reverse=True)


def test_profiles_cover_each_language_both_weeks_and_the_wished_gender():
    site, _staff, _coordinator = catchment_site()
    waiting_in(site, DRAMMEN, languages=["so", "nb"])
    waiting_in(site, ASKER, languages=["ar"], volunteer_gender="male")

    sweep = RecruitmentSweep(programme=site.programme, site=site)
    instance = engine_instance_for(recruitment._run_like(sweep))
    profiles = recruitment.profiles_for(instance.referrals)

    assert {(p.language, p.week, p.gender) for p in profiles} == {
        (language, week, "male")
        for language in ("ar", "nb", "so")
        for week in ("evenings", "weekends")
    }


def test_a_run_queues_a_calculation_for_its_site():
    site, _staff, _coordinator = catchment_site()
    waiting_in(site, DRAMMEN)
    run = MatchRunFactory(site=site)

    assert match_run_task(run.pk) == MatchRun.Status.SUCCEEDED

    sweep = RecruitmentSweep.objects.get(site=site)
    assert sweep.programme == site.programme and sweep.requested_by is None


def test_a_replacement_search_queues_no_calculation():
    site, _staff, _coordinator = catchment_site()
    waiting_in(site, DRAMMEN)
    replacement = MatchRun(programme=site.programme, scope=MatchRun.Scope.REPLACEMENT)
    assert recruitment.scopes_after(replacement) == []


def test_asking_again_while_one_waits_queues_no_second_calculation():
    site, _staff, coordinator = catchment_site()
    first = recruitment_sweep_queue(site.programme, site, by=coordinator)
    second = recruitment_sweep_queue(site.programme, site, by=coordinator)
    assert first.pk == second.pk and RecruitmentSweep.objects.count() == 1


def test_a_redelivered_task_changes_nothing():
    site, _staff, _coordinator = catchment_site()
    waiting_in(site, DRAMMEN)
    sweep = calculated(site)
    finished_at = sweep.finished_at

    again = recruitment.sweep_execute(sweep.pk)

    assert again.status == RecruitmentSweep.Status.SUCCEEDED and again.finished_at == finished_at


def test_a_calculation_whose_worker_died_fails_visibly_and_can_be_started_again(client):
    site, _staff, coordinator = catchment_site()
    waiting_in(site, DRAMMEN)
    dead = recruitment_sweep_queue(site.programme, site)
    RecruitmentSweep.objects.filter(pk=dead.pk).update(
        status=RecruitmentSweep.Status.RUNNING,
        heartbeat_at=timezone.now() - datetime.timedelta(hours=1),
    )
    login_verified(client, coordinator)

    page = client.get("/coordinator/recruitment/")

    dead.refresh_from_db()
    assert dead.status == RecruitmentSweep.Status.FAILED
    assert "stopped before it was done" in page.content.decode()
    client.post("/coordinator/recruitment/recalculate/", {"site": site.pk})
    assert RecruitmentSweep.objects.filter(site=site).exclude(pk=dead.pk).count() == 1


def test_a_calculation_waiting_in_the_outbox_while_redis_is_down_is_not_taken_for_dead(
    django_capture_on_commit_callbacks,
):
    site, _staff, coordinator = catchment_site()
    with broker_unreachable(), django_capture_on_commit_callbacks(execute=True):
        sweep = recruitment_sweep_queue(site.programme, site, by=coordinator)
    assert OutboxTask.objects.get().args == [sweep.pk]
    later = timezone.now() + datetime.timedelta(minutes=settings.MATCH_RUN_STALE_MINUTES + 1)

    assert recruitment.sweeps_fail_stale(later) == 0
    sweep.refresh_from_db()
    assert sweep.status == RecruitmentSweep.Status.QUEUED
    # The broker is back and the task handed over: then the worker takes it.
    OutboxTask.objects.update(sent_at=timezone.now())
    recruitment.sweep_execute(sweep.pk)
    sweep.refresh_from_db()
    assert sweep.status == RecruitmentSweep.Status.SUCCEEDED


def test_a_dead_worker_finishing_late_saves_nothing():
    site, _staff, _coordinator = catchment_site()
    waiting_in(site, DRAMMEN)
    sweep = recruitment_sweep_queue(site.programme, site)
    claimed = recruitment._claim(sweep.pk)
    assert claimed is not None
    RecruitmentSweep.objects.filter(pk=sweep.pk).update(status=RecruitmentSweep.Status.FAILED)

    recruitment._save(claimed, 1, [], [], [])

    sweep.refresh_from_db()
    assert sweep.status == RecruitmentSweep.Status.FAILED and sweep.gaps == []


def test_only_the_latest_result_per_site_is_kept():
    site, _staff, _coordinator = catchment_site()
    waiting_in(site, DRAMMEN)
    first = calculated(site)
    second = calculated(site)
    assert list(RecruitmentSweep.objects.filter(site=site)) == [second]
    assert first.pk != second.pk


def test_the_page_ranks_places_with_aliases_a_recruitment_text_and_logs_the_reads(client):
    site, _staff, coordinator = catchment_site()
    referral = waiting_in(site, DRAMMEN)
    calculated(site)
    login_verified(client, coordinator)
    before = AuditLogEntry.objects.count()

    response = client.get("/coordinator/recruitment/")
    page = response.content.decode()

    assert "Drammen" in page and referral.alias in page
    (row,) = [r for r in response.context["rows"] if r["gap"].profile.language == "so"]
    assert row["gap"].profile.week == "evenings" and row["gap"].extra == 1
    assert "Drammen" in row["gap"].place_names
    # Four places: the two most populous, "or nearby".
    text = "We need a volunteer in Oslo, Bærum or nearby who speaks Somali and has time on "
    assert text + "weekday evenings." in page
    assert "Krisesenteret" not in page.split("Text for a recruitment post")[1]
    logged = AuditLogEntry.objects.order_by("pk")[before:]
    assert {(e.object_id, e.action) for e in logged} == {(referral.pk, AuditLogEntry.Action.ACCESS)}


def test_the_page_in_bokmal(client):
    site, _staff, coordinator = catchment_site()
    waiting_in(site, DRAMMEN)
    calculated(site)
    login_verified(client, coordinator)

    page = client.get("/coordinator/recruitment/", HTTP_ACCEPT_LANGUAGE="nb").content.decode()

    assert "som snakker somali og har tid på hverdagskvelder." in page
    assert "Hvor én frivillig til ville hjulpet" in page


def test_another_sites_coordinator_cannot_see_it_and_a_volunteer_is_refused(client):
    site, _staff, _coordinator = catchment_site()
    waiting_in(site, DRAMMEN)
    calculated(site)
    _other, _other_staff, other_coordinator = site_with_people(name="Bodø")
    login_verified(client, other_coordinator)
    assert client.get(f"/coordinator/recruitment/?site={site.pk}").status_code == 404
    refused = client.post("/coordinator/recruitment/recalculate/", {"site": site.pk})
    assert refused.status_code == 404
    volunteer = ready_volunteer()
    client.force_login(volunteer.user)
    assert client.get("/coordinator/recruitment/").status_code == 403


def test_an_admin_sees_the_whole_programme(client, django_user_model):
    site, _staff, _coordinator = catchment_site()
    waiting_in(site, DRAMMEN)
    sweep = recruitment_sweep_queue(site.programme, None)
    recruitment.sweep_execute(sweep.pk)
    admin = django_user_model.objects.create_user("admin-r", is_superuser=True, is_staff=True)
    login_verified(client, admin)

    page = client.get(f"/coordinator/recruitment/?programme={site.programme.slug}")

    assert page.status_code == 200
    sweep.refresh_from_db()
    assert sweep.places == Municipality.objects.count()
    assert any(
        DRAMMEN in {m.number for m in row["gap"].municipalities} for row in page.context["rows"]
    )


def test_nothing_waiting_says_so(client):
    site, _staff, coordinator = catchment_site()
    calculated(site)
    login_verified(client, coordinator)
    page = client.get("/coordinator/recruitment/").content.decode()
    assert "No referrals are waiting here" in page


def _queries_for_page(client) -> int:
    client.get("/coordinator/recruitment/")  # the session's first write after login, once
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/coordinator/recruitment/").status_code == 200
    return len(queries)


def test_the_page_runs_as_many_queries_for_many_rows_as_for_few(client):
    site, _staff, coordinator = catchment_site()
    waiting_in(site, DRAMMEN)
    calculated(site)
    login_verified(client, coordinator)
    few = _queries_for_page(client)
    for number in (DRAMMEN, ASKER, BAERUM) * 3:
        waiting_in(site, number, languages=["ar", "nb"], availability=SATURDAY)
    sweep = calculated(site)
    assert len(sweep.gaps) > 3

    assert _queries_for_page(client) == few


def test_a_centre_serving_only_its_host_tries_that_one_place():
    site, _staff, _coordinator = site_with_people(name="Tromsø")
    site.crisis_centre = CrisisCentreFactory(host_municipality=municipality("5501"))
    site.save()
    waiting_in(site, "5501")
    assert calculated(site).places == 1
