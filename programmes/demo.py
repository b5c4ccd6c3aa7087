"""Synthetic, nationwide demo data for Kobling, built by ``manage.py seed_demo``.

Every choice comes from one ``random.Random(seed)``, so a seed always builds the same rows
(names, aliases, usernames, statuses); only the dates move along with today. Demo rows can be
found again: crisis centres and organisations by their names, users by the e-mail domain
``demo.kobling.invalid`` (``.invalid`` is reserved, so no mail to them can ever be delivered).

Participants get aliases only, never names, and nothing holds a street address.

Staff must pass a second factor to log in, so every demo staff user (admin, koordinator-*,
krisesenter-*) gets an authenticator with one fixed, public secret, ``DEMO_TOTP_SECRET``: add it
to any authenticator app, or print the current code with ``manage.py demo_totp USERNAME``
(refused when KOBLING_ENV=production). It is a demo secret, known to everyone; never reuse it.
"""

import datetime
import random
from base64 import b32decode
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractUser, Group, Permission
from django.db import connection, transaction
from django.db.models import ProtectedError, Q, QuerySet
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from geopy.distance import great_circle

from programmes import catalogue
from programmes.models import (
    ALIAS_FORBIDDEN,
    CrisisCentre,
    Gender,
    Municipality,
    Organisation,
    PolitiattestType,
    PostalCode,
    Programme,
    ProgrammeSite,
    Referral,
    VettingKind,
)
from volunteers.models import VettingRecord, Volunteer

User = get_user_model()

DEMO_PASSWORD = "kobling-demo"
DEMO_EMAIL_DOMAIN = "demo.kobling.invalid"
DEMO_TOTP_SECRET = "KOBLINGDEMOTOTPSECRETKOBLINGDEMO"
VOLUNTEER_COUNT = 600
REFERRAL_COUNT = 150
# Kobling's assumed policy: volunteers renew their politiattest every three years.
POLITIATTEST_VALID_DAYS = 3 * 365
COORDINATORS_GROUP = "Coordinators"
CRISIS_CENTRE_STAFF_GROUP = "Crisis centre staff"
MAX_DEPENDENT_DEPTH = 5

NORWEGIAN_LETTERS = str.maketrans({"æ": "ae", "ø": "o", "å": "a"})


def ascii_slug(text: str) -> str:
    return text.lower().translate(NORWEGIAN_LETTERS).replace(" ", "-")


@dataclass(frozen=True)
class CentrePlace:
    """Where a demo crisis centre is hosted. The region is named after the town only."""

    host_number: str
    place: str

    @property
    def slug(self) -> str:
        return ascii_slug(self.place)

    @property
    def centre_name(self) -> str:
        return f"Krisesenteret i {self.place}-regionen"

    @property
    def sanitetsforening_name(self) -> str:
        return f"{self.place} Sanitetsforening"

    @property
    def redd_barna_name(self) -> str:
        return f"Redd Barna {self.place}"


# Sixteen hosts, not fourteen: with fewer, plain nearest-host catchments in Innlandet,
# Trøndelag and Vestland grow past 40 municipalities. With these each serves 15–31.
CENTRE_PLACES = (
    CentrePlace("0301", "Oslo"),
    CentrePlace("3107", "Fredrikstad"),
    CentrePlace("3301", "Drammen"),
    CentrePlace("4003", "Skien"),
    CentrePlace("4204", "Kristiansand"),
    CentrePlace("1103", "Stavanger"),
    CentrePlace("4601", "Bergen"),
    CentrePlace("4647", "Førde"),
    CentrePlace("1508", "Ålesund"),
    CentrePlace("5001", "Trondheim"),
    CentrePlace("5006", "Steinkjer"),
    CentrePlace("3403", "Hamar"),
    CentrePlace("3405", "Lillehammer"),
    CentrePlace("1804", "Bodø"),
    CentrePlace("5501", "Tromsø"),
    CentrePlace("5601", "Alta"),
)

