"""Portal pages. Each view reads through the role-scoped selectors and renders; nothing else."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from matching.selectors import agreements_awaiting, check_ins_due_for
from programmes.selectors import referral_waiting_by_site, referrals_visible_to, user_roles
from volunteers.selectors import vetting_missing, volunteers_visible_to

RECENT_REFERRALS = 50


@login_required
def home(request):
    user = request.user
    roles = user_roles(user)
    context = {
        "roles": roles,
        "referrals": referrals_visible_to(user)[:RECENT_REFERRALS],
        "sites": referral_waiting_by_site(user) if roles & {"coordinator", "admin"} else [],
        "volunteer": getattr(user, "volunteer", None),
        "volunteer_gaps": _own_vetting_gaps(user),
        "volunteer_count": volunteers_visible_to(user).count(),
        "agreements_awaiting": agreements_awaiting(user),
        "check_ins_due": check_ins_due_for(user, timezone.localdate()),
    }
    return render(request, "programmes/home.html", context)


def _own_vetting_gaps(user) -> dict[str, list[str]]:
    volunteer = getattr(user, "volunteer", None)
    if volunteer is None:
        return {}
    today = timezone.localdate()
    return {p.name: vetting_missing(volunteer, p, today) for p in volunteer.programmes.all()}


def about(request):
    return render(request, "programmes/about.html")
