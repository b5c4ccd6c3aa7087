"""No page a coordinator or a crisis centre sees speaks the engine's language: no reason code,
no internal id (``v143``, ``municipality 4611``), no municipality number where its name belongs,
no language code where its name belongs, and no English sentence in the bokmål interface (nor
bokmål in the English one).

A full journey is built through the services: one run that leaves a referral waiting for every
reason the engine gives, its proposals, a proposal made by hand, a match with signatures and
answered check-ins, a withdrawal. Then every portal page each reader can reach from the home
page, following links, is read as a person sees it: text, not markup or scripts."""

import ast
import datetime
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.utils import timezone, translation

from matching import check_ins, lifecycle, runs, services
from matching.engine import explain
from matching.models import CheckIn, MatchRun, NearMiss, Proposal, RejectedPair
from matching.proposing import proposal_make_by_hand
from programmes.languages import SPOKEN_LANGUAGES
from programmes.models import Referral
from tests.auth import login_verified
from tests.matching.factories import (
    agreement_signed,
    publish_terms,
    ready_volunteer,
    site_with_people,
    waiting_referral,
)
from tests.programmes.factories import ProgrammeSiteFactory, municipality, postal_code, programme

pytestmark = pytest.mark.django_db

REASON_CODES = [
    explain.NO_VOLUNTEER_WITHIN_DISTANCE,
    explain.NO_SHARED_LANGUAGE,
    explain.NO_AVAILABILITY_OVERLAP,
    explain.GENDER_PREFERENCE,
    explain.SAFETY_EXCLUSION,
    explain.REJECTED_BEFORE,
    explain.NOT_ENOUGH_VOLUNTEERS,
    explain.CAPACITY_TAKEN,
]
# What the engine's developer detail used to put on pages.
OLD_ENGINE_WORDS = ["nearby speaker", "km away", "volunteer(s)", "speaker(s)", "weekly overlap"]
# Never followed: they change something, leave the portal, or are not pages.
SKIPPED = ("/admin/", "/api/", "/accounts/", "/i18n/", "/static/", "/health/", "/me/", "/my-data/")
MAX_PAGES = 300
WEDNESDAY_EVENING = [{"day": 2, "start": "18:00", "end": "21:00"}]
HALF_AN_HOUR_SHARED = [{"day": 2, "start": "20:30", "end": "21:30"}]


# Reading a page as a person does --------------------------------------------------------------


class VisibleText(HTMLParser):
    """The text a reader meets: text nodes and the attributes that are read out or shown
    (labels, titles, alt text, placeholders); not scripts, styles or other attribute values."""

    SHOWN_ATTRIBUTES = {"aria-label", "title", "alt", "placeholder"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._hidden += 1
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])
        self.parts.extend(v for k, v in attrs if k in self.SHOWN_ATTRIBUTES and v)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.parts))


def read(html: str) -> VisibleText:
    parser = VisibleText()
    parser.feed(html)
    return parser


def crawl(client, language: str) -> dict[str, str]:
    """Every portal page reachable from the home page by links, as visible text; a page that
    fails to render is reported as its error."""
    pages, queue = {}, ["/"]
    while queue and len(pages) < MAX_PAGES:
        path = queue.pop(0)
        if path in pages:
            continue
        try:
            response = client.get(path, HTTP_ACCEPT_LANGUAGE=language)
        except Exception as error:  # a page that crashes is a finding, not the end of the scan
            pages[path] = f"!! the page raised {error!r}"
            continue
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        page = read(response.content.decode())
        pages[path] = page.text
        queue.extend(link for link in map(_portal_path, page.links) if link and link not in pages)
    return pages


def _portal_path(href: str) -> str | None:
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    if parts.path.startswith(SKIPPED) or "export" in parts.path or "csv" in parts.query:
        return None
    # Filters and pages of a list show the same rows in other orders: the first page will do.
    return parts.path


# What must not be there ------------------------------------------------------------------------


def reason_templates() -> list[str]:
    """The English sentences of matching/reasons.py, as written in its gettext calls."""
    source = Path(__file__).resolve().parents[2] / "matching" / "reasons.py"
    templates = []
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") in (
            "_",
            "gettext",
            "gettext_lazy",
            "ngettext",
        ):
            templates += [arg.value for arg in node.args if isinstance(arg, ast.Constant)]
    return [t for t in templates if isinstance(t, str)]


def fragments(template: str) -> list[str]:
    """The fixed words of a template between its placeholders, those long enough to belong to
    nothing else (three words or more)."""
    pieces = re.split(r"%\(\w+\)[sd]|%[sd]", template)
    return [p.strip(" .,:") for p in pieces if len(p.strip(" .,:").split()) >= 3]


def bokmal(templates: list[str]) -> list[str]:
    with translation.override("nb"):
        translated = [translation.gettext(t) for t in templates]
    return [t for t, source in zip(translated, templates, strict=True) if t != source]