FEMALE_NAMES = (
    "Anne", "Inger", "Kari", "Marit", "Ingrid", "Liv", "Eva", "Berit", "Astrid", "Bjørg",
    "Hilde", "Anna", "Solveig", "Marianne", "Randi", "Ida", "Nina", "Maria", "Elisabeth",
    "Kristin", "Tone", "Silje", "Hanne", "Ragnhild", "Camilla", "Heidi", "Nora", "Emma",
    "Sara", "Ingeborg", "Thea", "Sigrid", "Maja", "Tuva", "Guro", "Mari", "Synnøve", "Åse",
)  # fmt: skip
MALE_NAMES = (
    "Jan", "Per", "Bjørn", "Ole", "Lars", "Kjell", "Knut", "Arne", "Svein", "Thomas",
    "Hans", "Geir", "Tor", "Morten", "Terje", "Odd", "Erik", "Martin", "Andreas", "Jon",
    "Magnus", "Sindre", "Håkon", "Eirik", "Kristian", "Øyvind", "Anders", "Henrik",
)  # fmt: skip
OTHER_NAMES = ("Kim", "Robin", "Alex", "Sam", "Eli", "Mika")
INTERESTS = (
    "turer", "friluftsliv", "ski", "fotball", "håndball", "svømming", "bading", "klatring",
    "sjakk", "strikking", "matlaging", "baking", "bibliotek", "kino", "musikk", "kor",
    "kunst", "museum", "lekeplass", "sykling",
)  # fmt: skip

# Native languages besides Norwegian among volunteers, in percent.
VOLUNTEER_OTHER_NATIVE = {
    "ar": 2.5, "so": 1.5, "pl": 2.0, "ti": 1.0, "uk": 1.5, "fa": 1.0, "ku": 0.7, "ru": 1.0,
}  # fmt: skip
REFERRAL_MAIN_LANGUAGE = {
    "ar": 22, "so": 15, "ti": 12, "uk": 12, "pl": 8, "fa": 8, "ku": 4, "ru": 4, "nb": 15,
}  # fmt: skip
# Dari speakers are recorded as "fa" throughout so that they match Persian-speaking volunteers.
NORTHERN_SAMI = "se"
# The Sami language area is mostly Northern Sami; these municipalities use South or Lule Sami.
OTHER_SAMI = {
    "1826": "sma",  # Hattfjelldal
    "1875": "smj",  # Hamarøy
    "5025": "sma",  # Røros
    "5041": "sma",  # Snåsa
    "5043": "sma",  # Røyrvik
}


def sami_language(municipality: Municipality) -> str:
    return OTHER_SAMI.get(municipality.number, NORTHERN_SAMI)


Status = Volunteer.Status
VOLUNTEER_STATUS_SHARES = {
    Status.ACTIVE: 0.80,
    Status.APPLICANT: 0.08,
    Status.VETTED: 0.02,
    Status.PAUSED: 0.06,
    Status.RETIRED: 0.04,
}


def _retired_at(index: int) -> datetime.datetime:
    """Spread over the last two years, so the retention task has some retirees to erase. Not
    drawn from the seeded generator, which would change every volunteer drawn after."""
    return timezone.now() - datetime.timedelta(days=30 + index * 97 % 690)


REFERRAL_STATUS_SHARES = {
    Referral.Status.WAITING: 0.75,
    Referral.Status.SUBMITTED: 0.15,
    Referral.Status.WITHDRAWN: 0.10,
}
EXPIRED_ATTEST_SHARE = 0.05
EXPIRING_ATTEST_SHARE = 0.04

# What the back office opens to each staff group. The ModelAdmins narrow it further to what the
# services allow the role (programmes/admin.py): staff correct their centre's referrals while
# they wait; coordinators only add vetting records ("change_volunteer" opens the form for it).
COORDINATOR_PERMISSIONS = {
    "programmes": (
        "view_referral", "view_programme", "view_programmesite",
        "view_crisiscentre", "view_municipality", "view_postalcode",
    ),
    "volunteers": (
        "view_volunteer", "change_volunteer", "view_vettingrecord", "add_vettingrecord",
    ),
    "matching": (
        "view_matchrun", "view_proposal", "view_unmatchedreferral", "view_match",
        "view_agreement",
    ),
}  # fmt: skip
CRISIS_CENTRE_STAFF_PERMISSIONS = {
    "programmes": (
        "view_referral", "change_referral", "view_municipality",
        "view_postalcode", "view_programmesite", "view_crisiscentre",
    ),
    "matching": ("view_match", "view_agreement"),
}  # fmt: skip


class GeodataMissing(Exception):
    """The municipalities and postal codes (``manage.py load_geodata``) are not in the database."""


class DemoRefusedInProduction(Exception):
    """Demo data has a public admin password and authenticator secret: never in production."""

    def __init__(self) -> None:
        super().__init__(
            "Demo data and demo helpers are refused when KOBLING_ENV=production: the demo "
            "logins have a published password and two-factor secret."
        )


def demo_refuse_in_production() -> None:
    """Every way in to the demo data and its logins calls this first."""
    if settings.KOBLING_ENV == "production":
        raise DemoRefusedInProduction


