"""Reads for the programmes app. Every query that returns domain data goes through a
``*_visible_to(user)`` selector, so a user only ever sees what their role and organisation allow.

Roles: admin (superuser), coordinator (of programme sites), crisis-centre staff (of a centre),
volunteer. A person may hold more than one; what they see is the union. Which roles a person
holds is decided in accounts/roles.py; ``is_admin`` is here because every selector asks it.
"""

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as UserModel
from django.db.models import Count, Min, Q, QuerySet

from programmes.models import (
    CrisisCentre,
    Municipality,
    PostalCode,
    Programme,
    ProgrammeSite,
    Referral,
)

# settings.AUTH_USER_MODEL is Django's own User; a request's user may also be anonymous.
User = UserModel | AnonymousUser


def is_admin(user: User) -> bool:
    return user.is_authenticated and user.is_superuser


def programmes_visible_to(user: User) -> QuerySet[Programme]:
    """The programmes and their rules are no secret to anyone signed in."""
    if not user.is_authenticated:
        return Programme.objects.none()
    return Programme.objects.all()


def sites_visible_to(user: User) -> QuerySet[ProgrammeSite]:
    sites = ProgrammeSite.objects.select_related("programme", "crisis_centre", "organisation")
    if is_admin(user):
        return sites
    if not user.is_authenticated:
        return sites.none()
    return sites.filter(Q(coordinators=user) | Q(crisis_centre__staff=user)).distinct()


def crisis_centres_visible_to(user: User) -> QuerySet[CrisisCentre]:
    centres = CrisisCentre.objects.select_related("host_municipality")
    if is_admin(user):
        return centres
    if not user.is_authenticated:
        return centres.none()
    return centres.filter(Q(staff=user) | Q(programme_sites__coordinators=user)).distinct()


def referrals_visible_to(user: User) -> QuerySet[Referral]:
    """Crisis-centre staff see their centre's referrals; coordinators their sites' referrals."""
    referrals = Referral.objects.select_related(
        "site__programme", "site__crisis_centre", "municipality", "postal_code"
    )
    if is_admin(user):
        return referrals
    if not user.is_authenticated:
        return referrals.none()
    return referrals.filter(
        Q(site__crisis_centre__staff=user) | Q(site__coordinators=user)
    ).distinct()


def referrals_referred_by(user: User) -> QuerySet[Referral]:
    """The referrals a user may change as staff of the referring crisis centre."""
    if not user.is_authenticated:
        return Referral.objects.none()
    return referrals_visible_to(user).filter(site__crisis_centre__staff=user).distinct()


def referrals_coordinated_by(user: User) -> QuerySet[Referral]:
    """The referrals a user may take into the queue: as the site's coordinator, or as admin."""
    if is_admin(user):
        return referrals_visible_to(user)
    if not user.is_authenticated:
        return Referral.objects.none()
    return referrals_visible_to(user).filter(site__coordinators=user).distinct()


def referral_waiting_by_site(user: User) -> QuerySet[ProgrammeSite]:
    """Per visible site: how many referrals wait for a volunteer, and since when."""
    waiting = Q(referrals__status=Referral.Status.WAITING)
    return sites_visible_to(user).annotate(
        waiting_count=Count("referrals", filter=waiting),
        waiting_since=Min("referrals__waiting_since", filter=waiting),
    )


def postal_code_lookup(code: str) -> PostalCode | None:
    return PostalCode.objects.select_related("municipality").filter(code=code).first()


def municipality_lookup(number: str) -> Municipality | None:
    return Municipality.objects.filter(number=number).first()