def language_codes() -> set[str]:
    return {code for code, _label in SPOKEN_LANGUAGES}


def findings(text: str, foreign: list[str], municipalities: dict[str, str]) -> list[str]:
    found = [code for code in REASON_CODES if code in text]
    found += re.findall(r"\b[a-z]+_[a-z_]+\b", text)  # any other code of the models
    found += re.findall(r"\b[vr]\d+\b", text)  # the engine's keys for volunteers and referrals
    found += re.findall(r"\b(?:municipality|kommune(?:nummer)?)\s+\d{4}\b", text, re.IGNORECASE)
    found += [f"{name} ({number})" for number, name in municipalities.items()]
    found = [f for f in found if f in text]
    found += re.findall(r"\(\d{4}\)", text)  # Municipality.__str__ puts the number there
    shared_lists = r"(?:felles språk|shared languages?):?\s+([^.;·]{0,40})"
    for shared in re.findall(shared_lists, text, re.IGNORECASE):
        found += [w for w in re.findall(r"\b[a-z]{2,3}\b", shared) if w in language_codes()]
    found += [words for words in foreign if words in text]
    return found


def report(pages: dict[str, str], foreign: list[str], municipalities, reader: str) -> list[str]:
    lines = []
    for path, text in sorted(pages.items()):
        if text.startswith("!! "):
            lines.append(f"{reader} {path}: {text[3:]}")
            continue
        for found in dict.fromkeys(findings(text, foreign, municipalities)):
            at = text.find(found)
            context = text[max(0, at - 60) : at + len(found) + 60] if at >= 0 else ""
            lines.append(f"{reader} {path}: {found!r} in “…{context}…”")
    return lines


# The journey ------------------------------------------------------------------------------------


def journey():
    """One run in Oslo that leaves a referral waiting for every reason the engine gives, and
    the rest of a programme's life around it."""
    site, staff, coordinator = site_with_people("ressursvenn")
    children = ProgrammeSiteFactory(
        programme=programme("fritidsvenn"),
        crisis_centre=site.crisis_centre,
        organisation=site.organisation,
        coordinators=[coordinator],
    )
    publish_terms("fritidsvenn")
    people = _volunteers(site, children)
    referrals = _referrals(site, children, people)
    RejectedPair.objects.create(
        referral=referrals["rejected"],
        volunteer=people["ti"],
        rejected_by=coordinator,
        reason="Bor for nær deltakeren.",
    )
    runs = [_run(site, coordinator), _run(children, coordinator)]
    _match_and_follow_up(runs[0], referrals, staff, coordinator, people)
    _withdraw_after_matching(runs[0], referrals, staff, coordinator)
    _propose_by_hand(runs[0], referrals, coordinator)
    return {"staff": staff, "coordinator": coordinator, "runs": runs, "referrals": referrals}


def _volunteers(site, children) -> dict:
    def one(code, place, **fields):
        slug = fields.pop("slug", "ressursvenn")
        fields.setdefault("availability", WEDNESDAY_EVENING)
        volunteer = ready_volunteer(
            slug,
            code=place,
            organisation=site.organisation,
            languages=[{"code": code, "level": "fluent"}],
            **fields,
        )
        volunteer.user.first_name, volunteer.user.last_name = "Åse", f"Språk-{code}"
        volunteer.user.save()
        return volunteer

    return {
        "ar": one("ar", "0150"),
        "pl": one("pl", "0151"),
        "so": one("so", "5003"),  # Bergen: too far from Oslo
        "ur": one("ur", "0152"),
        "ti": one("ti", "0153"),
        "ru": one("ru", "0154"),
        "fritid": one("ar", "0155", slug="fritidsvenn"),
    }


def _referrals(site, children, people) -> dict:
    oslo = municipality("0301")
    wait = waiting_referral
    return {
        "matched": wait(site, languages=["ar"]),
        "far": wait(site, languages=["ar"], municipality=municipality("5501"), postal_code=None),
        "somali": wait(site, languages=["so"]),
        "no_time": wait(site, languages=["pl"], availability=HALF_AN_HOUR_SHARED),
        "gender": wait(site, languages=["pl"], volunteer_gender="male"),
        "safety": _avoiding(wait(site, languages=["ur"]), oslo),
        "rejected": wait(site, languages=["ti"]),
        "taken_1": wait(site, languages=["ru"]),
        "taken_2": wait(site, languages=["ru"]),
        "two_needed": wait(children, languages=["ar"]),
    }


def _avoiding(referral: Referral, place) -> Referral:
    referral.avoid_municipalities.set([place])
    return referral


def _run(site, coordinator) -> MatchRun:
    run = services.match_run_start(
        programme=site.programme, started_by=coordinator, scope=MatchRun.Scope.SITE, site=site
    )
    return runs.match_run_execute(run.pk)


def _proposal_for(run, referral) -> Proposal:
    return run.proposals.get(referral=referral, made_by_hand=False)