@dataclass
class DemoSummary:
    centres: int = 0
    sites: int = 0
    volunteers: int = 0
    active_volunteers: int = 0
    referrals_by_status: dict[str, int] = field(default_factory=dict)
    users: int = 0
    logins: list[tuple[str, str, str]] = field(default_factory=list)


def demo_exists() -> bool:
    return _demo_centres().exists() or _demo_users().exists() or _demo_organisations().exists()


def demo_delete() -> None:
    """Delete the demo rows and everything built on them: referrals and volunteers of the demo
    centres and organisations, and the match runs, proposals and matches that refer to those.
    Programmes and groups stay: other data may use them."""
    demo_refuse_in_production()
    sites = ProgrammeSite.objects.filter(crisis_centre__in=_demo_centres())
    organisations = _demo_organisations()
    volunteers = Volunteer.objects.filter(
        Q(organisation__in=organisations) | Q(user__in=_demo_users())
    )
    with transaction.atomic():
        for rows in (
            Referral.objects.filter(site__in=sites),
            volunteers,
            sites,
            organisations,
            _demo_centres(),
            _demo_users(),
        ):
            delete_with_dependents(rows)


def delete_with_dependents(rows: QuerySet, depth: int = 0) -> None:
    """Delete ``rows`` after the rows that protect them from deletion. Found through the
    ProtectedError rather than listed, so that new apps (matching) need no change here."""
    try:
        rows.delete()
    except ProtectedError as error:
        if depth >= MAX_DEPENDENT_DEPTH:
            raise
        for model, pks in _by_model(error.protected_objects).items():
            delete_with_dependents(model.objects.filter(pk__in=pks), depth + 1)
        rows.delete()


def _by_model(objects) -> dict[type, list]:
    grouped: dict[type, list] = {}
    for obj in objects:
        grouped.setdefault(type(obj), []).append(obj.pk)
    return grouped


def _demo_centres() -> QuerySet[CrisisCentre]:
    return CrisisCentre.objects.filter(name__in=[p.centre_name for p in CENTRE_PLACES])


def _demo_organisations() -> QuerySet[Organisation]:
    names = [p.sanitetsforening_name for p in CENTRE_PLACES]
    names += [p.redd_barna_name for p in CENTRE_PLACES]
    return Organisation.objects.filter(name__in=names)


def _demo_users() -> QuerySet[AbstractUser]:
    return User.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}")


def demo_build(seed: int) -> DemoSummary:
    """Build the whole demo in one transaction. Raises GeodataMissing before writing anything."""
    builder = DemoBuilder(seed)
    with transaction.atomic():
        return builder.build()


def shuffled_quota(rng: random.Random, shares: dict, count: int) -> list:
    """Exactly ``count`` values in the given shares, in random order, so totals are stable."""
    values = [value for value, share in shares.items() for _ in range(round(share * count))]
    first = next(iter(shares))
    values = (values + [first] * count)[:count]
    rng.shuffle(values)
    return values


def weekly_slots(rng: random.Random) -> list[dict]:
    """One to three evening or weekend slots, at most one a day so they never overlap."""
    days = sorted(rng.sample(range(7), rng.choice((1, 2, 2, 3))))
    return [_slot(rng, day) for day in days]


def _slot(rng: random.Random, day: int) -> dict:
    if day >= 5:
        start, minutes = rng.choice(range(10, 15)) * 60, rng.choice((120, 180, 240))
    else:
        start, minutes = rng.choice(range(33, 39)) * 30, rng.choice((120, 150, 180))
    end = start + minutes
    return {"day": day, "start": _clock(start), "end": _clock(end)}


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def volunteer_languages(rng: random.Random, municipality: Municipality) -> list[dict]:
    native = _weighted(
        rng, {"nb": 100 - sum(VOLUNTEER_OTHER_NATIVE.values()), **VOLUNTEER_OTHER_NATIVE}
    )
    entries = [{"code": native, "level": "native"}]
    if native != "nb" and not (native in ("pl", "uk", "ru") and rng.random() < 0.15):
        entries.append({"code": "nb", "level": rng.choice(("fluent", "fluent", "conversational"))})
    if municipality.sami_language_area and rng.random() < 0.45:
        level = rng.choice(("native", "fluent"))
        entries.append({"code": sami_language(municipality), "level": level})
    if rng.random() < 0.6:
        entries.append({"code": "en", "level": rng.choice(("fluent", "conversational"))})
    return entries


