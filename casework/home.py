"""The portal's home page: what each role has waiting, read through the role-scoped
selectors."""

from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from accounts.roles import COORDINATING_ROLES, Role, user_roles
from casework.referral_views import WITHDRAWABLE
from matching import wording
from matching.selectors import (
    agreements_awaiting,
    check_ins_due_for,
    matches_taken_part_in,
    participant_view_for,
)
from programmes.audit import referral_ids_of, referrals_log_read
from programmes.models import VettingKind
from programmes.selectors import referral_waiting_by_site, referrals_visible_to
from volunteers.selectors import vetting_missing, volunteers_visible_to

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# The newest referrals on the home page; the rest are on the referral list it links to.
RECENT_REFERRALS = 20


@login_required
def home(request):
    user = request.user
    roles = user_roles(user)
    referrals = referrals_visible_to(user)
    context = {
        "roles": roles,
        "Role": Role,
        "coordinating": bool(roles & COORDINATING_ROLES),
        "referrals": referrals.order_by("-submitted_at", "-pk")[:RECENT_REFERRALS],
        "referrals_count": referrals.count(),
        "sites": referral_waiting_by_site(user) if roles & COORDINATING_ROLES else [],
        "volunteer": getattr(user, "volunteer", None),
        "volunteer_gaps": _own_vetting_gaps(user),
        "volunteer_count": volunteers_visible_to(user).count(),
        "agreements_awaiting": agreements_awaiting(user),
        "own_matches": _own_matches(user),
        "check_ins_due": check_ins_due_for(user, timezone.localdate()),
        "withdrawable": WITHDRAWABLE,
    }
    shown = [context[key] for key in ("referrals", "agreements_awaiting", "check_ins_due")]
    shown.append([row["match"] for row in context["own_matches"]])
    referrals_log_read(user, referral_ids_of(*shown), "portal")
    return render(request, "programmes/home.html", context)


def _own_matches(user) -> list[dict]:
    """A volunteer's matches as they may see them: the municipality only while their place is
    current in an open match, otherwise the alias and that it ended or they left."""
    volunteer = getattr(user, "volunteer", None)
    if volunteer is None:
        return []
    matches = matches_taken_part_in(user).select_related("referral__municipality", "agreement")
    rows = []
    for match in matches.prefetch_related("volunteers__volunteer__user"):
        place = next(p for p in match.volunteers.all() if p.volunteer_id == volunteer.pk)
        rows.append(
            {
                "match": match,
                "participant": participant_view_for(match, volunteer),
                "state": wording.own_part(match, place),
            }
        )
    return rows


def _own_vetting_gaps(user) -> "dict[str, list[StrOrPromise]]":
    volunteer = getattr(user, "volunteer", None)
    if volunteer is None:
        return {}
    today = timezone.localdate()
    return {
        p.name: [VettingKind(kind).label for kind in vetting_missing(volunteer, p, today)]
        for p in volunteer.programmes.all()
    }
