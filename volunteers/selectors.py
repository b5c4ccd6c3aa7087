"""Reads for the volunteers app: who may see which volunteer, and who is eligible to be matched."""

import datetime
import operator
from functools import reduce

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.text import slugify

from programmes.models import Organisation, PolitiattestType, Programme, ProgrammeSite, VettingKind
from programmes.selectors import User, is_admin, sites_with_coordinator
from volunteers.models import ApplicationStage, VettingRecord, Volunteer, VolunteerApplication

# Every "expires soon" (the reminder to the volunteer, the lists, the dashboard, the volunteer's
# pages, the back office) uses this one window: 60 days, because renewing a politiattest takes
# the police weeks, and an expired one stops the volunteer being matched.
VETTING_WARNING_DAYS = 60


def volunteers_visible_to(user: User) -> QuerySet[Volunteer]:
    """Admins see all; coordinators see the volunteers of their sites' organisations; a volunteer
    sees only themself; crisis-centre staff see none."""
    volunteers = Volunteer.objects.select_related(
        "user", "organisation", "home_postal_code__municipality"
    )
    if is_admin(user):
        return volunteers
    if not user.is_authenticated:
        return volunteers.none()
    coordinated = sites_with_coordinator(user).values("organisation")
    return volunteers.filter(Q(organisation__in=coordinated) | Q(user=user))


def _valid_record(kind: str, on: datetime.date, politiattest_types: list[str] | None = None):
    records = VettingRecord.objects.filter(
        volunteer=OuterRef("pk"), kind=kind, issued_on__lte=on
    ).filter(Q(expires_on__isnull=True) | Q(expires_on__gte=on))
    if politiattest_types is not None:
        records = records.filter(politiattest_type__in=politiattest_types)
    return Exists(records)


def accepted_politiattest_types(programme: Programme) -> list[str]:
    """A certificate for work with children also covers the ordinary kind."""
    if programme.required_politiattest_type == PolitiattestType.CHILDREN:
        return [PolitiattestType.CHILDREN]
    return [PolitiattestType.ORDINARY, PolitiattestType.CHILDREN]


def volunteers_eligible_for(programme: Programme, on: datetime.date) -> QuerySet[Volunteer]:
    """Active volunteers of the programme holding every vetting item it requires on ``on``."""
    volunteers = Volunteer.objects.filter(programmes=programme, status=Volunteer.Status.ACTIVE)
    for kind in programme.required_vetting:
        types = accepted_politiattest_types(programme) if kind == VettingKind.POLITIATTEST else None
        volunteers = volunteers.filter(_valid_record(kind, on, types))
    return volunteers


def vetting_missing(volunteer: Volunteer, programme: Programme, on: datetime.date) -> list[str]:
    """The vetting kinds the programme requires that the volunteer lacks, or holds expired, on
    ``on``. Empty means the vetting is in order."""
    records = list(volunteer.vetting.all())
    politiattest_types = accepted_politiattest_types(programme)
    missing = []
    for kind in programme.required_vetting:
        holds = any(
            record.kind == kind
            and record.is_valid_on(on)
            and (kind != VettingKind.POLITIATTEST or record.politiattest_type in politiattest_types)
            for record in records
        )
        if not holds:
            missing.append(kind)
    return missing


def vetting_warning_until(on: datetime.date) -> datetime.date:
    """The last day of the warning window that starts on ``on``."""
    return on + datetime.timedelta(days=VETTING_WARNING_DAYS)


def vetting_expires_soon(record: VettingRecord, on: datetime.date) -> bool:
    """The record is valid on ``on`` and runs out within the warning window."""
    expires = record.expires_on
    return expires is not None and on <= expires <= vetting_warning_until(on)


def vetting_expiring_soon(
    on: datetime.date, records: QuerySet[VettingRecord] | None = None
) -> QuerySet[VettingRecord]:
    """The records (every one, unless given) valid on ``on`` that run out within the warning
    window."""
    records = VettingRecord.objects.all() if records is None else records
    return records.filter(expires_on__gte=on, expires_on__lte=vetting_warning_until(on))


def vetting_expiring(volunteer: Volunteer, on: datetime.date) -> QuerySet[VettingRecord]:
    """The volunteer's records that run out within the warning window, soonest first."""
    return vetting_expiring_soon(on, volunteer.vetting.all()).order_by("expires_on")


def vetting_valid_until(
    volunteer_ids, programme: Programme, on: datetime.date
) -> dict[int, datetime.date | None]:
    """For each volunteer, the last day their vetting for the programme holds, counting only
    records valid on ``on``: the earliest, over the kinds the programme requires, of the latest
    expiry within each kind. None means it does not run out (or is not in order on ``on``, which
    eligibility already rules out)."""
    politiattest_types = accepted_politiattest_types(programme)
    records = VettingRecord.objects.filter(volunteer_id__in=list(volunteer_ids), issued_on__lte=on)
    latest: dict[tuple[int, str], datetime.date | None] = {}
    for record in records.filter(Q(expires_on__isnull=True) | Q(expires_on__gte=on)):
        if record.kind == VettingKind.POLITIATTEST and (
            record.politiattest_type not in politiattest_types
        ):
            continue
        key = (record.volunteer_id, record.kind)
        known = latest.get(key, on)
        latest[key] = (
            None if known is None or record.expires_on is None else max(known, record.expires_on)
        )
    until: dict[int, datetime.date | None] = {}
    for volunteer_id in volunteer_ids:
        ends = [latest.get((volunteer_id, kind)) for kind in programme.required_vetting]
        dated = [day for day in ends if day is not None]
        until[volunteer_id] = min(dated) if dated else None
    return until


