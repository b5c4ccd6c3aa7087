"""Proposals a coordinator makes by hand from a run's near misses (matching/proposing.py): what
may be relaxed, what never, what happens when someone else acted first, and that the proposal
then goes through the same review as the engine's."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from matching import lifecycle
from matching.lifecycle import MatchConflict
from matching.models import NearMiss, Proposal, RejectedPair, UnmatchedReferral
from matching.proposing import proposal_make_by_hand
from programmes.models import Referral
from tests.auth import login_verified
from tests.matching.factories import (
    MatchRunFactory,
    ready_volunteer,
    site_with_people,
    waiting_referral,
)
from tests.programmes.factories import municipality
from volunteers.models import VettingRecord, Volunteer

pytestmark = pytest.mark.django_db

HAMAR = "2317"  # about 100 km from Oslo, beyond the 40 km limit
REASON = "Hun kan ta toget, og de snakker samme språk."


def near_miss_case(programme_slug="ressursvenn", volunteers=None, **referral_fields):
    """A run that left a referral in Oslo waiting, with near misses: by default one volunteer
    in Hamar, beyond the distance limit."""
    site, staff, coordinator = site_with_people(programme_slug)
    referral_fields.setdefault("languages", ["ar"])
    referral = waiting_referral(site, **referral_fields)
    run = MatchRunFactory(
        site=site,
        rules={
            "max_distance_km": 40.0,
            "min_overlap_hours": 1.0,
            "overlap_target_hours": 4.0,
            "km_per_overlap_hour": 2.5,
        },
        started_by=coordinator,
        status="succeeded",
    )
    unmatched = UnmatchedReferral.objects.create(
        run=run,
        referral=referral,
        reason="no_volunteer_within_distance",
        facts={"limit_km": 40, "nearest_km": 99, "nearest_municipality": "3403"},
    )
    if volunteers is None:
        volunteers = [(ready_volunteer(programme_slug, code=HAMAR), "distance")]
    for volunteer, rule in volunteers:
        NearMiss.objects.create(
            unmatched=unmatched,
            volunteer=volunteer,
            rule=rule,
            shortfall=59.0 if rule == "distance" else 0.0,
            distance_km=99.0,
            overlap_minutes=120,
        )
    return unmatched, staff, coordinator


def only_near_miss(unmatched) -> Volunteer:
    return unmatched.near_misses.get().volunteer


def assert_nothing_saved(unmatched):
    assert not Proposal.objects.filter(referral=unmatched.referral_id).exists()
    status = Referral.objects.get(pk=unmatched.referral_id).status
    assert status == Referral.Status.WAITING


def test_a_volunteer_beyond_the_distance_limit_is_proposed_and_approved_like_any_other():
    unmatched, _staff, coordinator = near_miss_case()
    volunteer = only_near_miss(unmatched)

    proposal = proposal_make_by_hand(unmatched, [volunteer], REASON, coordinator)

    assert (proposal.made_by_hand, proposal.hand_reason) == (True, REASON)
    assert proposal.relaxed_rules == ["distance"]
    assert proposal.run_id == unmatched.run_id
    pair = proposal.pairs.get()
    assert pair.volunteer == volunteer and pair.distance_km > 90
    assert pair.shared_languages == ["ar"] and pair.overlap_hours == 2.0
    referral = Referral.objects.get(pk=unmatched.referral_id)
    assert referral.status == Referral.Status.PROPOSED

    match = lifecycle.proposal_approve(proposal, by=coordinator)

    assert match.volunteers.get().volunteer == volunteer
    referral.refresh_from_db()
    assert referral.status == Referral.Status.MATCHED


def test_too_little_shared_time_may_be_relaxed():
    short = ready_volunteer(availability=[{"day": 2, "start": "19:30", "end": "21:00"}])
    unmatched, _staff, coordinator = near_miss_case(volunteers=[(short, "availability")])

    proposal = proposal_make_by_hand(unmatched, [short], REASON, coordinator)

    assert proposal.relaxed_rules == ["availability"]
    assert proposal.pairs.get().overlap_hours == 0.5


def test_fritidsvenn_takes_exactly_two_one_eligible_and_one_near_miss():
    eligible = ready_volunteer("fritidsvenn", code="0151")
    far = ready_volunteer("fritidsvenn", code=HAMAR)
    unmatched, _staff, coordinator = near_miss_case(
        "fritidsvenn", volunteers=[(eligible, "eligible"), (far, "distance")]
    )

    with pytest.raises(ValidationError) as refused:
        proposal_make_by_hand(unmatched, [far], REASON, coordinator)
    assert "volunteers" in refused.value.message_dict
    assert_nothing_saved(unmatched)

    proposal = proposal_make_by_hand(unmatched, [eligible, far], REASON, coordinator)
    assert {p.volunteer_id for p in proposal.pairs.all()} == {eligible.pk, far.pk}
    assert proposal.relaxed_rules == ["distance"]


def test_only_the_runs_near_misses_may_be_proposed():
    unmatched, _staff, coordinator = near_miss_case()
    stranger = ready_volunteer(code="0151")

    with pytest.raises(ValidationError) as refused:
        proposal_make_by_hand(unmatched, [stranger], REASON, coordinator)

    assert "volunteers" in refused.value.message_dict
    assert_nothing_saved(unmatched)


@pytest.mark.parametrize("reason", ["", "   ", "Ring henne på 41234567"])
def test_a_reason_is_required_and_screened(reason):
    unmatched, _staff, coordinator = near_miss_case()

    with pytest.raises(ValidationError) as refused:
        proposal_make_by_hand(unmatched, [only_near_miss(unmatched)], reason, coordinator)

    assert "reason" in refused.value.message_dict
    assert_nothing_saved(unmatched)


def test_another_gender_needs_the_participants_consent_recorded_by_the_centre():
    man = ready_volunteer(gender="male")
    unmatched, staff, coordinator = near_miss_case(
        volunteers=[(man, "gender")], volunteer_gender="female"
    )

    with pytest.raises(ValidationError) as refused:
        proposal_make_by_hand(unmatched, [man], REASON, coordinator)
    assert "crisis centre must first record" in " ".join(refused.value.message_dict["volunteers"])
    assert_nothing_saved(unmatched)

    Referral.objects.filter(pk=unmatched.referral_id).update(
        any_gender_consent_on=timezone.localdate(), any_gender_consent_recorded_by=staff
    )
    proposal = proposal_make_by_hand(unmatched, [man], REASON, coordinator)
    assert proposal.relaxed_rules == ["gender"]


@pytest.mark.parametrize("side", ["participant", "volunteer"])
def test_a_safety_exclusion_is_never_relaxed(side):
    unmatched, _staff, coordinator = near_miss_case()
    volunteer = only_near_miss(unmatched)
    if side == "participant":
        unmatched.referral.avoid_municipalities.add(municipality("3403"))
    else:
        volunteer.avoid_municipalities.add(municipality("0301"))

    with pytest.raises(ValidationError) as refused:
        proposal_make_by_hand(unmatched, [volunteer], REASON, coordinator)

    assert "safety" in " ".join(refused.value.message_dict["volunteers"])
    assert_nothing_saved(unmatched)


def test_an_earlier_rejection_is_never_relaxed():
    unmatched, _staff, coordinator = near_miss_case()
    volunteer = only_near_miss(unmatched)
    RejectedPair.objects.create(
        referral=unmatched.referral, volunteer=volunteer, rejected_by=coordinator, reason="Nei"
    )

    with pytest.raises(ValidationError) as refused:
        proposal_make_by_hand(unmatched, [volunteer], REASON, coordinator)

    assert "turned down" in " ".join(refused.value.message_dict["volunteers"])
    assert_nothing_saved(unmatched)


def test_a_shared_language_is_never_relaxed():
    unmatched, _staff, coordinator = near_miss_case()
    volunteer = only_near_miss(unmatched)
    Volunteer.objects.filter(pk=volunteer.pk).update(languages=[{"code": "pl", "level": "native"}])

    with pytest.raises(ValidationError):
        proposal_make_by_hand(unmatched, [volunteer], REASON, coordinator)

    assert_nothing_saved(unmatched)


def test_the_referral_withdrawn_meanwhile_is_not_proposed():
    unmatched, staff, coordinator = near_miss_case()
    lifecycle.referral_withdraw(
        unmatched.referral, by=staff, reason=Referral.WithdrawalReason.MISTAKE
    )

    with pytest.raises(MatchConflict):
        proposal_make_by_hand(unmatched, [only_near_miss(unmatched)], REASON, coordinator)

    assert not Proposal.objects.exists()


def test_a_volunteer_retired_meanwhile_is_not_proposed():
    unmatched, _staff, coordinator = near_miss_case()
    volunteer = only_near_miss(unmatched)
    Volunteer.objects.filter(pk=volunteer.pk).update(status=Volunteer.Status.RETIRED)

    with pytest.raises(MatchConflict):
        proposal_make_by_hand(unmatched, [volunteer], REASON, coordinator)

    assert_nothing_saved(unmatched)


def test_a_volunteer_whose_vetting_lapsed_or_capacity_went_is_not_proposed():
    unmatched, _staff, coordinator = near_miss_case()
    volunteer = only_near_miss(unmatched)
    Volunteer.objects.filter(pk=volunteer.pk).update(capacity=1, commitments=1)

    with pytest.raises(MatchConflict):
        proposal_make_by_hand(unmatched, [volunteer], REASON, coordinator)

    Volunteer.objects.filter(pk=volunteer.pk).update(commitments=0)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    VettingRecord.objects.filter(volunteer=volunteer).update(expires_on=yesterday)
    with pytest.raises(MatchConflict):
        proposal_make_by_hand(unmatched, [volunteer], REASON, coordinator)
    assert_nothing_saved(unmatched)


def test_when_another_coordinator_proposed_first_the_second_is_refused():
    unmatched, _staff, coordinator = near_miss_case()
    colleague = unmatched.referral.site.coordinators.create(username="colleague")
    volunteer = only_near_miss(unmatched)
    proposal_make_by_hand(unmatched, [volunteer], REASON, colleague)

    with pytest.raises(MatchConflict):
        proposal_make_by_hand(unmatched, [volunteer], "Også jeg", coordinator)

    assert Proposal.objects.filter(referral=unmatched.referral_id).count() == 1


def test_a_coordinator_of_another_site_may_not():
    unmatched, _staff, _coordinator = near_miss_case()
    _site, _other_staff, stranger = site_with_people(name="Bergen")

    with pytest.raises(PermissionDenied):
        proposal_make_by_hand(unmatched, [only_near_miss(unmatched)], REASON, stranger)

    assert_nothing_saved(unmatched)


# The page -------------------------------------------------------------------------------------


def test_the_page_proposes_and_the_run_page_marks_it_proposed_by_hand(client):
    unmatched, _staff, coordinator = near_miss_case()
    volunteer = only_near_miss(unmatched)
    login_verified(client, coordinator)
    url = f"/coordinator/unmatched/{unmatched.pk}/propose/"

    form = client.get(url)
    sent = client.post(url, {"volunteers": [volunteer.pk], "reason": REASON}, follow=True)

    assert form.status_code == 200
    assert "59 km utenfor grensen" in form.content.decode()
    page = sent.content.decode()
    assert "Foreslått for hånd" in page and REASON in page
    assert "lempet på: avstandsgrensen" in page
    assert Proposal.objects.get().made_by_hand


def test_the_page_names_the_field_at_fault_and_saves_nothing(client):
    unmatched, _staff, coordinator = near_miss_case()
    login_verified(client, coordinator)
    url = f"/coordinator/unmatched/{unmatched.pk}/propose/"

    response = client.post(url, {"volunteers": [only_near_miss(unmatched).pk], "reason": ""})

    assert response.status_code == 400
    assert "Skriv hvorfor du foreslår dem for hånd." in response.content.decode()
    assert_nothing_saved(unmatched)


def test_the_page_answers_409_when_the_referral_was_withdrawn_meanwhile(client):
    unmatched, staff, coordinator = near_miss_case()
    login_verified(client, coordinator)
    lifecycle.referral_withdraw(
        unmatched.referral, by=staff, reason=Referral.WithdrawalReason.MISTAKE
    )

    response = client.post(
        f"/coordinator/unmatched/{unmatched.pk}/propose/",
        {"volunteers": [only_near_miss(unmatched).pk], "reason": REASON},
    )

    assert response.status_code == 409
    assert "Noen andre kom før deg" in response.content.decode()


def test_the_page_is_not_found_for_a_coordinator_of_another_site(client):
    unmatched, _staff, _coordinator = near_miss_case()
    _site, _other_staff, stranger = site_with_people(name="Bergen")
    login_verified(client, stranger)

    assert client.get(f"/coordinator/unmatched/{unmatched.pk}/propose/").status_code == 404


def test_a_real_runs_near_miss_is_saved_and_can_be_proposed_by_hand():
    from matching.runs import match_run_execute
    from matching.services import match_run_start

    site, _staff, coordinator = site_with_people()
    referral = waiting_referral(site, languages=["ar"])
    kongsberg = ready_volunteer(code="3611")  # about 66 km away, the limit is 40
    run = match_run_start(programme=site.programme, started_by=coordinator, scope="site", site=site)
    match_run_execute(run.pk)

    unmatched = UnmatchedReferral.objects.get(run=run, referral=referral)
    assert unmatched.facts["nearest_municipality"] == "3303"
    miss = unmatched.near_misses.get()
    assert (miss.volunteer, miss.rule) == (kongsberg, "distance")
    assert 20 < miss.shortfall < 30

    proposal = proposal_make_by_hand(unmatched, [kongsberg], REASON, coordinator)
    assert proposal.pairs.get().distance_km == pytest.approx(miss.distance_km, abs=0.1)
    assert proposal.relaxed_rules == ["distance"]
