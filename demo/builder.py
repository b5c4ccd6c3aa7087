"""Synthetic, nationwide demo data for Kobling, built by ``manage.py seed_demo``.

Every choice comes from one ``random.Random(seed)``, so a seed always builds the same rows
(names, aliases, usernames, statuses); only the dates move along with today. What the demo drew
later (activities, a few basic language levels, a child of the right age) comes from a second
generator of the same seed, so the first one's draws, and the demo they make, stay as they were.
Demo rows can be found again: crisis centres and organisations by their names, users by the
e-mail domain ``demo.kobling.invalid`` (``.invalid`` is reserved, so no mail to them can ever
be delivered).

Participants get aliases only, never names, and nothing holds a street address. The builder
draws volunteers (demo/people.py), referrals (demo/referrals.py) and a year of matches behind
them (demo/history.py).

Staff must pass a second factor to log in, so every demo staff user (admin, koordinator-*,
krisesenter-*) gets an authenticator with one fixed, public secret, ``DEMO_TOTP_SECRET``: add it
to any authenticator app, or print the current code with ``manage.py demo_totp USERNAME``
(refused when KOBLING_ENV=production). It is a demo secret, known to everyone; never reuse it.
"""

import random
from base64 import b32decode
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.models import User as UserModel  # settings.AUTH_USER_MODEL
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from demo.draws import new_demo_alias, shuffled_quota
from demo.guard import demo_refuse_in_production
from demo.history import HistorySummary, history_build
from demo.people import VolunteerDraft, staff_name
from demo.places import CENTRE_PLACES, CentrePlace, nearest_host_catchments
from demo.referrals import ReferralDraft
from demo.rows import delete_with_dependents, restore_history
from matching.agreements import terms_publish_initial
from matching.models import Match, MatchRun, Proposal
from matching.runs import match_run_execute
from matching.selectors import rules_for
from programmes import catalogue
from programmes.geodata import read_rows
from programmes.models import (
    Activity,
    CrisisCentre,
    Municipality,
    Organisation,
    PostalCode,
    Programme,
    ProgrammeSite,
    Referral,
)
from volunteers.models import VettingRecord, Volunteer

User = get_user_model()

DEMO_PASSWORD = "kobling-demo"
DEMO_EMAIL_DOMAIN = "demo.kobling.invalid"
DEMO_TOTP_SECRET = "KOBLINGDEMOTOTPSECRETKOBLINGDEMO"
VOLUNTEER_COUNT = 600
REFERRAL_COUNT = 150
COORDINATORS_GROUP = "Coordinators"
CRISIS_CENTRE_STAFF_GROUP = "Crisis centre staff"

Status = Volunteer.Status
VOLUNTEER_STATUS_SHARES = {
    Status.ACTIVE: 0.80,
    Status.APPLICANT: 0.08,
    Status.VETTED: 0.02,
    Status.PAUSED: 0.06,
    Status.RETIRED: 0.04,
}
REFERRAL_STATUS_SHARES = {
    Referral.Status.WAITING: 0.75,
    Referral.Status.SUBMITTED: 0.15,
    Referral.Status.WITHDRAWN: 0.10,
}
EXPIRED_ATTEST_SHARE = 0.05
EXPIRING_ATTEST_SHARE = 0.04

# What the back office opens to each staff group. The ModelAdmins narrow it further to what the
# services allow the role (casework/admin.py): staff correct their centre's referrals while
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


@dataclass
class DemoSummary:
    centres: int = 0
    sites: int = 0
    volunteers: int = 0
    active_volunteers: int = 0
    referrals_by_status: dict[str, int] = field(default_factory=dict)
    users: int = 0
    logins: list[tuple[str, str, str]] = field(default_factory=list)
    history: HistorySummary = field(default_factory=HistorySummary)
    runs: list = field(default_factory=list)


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
    referrals = Referral.objects.filter(site__in=sites)
    with transaction.atomic():
        for rows in (
            # Matches protect their proposals, and both protect their referrals.
            Match.objects.filter(referral__in=referrals),
            MatchRun.objects.filter(Q(site__in=sites) | Q(crisis_centre__in=_demo_centres())),
            Proposal.objects.filter(referral__in=referrals),
            referrals,
            volunteers,
            sites,
            organisations,
            _demo_centres(),
            _demo_users(),
        ):
            delete_with_dependents(rows)


