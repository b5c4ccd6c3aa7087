"""Referral pages of the portal: crisis-centre staff submit a referral; staff, the site's
coordinators and admins withdraw one. Each view reads through the role-scoped selectors and
calls one service."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from matching.lifecycle import OPEN_REFERRAL, referral_withdraw
from matching.models import Match
from programmes.audit import referrals_log_read
from programmes.forms import ReferralForm, WithdrawForm, municipalities_for_lookup
from programmes.models import Referral
from programmes.selectors import referrals_coordinated_by, referrals_referred_by, sites_visible_to
from programmes.services import SubmissionKeyReused, referral_submit

WITHDRAWABLE = tuple(OPEN_REFERRAL)


def _sites_referred_to(user):
    return sites_visible_to(user).filter(crisis_centre__staff=user)


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
                    site=form.cleaned_data["site"],
                    data=data,
                    submitted_by=request.user,
                    submission_key=form.cleaned_data["submission_key"],
                )
            except ValidationError as error:
                form.add_service_errors(error)
            except SubmissionKeyReused as reused:
                form.add_error(None, _already_sent(reused.earlier))
            else:
                messages.success(
                    request, _("Referral %(alias)s is submitted.") % {"alias": referral.alias}
                )
                return redirect("referral_list")
    context = {"form": form, "municipalities": municipalities_for_lookup()}
    return render(request, "programmes/referral_form.html", context, status=form.http_status)


def _already_sent(earlier: Referral) -> str:
    return _(
        "This form was already sent, as referral %(alias)s, with other answers. To refer "
        "someone else, open a new form."
    ) % {"alias": earlier.alias}


def _withdrawable_referral(user, pk) -> Referral:
    """Staff of the referring centre, the site's coordinators and admins may withdraw."""
    for scoped in (referrals_referred_by(user), referrals_coordinated_by(user)):
        referral = scoped.filter(pk=pk).first()
        if referral is not None:
            return referral
    raise Http404


@login_required
def referral_withdraw_view(request, pk):
    """A confirmation page: what withdrawing does in this state, a reason, then the step."""
    referral = _withdrawable_referral(request.user, pk)
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            referral_withdraw(referral, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(
                request, _("Referral %(alias)s is withdrawn.") % {"alias": referral.alias}
            )
            return redirect(_after_withdrawing(request.user, referral))
    referral.refresh_from_db()
    context = {
        "referral": referral,
        "form": form,
        "open": referral.status in WITHDRAWABLE,
        "consequences": _withdrawal_consequences(referral),
    }
    referrals_log_read(request.user, [referral.pk], "portal")
    return render(request, "programmes/referral_withdraw.html", context, status=form.http_status)


def _after_withdrawing(user, referral) -> str:
    if referrals_referred_by(user).filter(pk=referral.pk).exists():
        return "referral_list"
    return "dashboard"


def _withdrawal_consequences(referral: Referral) -> list[str]:
    """What withdrawing does to a referral in its current state, in plain words."""
    status = referral.status
    said: dict[str, str] = {
        Referral.Status.SUBMITTED: _("The coordinator no longer sees it among new referrals."),
        Referral.Status.WAITING: _("It leaves the queue and is never proposed to a volunteer."),
        Referral.Status.PROPOSED: _(
            "The proposal waiting for the coordinator's review is withdrawn, and its volunteers "
            "are free for other participants."
        ),
    }
    lines = [said[status]] if status in said else []
    match = referral.matches.filter(status__in=Match.OPEN_STATUSES).first()
    if match is not None:
        lines.append(_match_ends(match))
    if status in WITHDRAWABLE:
        lines.append(
            _(
                "The coordinator is told. Withdrawing cannot be undone: to start again, submit "
                "a new referral."
            )
        )
    return lines


def _match_ends(match: Match) -> str:
    places = match.volunteers.filter(left_at__isnull=True).select_related("volunteer__user")
    names = ", ".join(str(place.volunteer) for place in places)
    return ngettext(
        "The match with %(names)s ends at once and the volunteer is told; from then on they "
        "see nothing but the alias.",
        "The match with %(names)s ends at once and the volunteers are told; from then on they "
        "see nothing but the alias.",
        len(places),
    ) % {"names": names}
