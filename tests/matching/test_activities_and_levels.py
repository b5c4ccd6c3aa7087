"""Matching on leisure and real language skills (issue 17), through real match runs: a volunteer
who can do what the family wishes for is proposed before an otherwise equal one; a language
spoken below the programme's level is not shared; the run page says both in words; and a
coordinator's hand-made proposal keeps to the same level rule."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from matching.models import MatchRun, UnmatchedReferral
from matching.proposing import proposal_make_by_hand
from matching.selectors import engine_instance_for, rules_for
from matching.services import match_run_start
from tests.auth import login_verified
from tests.matching.factories import ready_volunteer, site_with_people, waiting_referral
from tests.matching.test_hand_proposals import REASON, near_miss_case, only_near_miss
from tests.matching.test_lifecycle_pages import visible_text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def run_for(django_capture_on_commit_callbacks):
    def start(site, coordinator) -> MatchRun:
        with django_capture_on_commit_callbacks(execute=True):
            run = match_run_start(
                programme=site.programme, started_by=coordinator, scope="site", site=site
            )
        run.refresh_from_db()
        assert run.status == MatchRun.Status.SUCCEEDED, run.error
        return run

    return start


def proposed(run: MatchRun) -> dict[int, set[int]]:
    return {
        proposal.referral_id: {pair.volunteer_id for pair in proposal.pairs.all()}
        for proposal in run.proposals.all()
    }


def test_the_volunteers_who_share_the_familys_wishes_are_proposed(run_for):
    site, _staff, coordinator = site_with_people("fritidsvenn")
    family = waiting_referral(site, languages=["ar"], wished_activities=["football", "swimming"])
    # Made first, so a tie broken by order would pick this one: only the activities decide.
    plain = ready_volunteer("fritidsvenn", activities=["library"])
    swimmer = ready_volunteer("fritidsvenn", activities=["swimming", "art"])
    footballer = ready_volunteer("fritidsvenn", activities=["football", "swimming"])

    run = run_for(site, coordinator)

    assert proposed(run) == {family.pk: {swimmer.pk, footballer.pk}}
    pairs = {pair.volunteer_id: pair for pair in run.proposals.get().pairs.all()}
    assert pairs[footballer.pk].shared_activities == ["football", "swimming"]
    assert pairs[swimmer.pk].shared_activities == ["swimming"]
    assert plain.pk not in pairs


def test_the_engine_gets_each_volunteers_levels_and_both_sides_activities():
    site, _staff, coordinator = site_with_people("fritidsvenn")
    waiting_referral(site, languages=["ar"], wished_activities=["dance"])
    ready_volunteer(
        "fritidsvenn",
        languages=[{"code": "nb", "level": "native"}, {"code": "ar", "level": "basic"}],
        activities=["dance", "music"],
    )
    run = MatchRun.objects.create(
        programme=site.programme,
        scope=MatchRun.Scope.SITE,
        site=site,
        on_date=datetime.date(2026, 11, 30),
        rules={"max_distance_km": 40.0},  # a run saved before the newer rules existed
        started_by=coordinator,
    )

    instance = engine_instance_for(run)

    [volunteer], [referral] = instance.volunteers, instance.referrals
    assert (volunteer.languages, volunteer.language_levels) == (("nb", "ar"), ("native", "basic"))
    assert (volunteer.activities, referral.activities) == (("dance", "music"), ("dance",))
    assert instance.rules.min_language_level == "conversational"
    assert (instance.rules.km_per_shared_activity, instance.rules.max_shared_activities) == (4, 3)


def test_a_volunteer_with_basic_arabic_is_not_proposed_for_an_arabic_only_referral(run_for):
    site, _staff, coordinator = site_with_people()
    referral = waiting_referral(site, languages=["ar"])
    ready_volunteer(languages=[{"code": "nb", "level": "native"}, {"code": "ar", "level": "basic"}])

    run = run_for(site, coordinator)

    assert proposed(run) == {}
    unmatched = UnmatchedReferral.objects.get(run=run, referral=referral)
    assert unmatched.reason == "no_shared_language"
    assert (unmatched.facts["speakers_below_level"], unmatched.facts["required_level"]) == (
        1,
        "conversational",
    )


def test_a_programme_that_asks_only_for_basic_takes_basic_arabic(run_for):
    site, _staff, coordinator = site_with_people()
    site.programme.min_language_level = "basic"
    site.programme.save()
    referral = waiting_referral(site, languages=["ar"])
    volunteer = ready_volunteer(
        languages=[{"code": "nb", "level": "native"}, {"code": "ar", "level": "basic"}]
    )

    run = run_for(site, coordinator)

    assert run.rules["min_language_level"] == "basic"
    assert proposed(run) == {referral.pk: {volunteer.pk}}


def test_the_run_page_says_how_well_each_shared_language_is_spoken_and_what_they_share(
    run_for, client
):
    site, _staff, coordinator = site_with_people("fritidsvenn")
    waiting_referral(site, languages=["ar", "nb"], wished_activities=["football", "swimming"])
    fluent = [{"code": "ar", "level": "fluent"}, {"code": "nb", "level": "native"}]
    ready_volunteer("fritidsvenn", languages=fluent, activities=["swimming", "football"])
    ready_volunteer("fritidsvenn", languages=[{"code": "nb", "level": "conversational"}])
    run = run_for(site, coordinator)
    login_verified(client, coordinator)

    text = visible_text(client.get(f"/coordinator/runs/{run.pk}/", **EN))
    bokmal = visible_text(client.get(f"/coordinator/runs/{run.pk}/", HTTP_ACCEPT_LANGUAGE="nb"))

    assert "speaks Arabic fluently, speaks Norwegian bokmål as a native language" in text
    assert "shared activities: football, swimming" in text
    assert "speaks Norwegian bokmål well enough for a conversation" in text
    assert "Activities wished for football, swimming" in text
    assert "fotball, svømming" in bokmal


def test_rules_for_a_programme_carry_its_language_level_and_the_activity_bonus():
    site, _staff, _coordinator = site_with_people("fritidsvenn")

    rules = rules_for(site.programme)

    assert rules["min_language_level"] == "conversational"
    assert (rules["km_per_shared_activity"], rules["max_shared_activities"]) == (4.0, 3)


def test_a_hand_made_proposal_keeps_to_the_level_rule():
    unmatched, _staff, coordinator = near_miss_case()
    volunteer = only_near_miss(unmatched)
    # Since the run, the volunteer has said they speak Arabic only a little.
    volunteer.languages = [{"code": "ar", "level": "basic"}]
    volunteer.save()

    with pytest.raises(ValidationError) as caught:
        proposal_make_by_hand(unmatched, [volunteer], REASON, coordinator)

    assert caught.value.message_dict["volunteers"] == [
        f"{volunteer.display_name} speaks none of the participant's languages well enough: "
        "this programme asks for at least “conversational”."
    ]


def test_a_hand_made_proposal_records_the_shared_activities():
    unmatched, _staff, coordinator = near_miss_case(wished_activities=["cycling", "music"])
    volunteer = only_near_miss(unmatched)
    volunteer.activities.set(volunteer.activities.model.objects.filter(code="music"))

    proposal = proposal_make_by_hand(unmatched, [volunteer], REASON, coordinator)

    pair = proposal.pairs.get()
    assert pair.shared_activities == ["music"]
    assert pair.cost == pytest.approx(pair.distance_km - 2.5 * 2.0 - 4.0)
