"""Portal pages. Each view reads through the role-scoped selectors and renders; nothing else."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from matching.lifecycle import OPEN_REFERRAL, referral_withdraw
from matching.selectors import agreements_awaiting, check_ins_due_for, matches_taken_part_in
from programmes.audit import referral_ids_of, referrals_log_read
from programmes.forms import ReferralForm, municipalities_for_lookup
from programmes.selectors import (
    referral_waiting_by_site,
    referrals_referred_by,
    referrals_visible_to,
    sites_visible_to,
    user_roles,
)
from programmes.services import referral_submit
from volunteers.selectors import vetting_missing, volunteers_visible_to

RECENT_REFERRALS = 50
WITHDRAWABLE = tuple(OPEN_REFERRAL)


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
        "own_matches": matches_taken_part_in(user).select_related("referral__municipality"),
        "check_ins_due": check_ins_due_for(user, timezone.localdate()),
    }
    shown = ("referrals", "agreements_awaiting", "own_matches", "check_ins_due")
    referrals_log_read(user, referral_ids_of(*[context[key] for key in shown]), "portal")
    return render(request, "programmes/home.html", context)


def _own_vetting_gaps(user) -> dict[str, list[str]]:
    volunteer = getattr(user, "volunteer", None)
    if volunteer is None:
        return {}
    today = timezone.localdate()
    return {p.name: vetting_missing(volunteer, p, today) for p in volunteer.programmes.all()}


def about(request):
    return render(request, "programmes/about.html")


def _sites_referred_to(user):
    return sites_visible_to(user).filter(crisis_centre__staff=user)


@login_required
def referral_list(request):
    referrals = referrals_referred_by(request.user)
    if not referrals.exists() and not _sites_referred_to(request.user).exists():
        raise PermissionDenied
    context = {"referrals": referrals, "withdrawable": WITHDRAWABLE}
    referrals_log_read(request.user, referrals, "portal")
    return render(request, "programmes/referral_list.html", context)


@login_required
def referral_new(request):
    sites = _sites_referred_to(request.user)
    if not sites.exists():
        raise PermissionDenied
    form = ReferralForm(request.POST or None, sites=sites)
    if request.method == "POST" and form.is_valid():
        data = form.referral_input()
        if not form.availability_errors:
            try:
                referral = referral_submit(
                    site=form.cleaned_data["site"], data=data, submitted_by=request.user
                )
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(
                    request, _("Referral %(alias)s is submitted.") % {"alias": referral.alias}
                )
                return redirect("referral_list")
    context = {"form": form, "municipalities": municipalities_for_lookup()}
    return render(request, "programmes/referral_form.html", context, status=form.http_status)


@login_required
@require_POST
def referral_withdraw_view(request, pk):
    referral = get_object_or_404(referrals_referred_by(request.user), pk=pk)
    try:
        referral_withdraw(
            referral,
            by=request.user,
            reason=request.POST.get("reason", ""),
            note=request.POST.get("note", ""),
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("Referral %(alias)s is withdrawn.") % {"alias": referral.alias})
    return redirect("referral_list")
