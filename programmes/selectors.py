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


# The scoped selectors below narrow by the ids of the user's sites (``site_id IN (1, 2)``) rather
# than by joins through the memberships: a join repeats a row for each path to it, and the
# DISTINCT that removes the repeats made PostgreSQL read and sort every row of a large table.
# The ids are asked once per user object, so once per request (each request loads its own
# user), as accounts.roles does with roles: a subquery of memberships in every scoped query cost
# PostgreSQL more to plan than to run (a coordinator's dashboard at 10x: 14 % faster).
# Code that changes someone's memberships and asks again about the same object calls
# ``forget_site_ids`` first (``accounts.roles.forget_roles`` does).
_SITE_IDS_KNOWN = "_kobling_site_ids"


def _site_ids(user: UserModel, kind: str, sites: QuerySet[ProgrammeSite]) -> list[int]:
    known = getattr(user, _SITE_IDS_KNOWN, None)
    if known is None:
        known = {}
        setattr(user, _SITE_IDS_KNOWN, known)
    if kind not in known:
        known[kind] = sorted(set(sites.values_list("pk", flat=True)))
    ids: list[int] = known[kind]
    return ids


def forget_site_ids(user) -> None:
    """Ask the database again next time (after the user's memberships changed)."""
    if hasattr(user, _SITE_IDS_KNOWN):
        delattr(user, _SITE_IDS_KNOWN)


def sites_with_coordinator(user: UserModel) -> QuerySet[ProgrammeSite]:
    """The sites the user is a named coordinator of (admins included only where named)."""
    return ProgrammeSite.objects.filter(coordinators=user)


def site_ids_coordinated_by(user: UserModel) -> list[int]:
    return _site_ids(user, "coordinated", sites_with_coordinator(user))


def site_ids_staffed_by(user: UserModel) -> list[int]:
    """The sites at the crisis centres the user is staff of."""
    return _site_ids(user, "staffed", ProgrammeSite.objects.filter(crisis_centre__staff=user))


def _site_ids_visible_to(user: UserModel) -> list[int]:
    theirs = ProgrammeSite.objects.filter(Q(coordinators=user) | Q(crisis_centre__staff=user))
    return _site_ids(user, "visible", theirs)


def site_ids_visible_to(user: User) -> list[int]:
    """The ids of the sites a user works at, in order; all sites for admins."""
    if not user.is_authenticated:
        return []
    if is_admin(user):
        return _site_ids(user, "all", ProgrammeSite.objects.all())
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
