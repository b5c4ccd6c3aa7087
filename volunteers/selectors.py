"""Reads for the volunteers app: who may see which volunteer, and who is eligible to be matched."""

import datetime

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from programmes.models import PolitiattestType, Programme, VettingKind
from programmes.selectors import User, is_admin
from volunteers.models import VettingRecord, Volunteer


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
    return volunteers.filter(
        Q(organisation__programme_sites__coordinators=user) | Q(user=user)
    ).distinct()


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


def vetting_expiring(volunteer: Volunteer, within_days: int, on: datetime.date):
    """Vetting records valid today that expire within ``within_days``."""
    until = on + datetime.timedelta(days=within_days)
    return volunteer.vetting.filter(expires_on__gte=on, expires_on__lte=until).order_by(
        "expires_on"
    )


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
