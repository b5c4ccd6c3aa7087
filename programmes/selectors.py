"""Reads for the programmes app. Every query that returns domain data goes through a
``*_visible_to(user)`` selector, so a user only ever sees what their role and organisation allow.

Roles: admin (superuser), coordinator (of programme sites), crisis-centre staff (of a centre),
volunteer. A person may hold more than one; what they see is the union. Which roles a person
holds is decided in accounts/roles.py; ``is_admin`` is here because every selector asks it.
"""

from typing import Any

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


# A subquery of ids, ``.values("pk")``.
SiteIds = QuerySet[ProgrammeSite, Any]


# The scoped selectors below narrow by these subqueries of site ids (``site_id IN (SELECT ...)``)
# rather than by joins through the memberships: a join repeats a row for each path to it, and the
# DISTINCT that removes the repeats made PostgreSQL read and sort every row of a large table.
def sites_with_coordinator(user: UserModel) -> QuerySet[ProgrammeSite]:
    """The sites the user is a named coordinator of (admins included only where named)."""
    return ProgrammeSite.objects.filter(coordinators=user)


def site_ids_coordinated_by(user: UserModel) -> SiteIds:
    return sites_with_coordinator(user).values("pk")


def site_ids_staffed_by(user: UserModel) -> SiteIds:
    """The sites at the crisis centres the user is staff of."""
    return ProgrammeSite.objects.filter(crisis_centre__staff=user).values("pk")


def _site_ids_visible_to(user: UserModel) -> SiteIds:
    return ProgrammeSite.objects.filter(Q(coordinators=user) | Q(crisis_centre__staff=user)).values(
        "pk"
    )


def site_ids_visible_to(user: User) -> SiteIds:
    """The ids of the sites a user works at, as a subquery; all sites for admins."""
    if is_admin(user):
        return ProgrammeSite.objects.values("pk")
    if not user.is_authenticated:
        return ProgrammeSite.objects.none().values("pk")
    return _site_ids_visible_to(user)


def sites_visible_to(user: User) -> QuerySet[ProgrammeSite]:
    sites = ProgrammeSite.objects.select_related("programme", "crisis_centre", "organisation")
    if is_admin(user):
        return sites
    if not user.is_authenticated:
        return sites.none()
    return sites.filter(pk__in=_site_ids_visible_to(user))


def crisis_centres_visible_to(user: User) -> QuerySet[CrisisCentre]:
    centres = CrisisCentre.objects.select_related("host_municipality")
    if is_admin(user):
        return centres
    if not user.is_authenticated:
        return centres.none()
    theirs = CrisisCentre.objects.filter(Q(staff=user) | Q(programme_sites__coordinators=user))
    return centres.filter(pk__in=theirs.values("pk"))


def referrals_visible_to(user: User) -> QuerySet[Referral]:
    """Crisis-centre staff see their centre's referrals; coordinators their sites' referrals."""
    referrals = Referral.objects.select_related(
        "site__programme", "site__crisis_centre", "municipality", "postal_code"
    )
    if is_admin(user):
        return referrals
    if not user.is_authenticated:
        return referrals.none()
    return referrals.filter(site__in=_site_ids_visible_to(user))


def referrals_referred_by(user: User) -> QuerySet[Referral]:
    """The referrals a user may change as staff of the referring crisis centre."""
    if not user.is_authenticated:
        return Referral.objects.none()
    return referrals_visible_to(user).filter(site__in=site_ids_staffed_by(user))


def referrals_coordinated_by(user: User) -> QuerySet[Referral]:
    """The referrals a user may take into the queue: as the site's coordinator, or as admin."""
    if is_admin(user):
        return referrals_visible_to(user)
    if not user.is_authenticated:
        return Referral.objects.none()
    return referrals_visible_to(user).filter(site__in=site_ids_coordinated_by(user))


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
