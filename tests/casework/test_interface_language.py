"""Every page of the three journeys speaks one language: in bokmål, none of the English the
portal used to leave on its pages (plural slips, raw codes, US dates and times, internal field
paths, a bare "Forbidden"); in English, none of the bokmål labels, weekdays or language names.

Pages are read as a person reads them (text and the attributes read out, tests/casework/
test_plain_words.py), through the test client: one request per page, in one world of data
built once for the module (tests/journeys.py)."""

import re

import pytest
from django.core.cache import cache

from tests import shared_rows
from tests.auth import login_verified
from tests.casework.test_plain_words import read
from tests.journeys import PAGES, build_journeys

pytestmark = pytest.mark.django_db

# Known offenders in both languages: raw codes, internal paths, US dates and 12-hour times.
EITHER = [
    r"\bfirst_aid\b",
    r"politiattest, training",
    r"availability\[",
    r"avoid_municipalities\[",
    r"\b\d{1,2}:\d{2} ?[ap]\.m\.",
    r"\b[ap]\.m\.",
    r"\bnoon\b",
    r"\bmidnight\b",
    # Month first: a day after the 12th, or the fixed consent date of the world (1 November).
    r"\b(?:0?[1-9]|1[0-2])/(?:1[3-9]|2\d|3[01])/\d{4}\b",
    r"\b11/0?1/2026\b",
]
ENGLISH = [
    r"\b\d+ proposals\b",
    r"\b[Pp]roposals?\b",
    r"\bForbidden\b",
    r"\bLog out\b",
    r"\bApprove\b",
    r"\bReferrals?\b",
    r"\bVolunteers?\b",
    r"\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b",
    # Only the months whose English name is not also a bokmål word at the start of a sentence.
    r"\b(?:January|February|March|June|July|October|December)\b",
]
BOKMAL = [
    r"\bGodkjenn",
    r"\bHenvisning",
    r"\bFrivillig",
    r"\bLagre\b",
    r"\bLogg ut\b",
    r"\bTilbake\b",
    r"\b(?:mandag|tirsdag|onsdag|torsdag|fredag|lørdag|søndag)\b",
    r"\b(?:engelsk|norsk|arabisk|polsk)\b",
    r"\bEngelsk\b",
]
OFFENDERS = {"nb": EITHER + ENGLISH, "en": EITHER + BOKMAL}


@pytest.fixture(scope="module")
def journeys_rows(django_db_setup, django_db_blocker):
    with shared_rows.module_rows("journeys", build_journeys, django_db_blocker) as rows:
        yield rows


@pytest.fixture
def journeys(journeys_rows, db):
    cache.clear()
    return journeys_rows.for_test()


def cases():
    for page in PAGES:
        for language in ("nb", "en"):
            yield pytest.param(page, language, id=f"{page.id}-{language}")


@pytest.mark.parametrize(("page", "language"), list(cases()))
def test_a_page_speaks_only_the_readers_language(client, journeys, page, language):
    user = journeys.users.get(page.reader)
    if user is not None:
        login_verified(client, user)
    path = page.path_in(journeys)
    if page.send_empty:
        response = client.post(path, {page.send_empty: ""}, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 400, response.status_code
    else:
        response = client.get(path, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200, response.status_code
    assert response["Content-Language"] == language

    text = read(response.content.decode()).text
    found = [
        f"{m.group()!r} in …{text[max(0, m.start() - 50) : m.end() + 50]}…"
        for pattern in OFFENDERS[language]
        for m in re.finditer(pattern, text)
    ]
    assert found == [], f"{path} in {language}:\n" + "\n".join(found)


def test_the_offenders_are_found_where_they_are():
    """The patterns themselves: each known slip on a made-up page is caught, and the words of
    the other language are not."""
    english = "1 proposals. Krav: politiattest, training, first_aid. 11/29/2026, 2:11 p.m."
    bokmal = "Godkjenn forslaget. Henvisninger. Frivillig. Lagre. Tilgjengelig tirsdag. engelsk"
    assert all(_finds(p, english) for p in [r"\b\d+ proposals\b", r"\b[ap]\.m\.", EITHER[8]])
    assert all(_finds(p, english) for p in EITHER[:2])
    assert all(_finds(p, bokmal) for p in BOKMAL[:4] + BOKMAL[6:8])
    assert not any(_finds(p, "Godkjenn 29.11.2026 kl. 14:11") for p in EITHER + ENGLISH)
    assert not any(_finds(p, "Approve 29 November 2026 at 14:11") for p in EITHER + BOKMAL)


def _finds(pattern: str, text: str) -> bool:
    return re.search(pattern, text) is not None