def volunteers_free_capacity(volunteer_ids) -> dict[int, int]:
    """Lock the volunteers (in id order, so concurrent runs and approvals cannot deadlock) and
    return each one's capacity left after open matches and proposals awaiting review."""
    locked = Volunteer.objects.select_for_update().filter(pk__in=list(volunteer_ids))
    rows = list(locked.order_by("pk").values_list("pk", "capacity", "commitments"))
    pending = (
        Volunteer.objects.filter(pk__in=[pk for pk, _capacity, _commitments in rows])
        # Proposal.Status.PENDING; volunteers/ does not import matching/.
        .filter(proposal_pairs__proposal__status="pending")
        .values_list("pk")
        .annotate(n=Count("proposal_pairs"))
    )
    held = dict(pending)
    return {pk: capacity - commitments - held.get(pk, 0) for pk, capacity, commitments in rows}


def vetting_due(on: datetime.date, programmes) -> Q:
    """Volunteers who hold, for one of their ``programmes``, a required vetting item that is
    missing or runs out within the warning window from ``on``: what a coordinator must chase
    before it stops them being matched. A renewal already recorded counts. One condition in SQL,
    so a list of any length costs the same; ``programmes`` are every programme (there are a
    few)."""
    horizon = vetting_warning_until(on)
    due = []
    for programme in programmes:
        takes_part = Exists(
            Volunteer.programmes.through.objects.filter(
                volunteer=OuterRef("pk"), programme=programme
            )
        )
        lacking = [
            ~_held_beyond(kind, on, horizon, _accepted_types(programme, kind))
            for kind in programme.required_vetting
        ]
        if lacking:
            due.append(takes_part & reduce(operator.or_, lacking))
    return reduce(operator.or_, due, Q(pk__in=[]))


def _accepted_types(programme: Programme, kind: str) -> list[str] | None:
    return accepted_politiattest_types(programme) if kind == VettingKind.POLITIATTEST else None


def _held_beyond(kind: str, on: datetime.date, horizon: datetime.date, types: list[str] | None):
    records = VettingRecord.objects.filter(
        volunteer=OuterRef("pk"), kind=kind, issued_on__lte=on
    ).filter(Q(expires_on__isnull=True) | Q(expires_on__gt=horizon))
    if types is not None:
        records = records.filter(politiattest_type__in=types)
    return Exists(records)


def volunteers_managed_by(user: User) -> QuerySet[Volunteer]:
    """The volunteers a user looks after: as admin, or as coordinator of a site of the
    volunteer's organisation. Never themself (a volunteer has their own pages), so volunteers
    and crisis-centre staff manage none."""
    if not user.is_authenticated:
        return Volunteer.objects.none()
    return volunteers_visible_to(user).exclude(user=user)


def applications_visible_to(user: User) -> QuerySet[VolunteerApplication]:
    """Confirmed applications: admins see all; coordinators those to the programmes and
    organisations of the sites they coordinate; nobody else any. An application whose e-mail
    address is not confirmed is shown to no one."""
    applications = (
        VolunteerApplication.objects.exclude(stage=ApplicationStage.UNCONFIRMED)
        .select_related("programme", "organisation", "volunteer__user", "postal_code")
        .order_by("stage_changed_at", "pk")
    )
    if is_admin(user):
        return applications
    if not user.is_authenticated:
        return applications.none()
    coordinated = ProgrammeSite.objects.filter(
        coordinators=user, programme=OuterRef("programme"), organisation=OuterRef("organisation")
    )
    return applications.filter(Exists(coordinated))


# slugify drops letters it cannot write in ASCII: "Bodø" would read "bod".
NORWEGIAN_LETTERS = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "Ae", "Ø": "O", "Å": "A"})


def organisation_slug(organisation: Organisation) -> str:
    """The organisation in a public address: its name, as letters, digits and hyphens
    ("Redd Barna Bodø" → "redd-barna-bodo")."""
    return slugify(organisation.name.translate(NORWEGIAN_LETTERS))


def recruiting_organisation(programme: Programme, slug: str) -> Organisation | None:
    """The organisation running a site of the programme whose name gives ``slug``; the first
    by id should two names give the same one."""
    organisations = Organisation.objects.filter(programme_sites__programme=programme).distinct()
    for organisation in organisations.order_by("pk"):
        if organisation_slug(organisation) == slug:
            return organisation
    return None


def recruitment_pages_for(user: User) -> list[tuple[Programme, Organisation]]:
    """The programmes and organisations whose public application page the user may hand out:
    those of the sites they coordinate (every site's, for admins)."""
    sites = ProgrammeSite.objects.select_related("programme", "organisation")
    if not is_admin(user):
        sites = sites.filter(coordinators=user) if user.is_authenticated else sites.none()
    pairs = {(site.programme, site.organisation) for site in sites}
    return sorted(pairs, key=lambda pair: (pair[0].name, pair[1].name))