def _demo_centres() -> QuerySet[CrisisCentre]:
    return CrisisCentre.objects.filter(name__in=[p.centre_name for p in CENTRE_PLACES])


def _demo_organisations() -> QuerySet[Organisation]:
    names = [p.sanitetsforening_name for p in CENTRE_PLACES]
    names += [p.redd_barna_name for p in CENTRE_PLACES]
    return Organisation.objects.filter(name__in=names)


def _demo_users() -> QuerySet[UserModel]:
    return User.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}")


def demo_build(seed: int, scale: int = 1) -> DemoSummary:
    """Build the whole demo in one transaction. Raises GeodataMissing before writing anything.
    ``scale`` multiplies the volunteers and referrals (10: a large organisation's numbers, for
    load tests); the centres, sites and staff logins stay the demo's."""
    builder = DemoBuilder(seed, scale)
    with transaction.atomic():
        return builder.build()


@dataclass
class CentreRows:
    place: CentrePlace
    centre: CrisisCentre
    coordinator: UserModel
    staff: UserModel
    sites: dict[str, ProgrammeSite] = field(default_factory=dict)


class DemoBuilder:
    """Gathers the geodata, then writes centres, sites, volunteers and referrals in bulk."""

    def __init__(self, seed: int, scale: int = 1):
        demo_refuse_in_production()
        self.volunteer_count = VOLUNTEER_COUNT * scale
        self.referral_count = REFERRAL_COUNT * scale
        self.rng = random.Random(seed)
        self.extra_rng = random.Random(f"{seed}-activities-and-levels")
        self.now = timezone.now().replace(second=0, microsecond=0)
        self.today = timezone.localdate()
        self.password = make_password(DEMO_PASSWORD)
        self.summary = DemoSummary()

    def build(self) -> DemoSummary:
        self.load_geodata()
        self.programmes = self.ensure_programmes()
        catalogue.activities_ensure()
        self.activities = dict(Activity.objects.values_list("code", "pk"))
        self.groups = self.ensure_groups()
        self.admin_note = self.ensure_admin()
        self.centres = self.create_centres()
        self.give_staff_demo_authenticator()
        self.create_sites()
        volunteers = self.create_volunteers()
        referrals = self.create_referrals()
        self.summarise(volunteers, referrals)
        self.summary.history = history_build(self)
        self.summary.runs = self.run_matching_at_first_centre()
        return self.summary

    def run_matching_at_first_centre(self) -> list[MatchRun]:
        """Today's run for each programme at the demo coordinator's centre, as the coordinator
        would start it: proposals to review, and referrals nobody could be found for, with why."""
        row = self.centres[0]
        runs = [
            MatchRun.objects.create(
                programme=site.programme,
                scope=MatchRun.Scope.SITE,
                site=site,
                on_date=self.today,
                rules=rules_for(site.programme),
                started_by=row.coordinator,
            )
            for site in row.sites.values()
        ]
        return [match_run_execute(run.pk) for run in runs]

    def load_geodata(self) -> None:
        self.municipalities = list(Municipality.objects.order_by("number"))
        by_number = {m.number: m for m in self.municipalities}
        missing = [p.host_number for p in CENTRE_PLACES if p.host_number not in by_number]
        if missing or not PostalCode.objects.exists():
            raise GeodataMissing(missing)
        by_pk = {m.pk: m for m in self.municipalities}
        codes: dict[int, list[PostalCode]] = {}
        for code in PostalCode.objects.order_by("code"):
            code.municipality = by_pk[code.municipality_id]
            codes.setdefault(code.municipality_id, []).append(code)
        # People live at street-address codes; post-box codes share their town's point.
        rows = read_rows("postal_codes.csv")
        street = {row["postal_code"] for row in rows if row["point"] == "postal_area"}
        self.postal_codes = {
            pk: [c for c in found if c.code in street] or found for pk, found in codes.items()
        }
        hosts = [by_number[p.host_number] for p in CENTRE_PLACES]
        self.catchments = nearest_host_catchments(self.municipalities, hosts)
        self.centre_of = {
            m.pk: index for index, catchment in enumerate(self.catchments) for m in catchment
        }

    def ensure_programmes(self) -> dict[str, Programme]:
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
        self, username: str, *, is_staff: bool = False, name: tuple[str, str] = ("", "")
    ) -> UserModel:
        return User(
            username=username,
            email=f"{username}@{DEMO_EMAIL_DOMAIN}",
            password=self.password,
            first_name=name[0],
            last_name=name[1],
            is_staff=is_staff,
        )

    def create_centres(self) -> list[CentreRows]:
        rows = []
        for index, place in enumerate(CENTRE_PLACES):
            host = next(m for m in self.municipalities if m.number == place.host_number)
            coordinator, staff = f"koordinator-{place.slug}", f"krisesenter-{place.slug}"
            rows.append(
                CentreRows(
                    place=place,
                    centre=CrisisCentre(name=place.centre_name, host_municipality=host),
                    coordinator=self.new_user(
                        coordinator, is_staff=True, name=staff_name(2 * index)
                    ),
                    staff=self.new_user(staff, is_staff=True, name=staff_name(2 * index + 1)),
                )
            )
        User.objects.bulk_create([r.coordinator for r in rows] + [r.staff for r in rows])
        CrisisCentre.objects.bulk_create([r.centre for r in rows])
        self.link_centres(rows)
        return rows

    def give_staff_demo_authenticator(self) -> None:
        """One known TOTP secret for all demo staff, so the demo can be tried at once."""
        key = b32decode(DEMO_TOTP_SECRET).hex()
        staff = _demo_users().filter(is_staff=True)
        # django-otp ships no stubs, so the plugin does not know its reverse relation.
        staff = staff.exclude(totpdevice__isnull=False)  # type: ignore[misc]
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
        homes = self.place_people(self.volunteer_count)
        statuses = shuffled_quota(self.rng, VOLUNTEER_STATUS_SHARES, self.volunteer_count)
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

    def link_volunteers(self, drafts: list[VolunteerDraft]) -> None:
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
        offers = Volunteer.activities.through
        offers.objects.bulk_create(
            offers(volunteer_id=d.volunteer.pk, activity_id=self.activities[code])
            for d in drafts
            for code in d.activities
        )

    def create_referrals(self) -> list[Referral]:
        homes = self.place_people(self.referral_count)
        statuses = shuffled_quota(self.rng, REFERRAL_STATUS_SHARES, self.referral_count)
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
        wishes = Referral.wished_activities.through
        wishes.objects.bulk_create(
            wishes(referral_id=d.referral.pk, activity_id=self.activities[code])
            for d in drafts
            for code in d.wished
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

    def showcase_volunteer(self) -> VolunteerDraft:
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


def _permissions(by_app: dict[str, tuple[str, ...]]) -> list[Permission]:
    wanted = {(app, codename) for app, codenames in by_app.items() for codename in codenames}
    found = Permission.objects.filter(
        content_type__app_label__in=by_app, codename__in=[c for _, c in wanted]
    ).select_related("content_type")
    permissions = [p for p in found if (p.content_type.app_label, p.codename) in wanted]
    if len(permissions) != len(wanted):
        raise LookupError("Some permissions are missing: run `manage.py migrate` first.")
    return permissions