def referral_languages(rng: random.Random, municipality: Municipality) -> list[str]:
    main = _weighted(rng, REFERRAL_MAIN_LANGUAGE)
    extra = _weighted(rng, {"nb": 45, "en": 25, "": 30}) if main != "nb" else ""
    if main == "nb" and municipality.sami_language_area and rng.random() < 0.4:
        extra = sami_language(municipality)
    return [main, extra] if extra else [main]


def _weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def new_demo_alias(rng: random.Random, taken: set[str]) -> str:
    """Like ``programmes.models.new_alias`` but drawn from the seed, and never all digits
    (``P-123456`` would look like part of an ID number and fail ``validate_alias``)."""
    while True:
        alias = f"P-{rng.getrandbits(24):06X}"
        if alias not in taken and not ALIAS_FORBIDDEN.search(alias):
            taken.add(alias)
            return alias


def nearest_host_catchments(
    municipalities: Sequence[Municipality], hosts: Sequence[Municipality]
) -> list[list[Municipality]]:
    """Each municipality is served by exactly one centre: the one hosted nearest to it."""
    catchments: list[list[Municipality]] = [[] for _ in hosts]
    for municipality in municipalities:
        point = (municipality.lat, municipality.lon)
        distances = [great_circle(point, (host.lat, host.lon)).km for host in hosts]
        catchments[distances.index(min(distances))].append(municipality)
    return catchments


@dataclass
class CentreRows:
    place: CentrePlace
    centre: CrisisCentre
    coordinator: AbstractUser
    staff: AbstractUser
    sites: dict[str, ProgrammeSite] = field(default_factory=dict)


