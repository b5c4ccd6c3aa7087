"""Why a referral waits, in words: every engine reason as a sentence in bokmål and English with no
ids or codes, near misses as the rule and the shortfall, old rows without figures, and pages that
show them at constant query cost."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from matching import reasons
from matching.models import MatchRun, NearMiss, UnmatchedReferral
from programmes.languages import language_names
from tests.auth import login_verified
from tests.matching.factories import (
    MatchRunFactory,
    ready_volunteer,
    site_with_people,
    waiting_referral,
)
from tests.programmes.factories import UserFactory, municipality

pytestmark = pytest.mark.django_db

RINGERIKE, NES = "3305", "3228"
OLD_DETAIL = "best weekly overlap among 2 nearby speaker(s) is 0.00 h (volunteer v143); need 1 h"

# reason, facts, bokmål, English
SENTENCES = [
    (
        "no_shared_language",
        {
            "limit_km": 40,
            "nearby": 3,
            "languages": ["so"],
            "nearest_speaker_km": 139.2,
            "nearest_speaker_municipality": RINGERIKE,
            "nearest_speaker_language": "so",
        },
        "Ingen frivillig innen 40 km snakker somali. Nærmeste er 139 km unna, i Ringerike.",
        "No volunteer within 40 km speaks Somali. The nearest is 139 km away, in Ringerike.",
    ),
    (
        "no_shared_language",
        {
            "limit_km": 40,
            "nearby": 0,
            "languages": ["so", "ti"],
            "nearest_speaker_km": None,
            "nearest_speaker_municipality": None,
            "nearest_speaker_language": None,
        },
        "Ingen frivillig innen 40 km snakker somali eller tigrinja. Ingen frivillig i "
        "programmet snakker det.",
        "No volunteer within 40 km speaks Somali or Tigrinya. No volunteer in the programme "
        "speaks it.",
    ),
    (
        "no_volunteer_within_distance",
        {"limit_km": 40, "nearest_km": 52.4, "nearest_municipality": NES},
        "Ingen frivillig bor innen 40 km. Nærmeste bor 52 km unna, i Nes.",
        "No volunteer lives within 40 km. The nearest lives 52 km away, in Nes.",
    ),
    (
        "no_availability_overlap",
        {"candidates": 2, "best_overlap_minutes": 30, "needed_minutes": 60},
        "2 frivillige i nærheten snakker språket, men den beste av dem har 30 minutter for lite "
        "felles tid i uka.",
        "2 volunteers nearby speak the language, but the best of them has 30 minutes too little "
        "shared time a week.",
    ),
    (
        "gender_preference",
        {"candidates": 1, "wanted": "female"},
        "1 frivillig i nærheten oppfyller de andre reglene, men er ikke kvinne, slik deltakeren "
        "ønsket.",
        "1 volunteer nearby meets the other rules, but is not a woman as the participant wished.",
    ),
    (
        "safety_exclusion",
        {"candidates": 2},
        "2 frivillige i nærheten oppfyller de andre reglene, men alle er utelukket av hensyn til "
        "deltakerens sikkerhet.",
        "2 volunteers nearby meet the other rules, but each is ruled out for the participant's "
        "safety.",
    ),
    (
        "rejected_before",
        {"candidates": 2},
        "2 frivillige i nærheten oppfyller de andre reglene, men en koordinator har allerede "
        "avslått hver av dem for denne henvisningen.",
        "2 volunteers nearby meet the other rules, but a coordinator has already turned each of "
        "them down for this referral.",
    ),
    (
        "not_enough_volunteers",
        {"needed": 2, "eligible": 1, "nearest_km": 3.42},
        "Trenger 2 frivillige, men bare 1 oppfyller alle reglene. Nærmeste bor 3,4 km unna.",
        "Needs 2 volunteers, but only 1 meets every rule. The nearest lives 3.4 km away.",
    ),
    (
        "capacity_taken",
        {"needed": 1, "eligible": 2, "free": 0, "nearest_km": 0.4},
        "2 frivillige oppfyller alle reglene, men ble foreslått for andre henvisninger i denne "
        "kjøringen. Nærmeste bor under 1 km unna.",
        "2 volunteers meet every rule, but were proposed for other referrals in this run. The "
        "nearest lives under 1 km away.",
    ),
]

CODES = re.compile(
    r"no_volunteer|no_shared|no_availability|gender_preference|safety_exclusion|rejected_before"
    r"|not_enough|capacity_taken|\bv\d+\b|\b\d{4}\b|\b(so|ti|nb|ar|uk)\b|municipality \d"
)


def row(reason: str, facts: dict, detail: str = OLD_DETAIL) -> UnmatchedReferral:
    return UnmatchedReferral(reason=reason, facts=facts, detail=detail)


@pytest.mark.parametrize(("reason", "facts", "bokmal", "english"), SENTENCES)
def test_each_reason_reads_as_a_sentence_in_bokmal_and_english(reason, facts, bokmal, english):
    with translation.override("nb"):
        said_nb = reasons.unmatched_sentence(row(reason, facts))
    with translation.override("en"):
        said_en = reasons.unmatched_sentence(row(reason, facts))

    assert (said_nb, said_en) == (bokmal, english)
    assert not CODES.search(said_nb) and not CODES.search(said_en)


def test_half_an_hour_short_reads_as_thirty_minutes_too_little_shared_time():
    facts = {"candidates": 1, "best_overlap_minutes": 30, "needed_minutes": 60}
    with translation.override("nb"):
        said = reasons.unmatched_sentence(row("no_availability_overlap", facts))
    assert "30 minutter for lite felles tid" in said


def test_a_referral_speaking_two_languages_is_told_which_the_nearest_speaks():
    facts = {
        "limit_km": 25,
        "nearby": 4,
        "languages": ["so", "uk"],
        "nearest_speaker_km": 299,
        "nearest_speaker_municipality": "4601",
        "nearest_speaker_language": "uk",
    }
    with translation.override("nb"):
        said = reasons.unmatched_sentence(row("no_shared_language", facts))
    assert said == (
        "Ingen frivillig innen 25 km snakker somali eller ukrainsk. Nærmeste som snakker "
        "ukrainsk, er 299 km unna, i Bergen."
    )


def test_speakers_below_the_programmes_level_are_counted_and_the_level_named():
    facts = {
        "limit_km": 40,
        "nearby": 3,
        "languages": ["ar"],
        "nearest_speaker_km": None,
        "nearest_speaker_municipality": None,
        "nearest_speaker_language": None,
        "speakers_below_level": 2,
        "required_level": "conversational",
    }
    said = reasons.unmatched_sentence(row("no_shared_language", facts))
    assert said == (
        "No volunteer within 40 km speaks Arabic well enough: the programme asks for at least "
        "“conversational”. 2 volunteers nearby speak it, but not that well. No volunteer in the "
        "programme speaks it that well."
    )
    assert not CODES.search(said)


@pytest.mark.parametrize("reason", [reason for reason, *_rest in SENTENCES] + ["made_up"])
def test_old_rows_without_figures_read_a_general_sentence_never_the_old_detail(reason):
    with translation.override("nb"):
        said = reasons.unmatched_sentence(row(reason, {}))
    assert said and "volunteer" not in said and "v143" not in said
    assert not CODES.search(said)


def test_old_rows_read_in_bokmal():
    with translation.override("nb"):
        said = reasons.unmatched_sentence(row("no_availability_overlap", {}))
    assert said == "Ingen frivillig i nærheten som snakker språket, har nok felles tid."


@pytest.mark.parametrize(
    ("rule", "shortfall", "bokmal", "english"),
    [
        ("distance", 12.3, "12 km utenfor grensen", "12 km beyond the limit"),
        ("availability", 30, "30 min for lite felles tid", "30 min too little shared time"),
        (
            "gender",
            0,
            "ikke det kjønnet deltakeren ønsket",
            "not the gender the participant wished for",
        ),
        ("eligible", 0, "oppfyller alle reglene", "meets every rule"),
    ],
)
def test_each_near_miss_reads_as_its_rule_and_shortfall(rule, shortfall, bokmal, english):
    miss = NearMiss(rule=rule, shortfall=shortfall, distance_km=52.3, overlap_minutes=30)
    with translation.override("nb"):
        assert reasons.near_miss_sentence(miss) == bokmal
    with translation.override("en"):
        assert reasons.near_miss_sentence(miss) == english


def test_language_names_not_codes():
    with translation.override("nb"):
        assert language_names(["nb", "ar"]) == "norsk bokmål, arabisk"


# Pages ----------------------------------------------------------------------------------------


def run_with_unmatched(site, coordinator, count: int) -> MatchRun:
    """A finished run of ``site`` leaving ``count`` referrals waiting, each with figures and two
    near misses."""
    run = MatchRunFactory(
        site=site, on_date="2026-11-26", started_by=coordinator, status=MatchRun.Status.SUCCEEDED
    )
    volunteers = [ready_volunteer(code="0150"), ready_volunteer(code="0151")]
    facts = SENTENCES[0][1]
    for index in range(count):
        unmatched = UnmatchedReferral.objects.create(
            run=run,
            referral=waiting_referral(site, languages=["so"]),
            reason="no_shared_language" if index % 2 else "no_volunteer_within_distance",
            detail=OLD_DETAIL,
            facts=facts
            if index % 2
            else {"limit_km": 40, "nearest_km": 52, "nearest_municipality": NES},
        )
        for volunteer in volunteers:
            NearMiss.objects.create(
                unmatched=unmatched,
                volunteer=volunteer,
                rule="distance",
                shortfall=12.0,
                distance_km=52.0,
                overlap_minutes=120,
            )
    return run


def test_the_run_page_shows_reasons_and_near_misses_in_bokmal(client):
    site, _staff, coordinator = site_with_people()
    run = run_with_unmatched(site, coordinator, 2)
    login_verified(client, coordinator)

    page = client.get(f"/coordinator/runs/{run.pk}/").content.decode()

    assert (
        "Ingen frivillig innen 40 km snakker somali. Nærmeste er 139 km unna, i Ringerike." in page
    )
    assert "12 km utenfor grensen" in page
    assert "Foreslå frivillige for" in page
    assert OLD_DETAIL not in page and "no_shared_language" not in page


def test_the_run_page_costs_the_same_queries_for_5_and_50_unmatched(client):
    site, _staff, coordinator = site_with_people()
    small = run_with_unmatched(site, coordinator, 5)
    large = run_with_unmatched(site, coordinator, 50)
    login_verified(client, coordinator)
    client.get(f"/coordinator/runs/{small.pk}/")  # warm the session and caches

    with CaptureQueriesContext(connection) as at_5:
        assert client.get(f"/coordinator/runs/{small.pk}/").status_code == 200
    with CaptureQueriesContext(connection) as at_50:
        assert client.get(f"/coordinator/runs/{large.pk}/").status_code == 200

    assert len(at_50) <= len(at_5)


def test_the_back_office_shows_the_reason_in_words(client):
    site, _staff, coordinator = site_with_people()
    run = run_with_unmatched(site, coordinator, 2)
    admin = UserFactory(username="admin", is_superuser=True, is_staff=True)
    login_verified(client, admin)

    listing = client.get("/admin/matching/unmatchedreferral/").content.decode()
    one = run.unmatched.first()
    change = client.get(f"/admin/matching/unmatchedreferral/{one.pk}/change/").content.decode()
    filtered = client.get("/admin/matching/unmatchedreferral/?reason=no_shared_language")

    assert "Nærmeste er 139 km unna, i Ringerike." in listing
    assert ">no_shared_language<" not in listing and OLD_DETAIL not in listing
    assert "12 km utenfor grensen" in change
    assert filtered.status_code == 200


def test_the_api_explains_in_the_requests_language_and_keeps_the_code(client):
    site, _staff, coordinator = site_with_people()
    run = run_with_unmatched(site, coordinator, 2)
    login_verified(client, coordinator)

    nb = client.get(f"/api/v1/match-runs/{run.pk}/").json()
    en = client.get(f"/api/v1/match-runs/{run.pk}/", HTTP_ACCEPT_LANGUAGE="en").json()

    speaking = next(u for u in nb["unmatched"] if u["reason"] == "no_shared_language")
    assert speaking["explanation"] == (
        "Ingen frivillig innen 40 km snakker somali. Nærmeste er 139 km unna, i Ringerike."
    )
    assert "detail" not in speaking
    assert {m["rule"] for m in speaking["near_misses"]} == {"distance"}
    assert speaking["near_misses"][0]["shortfall"] == 12.0
    english = next(u for u in en["unmatched"] if u["reason"] == "no_shared_language")
    assert english["explanation"].startswith("No volunteer within 40 km speaks Somali.")


def test_a_run_saves_the_engines_figures_and_near_misses(client, eager_celery):
    from matching.runs import match_run_execute
    from matching.services import match_run_start

    site, _staff, coordinator = site_with_people()
    far = waiting_referral(site, languages=["ar"], municipality=municipality("5612"))
    ready_volunteer()
    run = match_run_start(programme=site.programme, started_by=coordinator, scope="site", site=site)
    match_run_execute(run.pk)

    unmatched = UnmatchedReferral.objects.get(run=run, referral=far)
    assert unmatched.reason == "no_volunteer_within_distance"
    assert unmatched.facts["limit_km"] == 40
    assert unmatched.facts["nearest_municipality"] == "0301"
    with translation.override("nb"):
        said = reasons.unmatched_sentence(unmatched)
    assert said.startswith("Ingen frivillig bor innen 40 km. Nærmeste bor ")
    assert said.endswith(", i Oslo.")
