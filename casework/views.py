"""Casework pages: each view reads through a scoped selector and renders; changes go through the
owning app's services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casework.forms import AnyGenderConsentForm, ReferralEditForm
from casework.referral_page import consent_to_another_gender_possible, referral_facts
from casework.timeline import referral_timeline
from casework.volunteer_page import volunteer_page_for
from matching.lifecycle import OPEN_REFERRAL
from programmes.audit import referrals_log_read
from programmes.forms import municipalities_for_lookup
from programmes.selectors import (
    referrals_coordinated_by,
    referrals_referred_by,
    referrals_visible_to,
)
from programmes.services import (
    ReferralChangedMeanwhile,
    referral_is_editable,
    referral_record_any_gender_consent,
    referral_update,
)
from volunteers.selectors import volunteers_managed_by


def _referral_of(referrals, pk):
    """The referral with what its page shows, from the reader's scope; 404 outside it."""
    referrals = referrals.select_related(
        "site__organisation", "consent_recorded_by", "any_gender_consent_recorded_by"
    ).prefetch_related("avoid_municipalities", "wished_activities")
    return get_object_or_404(referrals, pk=pk)


@login_required
def referral_detail(request, pk):
    """One referral for the site's coordinators and the referring centre's staff: what is
    known, how long the participant has waited, and everything that happened."""
    referral = _referral_of(referrals_visible_to(request.user), pk)
    return _referral_page(request, referral)


def _referral_page(request, referral, *, consent_form=None, status=200):
    user = request.user
    coordinating = referrals_coordinated_by(user).filter(pk=referral.pk).exists()
    referring = referrals_referred_by(user).filter(pk=referral.pk).exists()
    consent_open = consent_to_another_gender_possible(referral)
    context = {
        "referral": referral,
        "facts": referral_facts(referral),
        "timeline": referral_timeline(referral, coordinating=coordinating),
        "coordinating": coordinating,
        "can_edit": referring and referral_is_editable(referral),
        "can_withdraw": referral.status in OPEN_REFERRAL,
        "can_record_consent": referring and consent_open and not referral.any_gender_consent_on,
        "consent_form": consent_form or AnyGenderConsentForm(),
    }
    referrals_log_read(user, [referral.pk], "portal")
    return render(request, "casework/referral.html", context, status=status)


@login_required
def referral_edit(request, pk):
    """Staff of the referring centre correct a referral while it waits; a form shown before
    someone else changed it is refused and shown again as the referral now is."""
    referral = _referral_of(referrals_referred_by(request.user), pk)
    if not referral_is_editable(referral):
        messages.error(request, _no_longer_editable(referral))
        return redirect("referral_detail", pk=pk)
    form = ReferralEditForm(request.POST or None, referral=referral)
    status = 200
    if request.method == "POST":
        try:
            saved = _referral_save(request.user, referral, form)
        except ReferralChangedMeanwhile:
            form, status = _changed_meanwhile(request.user, referral), 409
        else:
            if saved:
                messages.success(request, _("%(alias)s is changed.") % {"alias": referral.alias})
                return redirect("referral_detail", pk=pk)
            status = form.http_status
    context = {"referral": referral, "form": form, "municipalities": municipalities_for_lookup()}
    referrals_log_read(request.user, [referral.pk], "portal")
    return render(request, "casework/referral_edit.html", context, status=status)


def _referral_save(user, referral, form: ReferralEditForm) -> bool:
    """Save a valid form's changes; the service's refusals go on the form, next to the field
    they name (one that no longer fits the referral's status, above the form)."""
    if not form.is_valid():
        return False
    changes = form.changes()
    if form.availability_errors:
        return False
    version = form.cleaned_data["version"]
    try:
        referral_update(referral, changes=changes, updated_by=user, version=version)
    except ValidationError as error:
        form.add_service_errors(error)
        return False
    return True


def _no_longer_editable(referral) -> str:
    return _("%(alias)s is “%(status)s” and can no longer be changed.") % {
        "alias": referral.alias,
        "status": referral.get_status_display().lower(),
    }


def _changed_meanwhile(user, referral) -> ReferralEditForm:
    """A blank form with the referral as it is now, saying why what was sent is not saved."""
    form = ReferralEditForm(referral=_referral_of(referrals_referred_by(user), referral.pk))
    form.refusal = _(
        "Someone else changed %(alias)s while you were editing it, so nothing was saved. The "
        "form now shows the referral as it is: make your changes again."
    ) % {"alias": referral.alias}
    return form


@login_required
@require_POST
def referral_any_gender_consent(request, pk):
    """Staff record that the participant accepts a volunteer of another gender than wished."""
    referral = _referral_of(referrals_referred_by(request.user), pk)
    form = AnyGenderConsentForm(request.POST)
    if not form.is_valid():
        return _referral_page(request, referral, consent_form=form, status=400)
    try:
        referral_record_any_gender_consent(referral, by=request.user)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(
            request,
            _("Recorded: %(alias)s accepts a volunteer of another gender.")
            % {"alias": referral.alias},
        )
    return redirect("referral_detail", pk=pk)


@login_required
def volunteer_detail(request, pk):
    """A volunteer as their coordinator needs to know them; 404 for anyone else."""
    volunteer = get_object_or_404(volunteers_managed_by(request.user), pk=pk)
    context = volunteer_page_for(volunteer, request.user, timezone.localdate())
    shown = [line.match.referral_id for line in context["matches"]]
    referrals_log_read(request.user, shown, "portal")
    return render(request, "casework/volunteer.html", context)
