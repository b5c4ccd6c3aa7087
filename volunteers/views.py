"""The volunteer's own pages: weekly availability, a pause, and what vetting needs doing."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from programmes.forms import AvailabilityForm
from programmes.models import VettingKind
from volunteers.models import Volunteer
from volunteers.selectors import vetting_expiring, vetting_missing, volunteers_visible_to
from volunteers.services import volunteer_profile_update, volunteer_transition

EXPIRY_WARNING_DAYS = 30
# A volunteer may pause and resume on their own; other steps are a coordinator's.
OWN_STEPS = {
    "pause": (Volunteer.Status.PAUSED, Volunteer.Status.ACTIVE),
    "resume": (Volunteer.Status.ACTIVE, Volunteer.Status.PAUSED),
}


def _own_volunteer(user) -> Volunteer:
    volunteer = volunteers_visible_to(user).filter(user=user).first()
    if volunteer is None:
        raise Http404(_("You are not registered as a volunteer."))
    return volunteer


@login_required
def profile(request):
    volunteer = _own_volunteer(request.user)
    form = AvailabilityForm(request.POST or None, slots=volunteer.availability)
    if request.method == "POST" and form.is_valid():
        slots = form.availability_slots()
        if not form.availability_errors:
            try:
                volunteer_profile_update(volunteer, availability=slots)
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, _("Your weekly availability is saved."))
                return redirect("volunteer_profile")
    context = _profile_context(volunteer, form)
    return render(request, "volunteers/profile.html", context, status=form.http_status)


def _profile_context(volunteer: Volunteer, form) -> dict:
    today = timezone.localdate()
    return {
        "volunteer": volunteer,
        "form": form,
        "missing": {
            programme: _labels(vetting_missing(volunteer, programme, today))
            for programme in volunteer.programmes.all()
        },
        "expiring": vetting_expiring(volunteer, EXPIRY_WARNING_DAYS, today),
        "can_pause": volunteer.status == Volunteer.Status.ACTIVE,
        "can_resume": volunteer.status == Volunteer.Status.PAUSED,
    }


def _labels(kinds: list[str]) -> list[str]:
    return [VettingKind(kind).label for kind in kinds]


@login_required
@require_POST
def status_change(request, step):
    volunteer = _own_volunteer(request.user)
    if step not in OWN_STEPS:
        raise Http404
    to, only_from = OWN_STEPS[step]
    try:
        volunteer_transition(volunteer, to, only_from=only_from)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("Your status is now: %s") % Volunteer.Status(to).label)
    return redirect("volunteer_profile")