class DemoBuilder:
    """Gathers the geodata, then writes centres, sites, volunteers and referrals in bulk."""

    def __init__(self, seed: int):
        demo_refuse_in_production()
        self.rng = random.Random(seed)
        self.now = timezone.now().replace(second=0, microsecond=0)
        self.today = timezone.localdate()
        self.password = make_password(DEMO_PASSWORD)
        self.summary = DemoSummary()

    def build(self) -> DemoSummary:
        self.load_geodata()
        self.programmes = self.ensure_programmes()
        self.groups = self.ensure_groups()
        self.admin_note = self.ensure_admin()
        self.centres = self.create_centres()
        self.give_staff_demo_authenticator()
        self.create_sites()
        volunteers = self.create_volunteers()
        referrals = self.create_referrals()
        self.summarise(volunteers, referrals)
        return self.summary

    def load_geodata(self) -> None:
        self.municipalities = list(Municipality.objects.order_by("number"))
        by_number = {m.number: m for m in self.municipalities}
        missing = [p.host_number for p in CENTRE_PLACES if p.host_number not in by_number]
        if missing or not PostalCode.objects.exists():
            raise GeodataMissing(missing)
        by_pk = {m.pk: m for m in self.municipalities}
        self.postal_codes: dict[int, list[PostalCode]] = {}
        for code in PostalCode.objects.order_by("code"):
            code.municipality = by_pk[code.municipality_id]
            self.postal_codes.setdefault(code.municipality_id, []).append(code)
        hosts = [by_number[p.host_number] for p in CENTRE_PLACES]
        self.catchments = nearest_host_catchments(self.municipalities, hosts)
        self.centre_of = {
            m.pk: index for index, catchment in enumerate(self.catchments) for m in catchment
        }

    def ensure_programmes(self) -> dict[str, Programme]:
        from matching.agreements import terms_publish_initial

        programmes = {
            rules["slug"]: Programme.objects.get_or_create(slug=rules["slug"], defaults=rules)[0]
            for rules in catalogue.PROGRAMMES
        }
        for programme in programmes.values():
            terms_publish_initial(programme)
        return programmes

    def ensure_groups(self) -> dict[str, Group]:
        wanted = {
            COORDINATORS_GROUP: COORDINATOR_PERMISSIONS,
            CRISIS_CENTRE_STAFF_GROUP: CRISIS_CENTRE_STAFF_PERMISSIONS,
        }
        groups = {}
        for name, permissions in wanted.items():
            groups[name] = Group.objects.get_or_create(name=name)[0]
            groups[name].permissions.set(_permissions(permissions))
        return groups

    def ensure_admin(self) -> str:
        """An ``admin`` someone made before the demo is theirs: leave it and its password."""
        if User.objects.filter(username="admin").exists():
            return "existing account, its own password"
        User.objects.create(
            username="admin",
            email=f"admin@{DEMO_EMAIL_DOMAIN}",
            password=self.password,
            is_staff=True,
            is_superuser=True,
        )
        return "superuser"

    def new_user(
        self, username: str, *, is_staff: bool = False, first_name: str = ""
    ) -> AbstractUser:
        return User(
            username=username,
            email=f"{username}@{DEMO_EMAIL_DOMAIN}",
            password=self.password,
            first_name=first_name,
            is_staff=is_staff,
        )

    def create_centres(self) -> list[CentreRows]:
        rows = []
        for place in CENTRE_PLACES:
            host = next(m for m in self.municipalities if m.number == place.host_number)
            rows.append(
                CentreRows(
                    place=place,
                    centre=CrisisCentre(name=place.centre_name, host_municipality=host),
                    coordinator=self.new_user(f"koordinator-{place.slug}", is_staff=True),
                    staff=self.new_user(f"krisesenter-{place.slug}", is_staff=True),
                )
            )
        User.objects.bulk_create([r.coordinator for r in rows] + [r.staff for r in rows])
        CrisisCentre.objects.bulk_create([r.centre for r in rows])
        self.link_centres(rows)
        return rows

    def give_staff_demo_authenticator(self) -> None:
        """One known TOTP secret for all demo staff, so the demo can be tried at once."""
        key = b32decode(DEMO_TOTP_SECRET).hex()
        staff = _demo_users().filter(is_staff=True).exclude(totpdevice__isnull=False)
        TOTPDevice.objects.bulk_create(
            TOTPDevice(user=user, name="Demo authenticator", key=key, confirmed=True)
            for user in staff
        )

    def link_centres(self, rows: list[CentreRows]) -> None:
        served = CrisisCentre.municipalities_served.through
        served.objects.bulk_create(
            served(crisiscentre_id=row.centre.pk, municipality_id=m.pk)
            for row, catchment in zip(rows, self.catchments, strict=True)
            for m in catchment
        )
        staff = CrisisCentre.staff.through
        staff.objects.bulk_create(
            staff(crisiscentre_id=r.centre.pk, user_id=r.staff.pk) for r in rows
        )
        memberships = User.groups.through
        coordinators = self.groups[COORDINATORS_GROUP]
        centre_staff = self.groups[CRISIS_CENTRE_STAFF_GROUP]
        memberships.objects.bulk_create(
            [memberships(user_id=r.coordinator.pk, group=coordinators) for r in rows]
            + [memberships(user_id=r.staff.pk, group=centre_staff) for r in rows]
        )

    def create_sites(self) -> None:
        kinds = {
            "ressursvenn": (Organisation.Kind.SANITETSFORENING, "sanitetsforening_name"),
            "fritidsvenn": (Organisation.Kind.REDD_BARNA, "redd_barna_name"),
        }
        for row in self.centres:
            for slug, (kind, name_attribute) in kinds.items():
                organisation = Organisation(
                    name=getattr(row.place, name_attribute),
                    kind=kind,
                    municipality=row.centre.host_municipality,
                )
                row.sites[slug] = ProgrammeSite(
                    programme=self.programmes[slug],
                    crisis_centre=row.centre,
                    organisation=organisation,
                )
        sites = [site for row in self.centres for site in row.sites.values()]
        Organisation.objects.bulk_create([site.organisation for site in sites])
        ProgrammeSite.objects.bulk_create(sites)
        coordinators = ProgrammeSite.coordinators.through
        coordinators.objects.bulk_create(
            coordinators(programmesite_id=site.pk, user_id=row.coordinator.pk)
            for row in self.centres
            for site in row.sites.values()
        )

    def place_people(self, count: int) -> list[PostalCode]:
        """Homes spread like the population: a municipality by its size, then one of its codes."""
        weights = [m.population for m in self.municipalities]
        homes = self.rng.choices(self.municipalities, weights=weights, k=count)
        return [self.rng.choice(self.postal_codes[m.pk]) for m in homes]

    def avoidable_near(self, municipality: Municipality, count: int) -> list[Municipality]:
        """Municipalities in the same catchment: where someone would plausibly be recognised."""
        catchment = self.catchments[self.centre_of[municipality.pk]]
        others = [m for m in catchment if m.pk != municipality.pk] or catchment
        return self.rng.sample(others, min(count, len(others)))

    def create_volunteers(self) -> list[Volunteer]:
        homes = self.place_people(VOLUNTEER_COUNT)
        statuses = shuffled_quota(self.rng, VOLUNTEER_STATUS_SHARES, VOLUNTEER_COUNT)
        attests = self.attest_states(statuses)
        drafts = [
            VolunteerDraft.draw(self, index, home, status, attest)
            for index, (home, status, attest) in enumerate(
                zip(homes, statuses, attests, strict=True)
            )
        ]
        User.objects.bulk_create([d.volunteer.user for d in drafts])
        Volunteer.objects.bulk_create([d.volunteer for d in drafts])
        self.link_volunteers(drafts)
        VettingRecord.objects.bulk_create([r for d in drafts for r in d.vetting])
        restore_history(Volunteer, [(d.volunteer, d.history) for d in drafts])
        self.volunteer_drafts = drafts
        return [d.volunteer for d in drafts]

    def attest_states(self, statuses: list[str]) -> list[str]:
        """Applicants have no politiattest yet; among the rest a few expired or expire soon."""
        vetted = [i for i, status in enumerate(statuses) if status != Status.APPLICANT]
        expired = round(EXPIRED_ATTEST_SHARE * len(statuses))
        expiring = round(EXPIRING_ATTEST_SHARE * len(statuses))
        chosen = self.rng.sample(vetted, expired + expiring)
        states = ["none" if status == Status.APPLICANT else "valid" for status in statuses]
        for position, index in enumerate(chosen):
            states[index] = "expired" if position < expired else "expiring"
        return states

    def link_volunteers(self, drafts: list["VolunteerDraft"]) -> None:
        enrolled = Volunteer.programmes.through
        enrolled.objects.bulk_create(
            enrolled(volunteer_id=d.volunteer.pk, programme_id=p.pk)
            for d in drafts
            for p in d.programmes
        )
        avoided = Volunteer.avoid_municipalities.through
        avoided.objects.bulk_create(
            avoided(volunteer_id=d.volunteer.pk, municipality_id=m.pk)
            for d in drafts
            for m in d.avoid
        )

    def create_referrals(self) -> list[Referral]:
        homes = self.place_people(REFERRAL_COUNT)
        statuses = shuffled_quota(self.rng, REFERRAL_STATUS_SHARES, REFERRAL_COUNT)
        taken = set(Referral.objects.values_list("alias", flat=True))
        drafts = [
            ReferralDraft.draw(self, home, status, new_demo_alias(self.rng, taken))
            for home, status in zip(homes, statuses, strict=True)
        ]
        Referral.objects.bulk_create([d.referral for d in drafts])
        avoided = Referral.avoid_municipalities.through
        avoided.objects.bulk_create(
            avoided(referral_id=d.referral.pk, municipality_id=m.pk)
            for d in drafts
            for m in d.avoid
        )
        restore_history(Referral, [(d.referral, d.history) for d in drafts])
        return [d.referral for d in drafts]

    def summarise(self, volunteers: list[Volunteer], referrals: list[Referral]) -> None:
        self.summary.centres = len(self.centres)
        self.summary.sites = sum(len(row.sites) for row in self.centres)
        self.summary.volunteers = len(volunteers)
        self.summary.active_volunteers = sum(v.status == Status.ACTIVE for v in volunteers)
        self.summary.referrals_by_status = dict(Counter(r.status for r in referrals).most_common())
        self.summary.users = _demo_users().count()
        self.summary.logins = self.logins()

    def logins(self) -> list[tuple[str, str, str]]:
        first = self.centres[0]
        volunteer = self.showcase_volunteer()
        return [
            ("admin", "admin", self.admin_note),
            (
                "coordinator",
                first.coordinator.username,
                f"Ressursvenn and Fritidsvenn at {first.centre.name}",
            ),
            ("crisis centre", first.staff.username, f"staff at {first.centre.name}"),
            (
                "volunteer",
                volunteer.volunteer.user.username,
                f"active Ressursvenn volunteer in {volunteer.home.municipality.name}",
            ),
        ]

    def showcase_volunteer(self) -> "VolunteerDraft":
        """An active, fully vetted Ressursvenn volunteer of the first centre, in its host town
        if there is one."""
        ressursvenn = self.programmes["ressursvenn"]
        candidates = [
            d
            for d in self.volunteer_drafts
            if d.volunteer.status == Status.ACTIVE
            and d.attest == "valid"
            and ressursvenn in d.programmes
            and self.centre_of[d.home.municipality_id] == 0
        ]
        host = self.centres[0].centre.host_municipality_id
        return next((d for d in candidates if d.home.municipality_id == host), candidates[0])


