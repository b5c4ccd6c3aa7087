"""The roles a person holds in Kobling, decided here only. A person may hold more than one;
what they see and may do is the union.

- admin: a superuser (``programmes.selectors.is_admin``, which programmes' scoped selectors use);
- coordinator: named coordinator of at least one programme site;
- crisis-centre staff: member of at least one crisis centre;
- volunteer: has a volunteer profile.

Admins do a coordinator's work at every site; a coordinator at the sites they are named for
(``sites_coordinated_by``, ``user_coordinates``).

What a user holds is asked of the database once per user object, so once per request (each
request loads its own user): the middleware, the view and the API's permissions share the
answer. Code that changes someone's memberships and asks again about the same object calls
``forget_roles`` first.
"""

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet

from programmes.models import ProgrammeSite
from programmes.selectors import (
    User,
    forget_site_ids,
    is_admin,
    site_ids_coordinated_by,
    sites_visible_to,
)


class Role(models.TextChoices):
    # TextChoices rather than a plain enum: templates may name the members (Role.COORDINATOR).
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    CRISIS_CENTRE_STAFF = "crisis_centre_staff"
    VOLUNTEER = "volunteer"


# Those who reach referral data: they coordinate, refer, or run the service.
CASE_ROLES = frozenset({Role.ADMIN, Role.COORDINATOR, Role.CRISIS_CENTRE_STAFF})
# Who may do a coordinator's work: coordinators, and admins everywhere.
COORDINATING_ROLES = frozenset({Role.ADMIN, Role.COORDINATOR})


# Where a user object keeps what is known of its roles: {role: held}.
_ROLES_KNOWN = "_kobling_roles"


def _ask(user, role: Role) -> bool:
    if role == Role.ADMIN:
        return is_admin(user)
    if role == Role.COORDINATOR:
        return user.coordinated_sites.exists()
    if role == Role.CRISIS_CENTRE_STAFF:
        return user.crisis_centres.exists()
    return hasattr(user, "volunteer")


def _holds(user, role: Role) -> bool:
    known = getattr(user, _ROLES_KNOWN, None)
    if known is None:
        known = {}
        setattr(user, _ROLES_KNOWN, known)
    if role not in known:
        known[role] = _ask(user, role)
    held: bool = known[role]
    return held


def forget_roles(user) -> None:
    """Ask the database again next time (after the user's memberships changed), for the roles
    and for the sites."""
    if hasattr(user, _ROLES_KNOWN):
        delattr(user, _ROLES_KNOWN)
    forget_site_ids(user)


def user_has_role(user: User, *roles: Role) -> bool:
    """The user holds at least one of ``roles``. Asks only about those, cheapest first."""
    if not user.is_authenticated:
        return False
    return any(_holds(user, role) for role in Role if role in roles)


def user_roles(user: User) -> set[Role]:
    if not user.is_authenticated:
        return set()
    return {role for role in Role if _holds(user, role)}


def require_role(user: User, *roles: Role) -> None:
    """Refuse (403) unless the user holds one of ``roles``."""
    if not user_has_role(user, *roles):
        raise PermissionDenied


def sites_coordinated_by(user: User) -> QuerySet[ProgrammeSite]:
    """The sites where the user may do a coordinator's work."""
    sites = sites_visible_to(user)
    if is_admin(user) or not user.is_authenticated:  # anonymous: sites is already empty
        return sites
    return sites.filter(pk__in=site_ids_coordinated_by(user))


def user_coordinates(user: User, site: ProgrammeSite) -> bool:
    """The user may do a coordinator's work at ``site``."""
    if is_admin(user):
        return True
    return user.is_authenticated and site.coordinators.filter(pk=user.pk).exists()