def _match_and_follow_up(run, referrals, staff, coordinator, people) -> None:
    match = lifecycle.proposal_approve(_proposal_for(run, referrals["matched"]), by=coordinator)
    match = agreement_signed(match, staff, coordinator, [people["ar"]])
    match.check_ins.update(due_on=timezone.localdate() - datetime.timedelta(days=1))
    first, *_later = match.check_ins.order_by("months_after_start")
    check_ins.check_in_answer(
        first,
        by=people["ar"].user,
        meetings_held=3,
        wellbeing=CheckIn.Wellbeing.POOR,
        wants_contact=True,
        note="Vi trenger å snakke om hvor vi møtes.",
    )


def _withdraw_after_matching(run, referrals, staff, coordinator) -> None:
    taken = next(
        referrals[key]
        for key in ("taken_1", "taken_2")
        if run.proposals.filter(referral=referrals[key]).exists()
    )
    lifecycle.proposal_approve(_proposal_for(run, taken), by=coordinator)
    lifecycle.referral_withdraw(taken, by=staff, reason=Referral.WithdrawalReason.MISTAKE)


def _propose_by_hand(run, referrals, coordinator) -> None:
    unmatched = run.unmatched.get(referral=referrals["no_time"])
    near = NearMiss.objects.filter(unmatched=unmatched).select_related("volunteer").first()
    assert near is not None, "the engine saved no near miss for the referral short of time"
    reason = "Hun kan flytte på kveldene."
    proposal_make_by_hand(unmatched, [near.volunteer], reason, coordinator)


# Pages each reader must reach by links, or the scan would pass by missing them.
REACHABLE = {
    "coordinator": [
        r"/coordinator/$",
        r"/referrals/$",
        r"/referrals/\d+/$",
        r"/coordinator/volunteers/$",
        r"/coordinator/volunteers/\d+/$",
        r"/coordinator/runs/\d+/$",
        r"/coordinator/matches/\d+/$",
        r"/agreements/\d+/$",
    ],
    "staff": [r"/referrals/$", r"/referrals/\d+/$", r"/agreements/\d+/$"],
}


# The tests ----------------------------------------------------------------------------------


def test_the_journey_covers_every_reason_the_engine_gives():
    built = journey()
    reasons = set(
        MatchRun.objects.filter(pk__in=[run.pk for run in built["runs"]]).values_list(
            "unmatched__reason", flat=True
        )
    )
    assert reasons >= set(REASON_CODES), set(REASON_CODES) - reasons
    assert Proposal.objects.filter(made_by_hand=True).exists()


@pytest.mark.parametrize("reader", ["coordinator", "staff"])
def test_no_page_speaks_the_engines_language_or_english_in_bokmal(client, reader):
    built = journey()
    login_verified(client, built[reader])
    municipalities = _municipalities_in_play()

    pages = crawl(client, "nb")

    missing = [kind for kind in REACHABLE[reader] if not any(re.match(kind, p) for p in pages)]
    assert missing == [], f"{reader} reaches no page like {missing} from {sorted(pages)}"
    english = [f for t in reason_templates() for f in fragments(t)] + OLD_ENGINE_WORDS
    fail_on(report(pages, english, municipalities, reader))


@pytest.mark.parametrize("reader", ["coordinator", "staff"])
def test_the_english_interface_has_no_bokmal_sentences_left(client, reader):
    built = journey()
    login_verified(client, built[reader])
    municipalities = _municipalities_in_play()

    pages = crawl(client, "en")

    norwegian = [f for t in bokmal(reason_templates()) for f in fragments(t)]
    fail_on(report(pages, norwegian, municipalities, reader))


def fail_on(problems: list[str]) -> None:
    if problems:
        pytest.fail(f"{len(problems)} findings:\n" + "\n".join(problems), pytrace=False)


def _municipalities_in_play() -> dict[str, str]:
    numbers = ["0301", "5501", postal_code("5003").municipality.number]
    return {number: municipality(number).name for number in numbers}


def test_the_scan_finds_what_it_looks_for():
    """The scan itself: each kind of leftover on a made-up page is found."""
    english = [f for t in reason_templates() for f in fragments(t)] + OLD_ENGINE_WORDS
    page = read(
        "<p>Grunn: no_shared_language. Nærmeste er v143, municipality 4611, Oslo (0301).</p>"
        "<p>Felles språk: nb, ar</p><p>best weekly overlap among 2 nearby speaker(s)</p>"
        "<script>var v12 = 'no_availability_overlap';</script><a title='r17' href='/x'>x</a>"
    ).text
    found = findings(page, english, {"0301": "Oslo"})
    for expected in (
        "no_shared_language",
        "v143",
        "municipality 4611",
        "Oslo (0301)",
        "nb",
        "ar",
        "nearby speaker",
        "r17",
    ):
        assert expected in found, expected
    assert "v12" not in found and "no_availability_overlap" not in found