def restore_history(model, rows: list[tuple[object, dict]]) -> None:
    """Write back the drawn dates of auto_now_add fields, which bulk_create set to now.

    One executemany rather than bulk_update: its CASE expressions took longer to build than
    the rest of the demo together."""
    for obj, history in rows:
        for name, value in history.items():
            setattr(obj, name, value)
    fields = [model._meta.get_field(name) for name in rows[0][1]]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET {assignments} "
        f"WHERE {quote(model._meta.pk.column)} = %s"
    )
    params = [
        [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] + [obj.pk]
        for obj, _ in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _permissions(by_app: dict[str, tuple[str, ...]]) -> list[Permission]:
    wanted = {(app, codename) for app, codenames in by_app.items() for codename in codenames}
    found = Permission.objects.filter(
        content_type__app_label__in=by_app, codename__in=[c for _, c in wanted]
    ).select_related("content_type")
    permissions = [p for p in found if (p.content_type.app_label, p.codename) in wanted]
    if len(permissions) != len(wanted):
        raise LookupError("Some permissions are missing: run `manage.py migrate` first.")
    return permissions


@dataclass
class VolunteerDraft:
    """A volunteer with everything written alongside it: user, programmes, vetting."""

    volunteer: Volunteer
    home: PostalCode
    attest: str
    programmes: list[Programme]
    avoid: list[Municipality]
    vetting: list[VettingRecord]
    history: dict[str, object]

    @classmethod
    def draw(cls, builder: DemoBuilder, index: int, home: PostalCode, status: str, attest: str):
        rng = builder.rng
        programmes = _volunteer_programmes(builder, rng)
        gender = _volunteer_gender(rng, programmes[0].slug)
        first_name = rng.choice(_names_for(gender))
        username = f"frivillig-{ascii_slug(first_name)}-{index + 1:03d}"
        municipality = home.municipality
        row = builder.centres[builder.centre_of[municipality.pk]]
        volunteer = Volunteer(
            user=builder.new_user(username, first_name=first_name),
            organisation=row.sites[programmes[0].slug].organisation,
            home_postal_code=home,
            languages=volunteer_languages(rng, municipality),
            gender=gender,
            availability=weekly_slots(rng),
            capacity=2 if rng.random() < 0.15 else 1,
            interests=", ".join(rng.sample(INTERESTS, rng.randint(1, 3))),
            status=status,
            retired_at=_retired_at(index) if status == Status.RETIRED else None,
        )
        vetting, history = _vetting_history(builder, volunteer, programmes, attest, row.coordinator)
        avoid = builder.avoidable_near(municipality, 1) if rng.random() < 0.05 else []
        return cls(volunteer, home, attest, programmes, avoid, vetting, history)


def _volunteer_programmes(builder: DemoBuilder, rng: random.Random) -> list[Programme]:
    ressursvenn, fritidsvenn = builder.programmes["ressursvenn"], builder.programmes["fritidsvenn"]
    roll = rng.random()
    if roll < 0.55:
        return [ressursvenn]
    if roll < 0.95:
        return [fritidsvenn]
    return [ressursvenn, fritidsvenn]


def _volunteer_gender(rng: random.Random, first_programme: str) -> str:
    if first_programme == "ressursvenn":
        shares = {Gender.FEMALE: 92, Gender.MALE: 6, Gender.OTHER: 2}
    else:
        shares = {Gender.FEMALE: 62, Gender.MALE: 36, Gender.OTHER: 2}
    return _weighted(rng, shares)


def _names_for(gender: str) -> tuple[str, ...]:
    return {Gender.FEMALE: FEMALE_NAMES, Gender.MALE: MALE_NAMES}.get(gender, OTHER_NAMES)


def _vetting_history(
    builder: DemoBuilder,
    volunteer: Volunteer,
    programmes: list[Programme],
    attest: str,
    coordinator,
) -> tuple[list[VettingRecord], dict[str, object]]:
    """The volunteer's vetting records, and when they joined and last changed status."""
    rng, today = builder.rng, builder.today
    required = {kind for p in programmes for kind in p.required_vetting}
    others = sorted(required - {VettingKind.POLITIATTEST})
    if attest == "none":
        joined_on = today - datetime.timedelta(days=rng.randint(0, 60))
        others = rng.sample(others, rng.randint(0, 2))
        records = []
    else:
        attest_record = _politiattest(rng, volunteer, programmes, attest, today, coordinator)
        joined_on = attest_record.issued_on - datetime.timedelta(days=rng.randint(7, 60))
        records = [attest_record]
    records += [_record(rng, volunteer, kind, joined_on, today, coordinator) for kind in others]
    latest = max([r.issued_on for r in records], default=joined_on)
    changed_on = min(latest + datetime.timedelta(days=rng.randint(1, 30)), today)
    changed_at = min(_at_noon(changed_on), builder.now)
    return records, {"joined_on": joined_on, "status_changed_at": changed_at}


def _politiattest(rng, volunteer, programmes, attest, today, coordinator) -> VettingRecord:
    if attest == "expired":
        issued = today - datetime.timedelta(days=POLITIATTEST_VALID_DAYS + rng.randint(1, 200))
    elif attest == "expiring":
        issued = today - datetime.timedelta(days=POLITIATTEST_VALID_DAYS - rng.randint(1, 30))
    else:
        issued = today - datetime.timedelta(days=rng.randint(14, POLITIATTEST_VALID_DAYS - 31))
    for_children = any(
        p.required_politiattest_type == PolitiattestType.CHILDREN for p in programmes
    )
    kind = (
        PolitiattestType.CHILDREN
        if for_children or rng.random() < 0.1
        else PolitiattestType.ORDINARY
    )
    return VettingRecord(
        volunteer=volunteer,
        kind=VettingKind.POLITIATTEST,
        politiattest_type=kind,
        issued_on=issued,
        expires_on=issued + datetime.timedelta(days=POLITIATTEST_VALID_DAYS),
        recorded_by=coordinator,
    )


def _record(rng, volunteer, kind, joined_on, today, coordinator) -> VettingRecord:
    issued = min(joined_on + datetime.timedelta(days=rng.randint(3, 45)), today)
    return VettingRecord(volunteer=volunteer, kind=kind, issued_on=issued, recorded_by=coordinator)


def _at_noon(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


@dataclass
class ReferralDraft:
    referral: Referral
    avoid: list[Municipality]
    history: dict[str, object]

    @classmethod
    def draw(cls, builder: DemoBuilder, home: PostalCode, status: str, alias: str):
        rng = builder.rng
        municipality = home.municipality
        row = builder.centres[builder.centre_of[municipality.pk]]
        slug = "ressursvenn" if rng.random() < 0.55 else "fritidsvenn"
        referral = Referral(
            site=row.sites[slug],
            alias=alias,
            adults=2 if rng.random() < 0.08 else 1,
            children_birth_years=_children(rng, builder.today.year, slug == "fritidsvenn"),
            postal_code=home,
            municipality=municipality,
            languages=referral_languages(rng, municipality),
            availability=weekly_slots(rng),
            volunteer_gender=_preferred_gender(rng, slug),
            max_distance_km=rng.choice((15, 25, 30, 60)) if rng.random() < 0.25 else None,
            consent_recorded_by=row.staff,
            status=status,
        )
        history = _referral_history(rng, referral, builder.now)
        avoid = (
            builder.avoidable_near(municipality, rng.randint(1, 2)) if rng.random() < 0.12 else []
        )
        return cls(referral, avoid, history)


def _children(rng: random.Random, this_year: int, required: bool) -> list[int]:
    if not required and rng.random() < 0.55:
        return []
    count = _weighted(rng, {1: 40, 2: 35, 3: 18, 4: 7})
    return sorted(rng.randint(this_year - 16, this_year - 2) for _ in range(count))


def _preferred_gender(rng: random.Random, slug: str) -> str:
    wants_female = rng.random() < (0.7 if slug == "ressursvenn" else 0.2)
    return Gender.FEMALE if wants_female else ""


def _referral_history(rng: random.Random, referral: Referral, now: datetime.datetime) -> dict:
    """Submitted, then (for most) waiting since 0–120 days ago; a few withdrawn on the way.
    Sets waiting_since and consent_given_on; returns submitted_at and status_changed_at."""
    days = datetime.timedelta(days=1)
    if referral.status == Referral.Status.SUBMITTED:
        submitted_at = now - rng.uniform(0, 10) * days
        changed_at = submitted_at
    elif referral.status == Referral.Status.WAITING or rng.random() < 0.7:
        referral.waiting_since = now - rng.uniform(0, 120) * days
        submitted_at = referral.waiting_since - rng.uniform(0.05, 7) * days
        changed_at = referral.waiting_since
        if referral.status == Referral.Status.WITHDRAWN:
            changed_at += (now - referral.waiting_since) * rng.random()
    else:
        submitted_at = now - rng.uniform(3, 60) * days
        changed_at = submitted_at + rng.uniform(0.05, 3) * days
    referral.consent_given_on = timezone.localdate(submitted_at) - rng.randint(0, 5) * days
    return {"submitted_at": submitted_at, "status_changed_at": changed_at}
