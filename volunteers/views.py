"""The volunteer's own pages (weekly availability, languages, a pause, what vetting needs doing)
and the coordinator's volunteer pages (vetting and the steps from applicant to active)."""

from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import COORDINATING_ROLES, require_role
from programmes.forms import AvailabilityForm
from programmes.models import VettingKind
from volunteers.forms import FollowUpForm, LanguagesForm, VettingRecordForm
from volunteers.models import Volunteer
from volunteers.selectors import (
    VETTING_WARNING_DAYS,
    vetting_expiring,
    vetting_missing,
    volunteers_managed_by,
    volunteers_visible_to,
)
from volunteers.services import (
    vetting_record_add,
    volunteer_follow_up_record,
    volunteer_profile_update,
    volunteer_transition,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# A volunteer may pause and resume on their own; other steps are a coordinator's.
OWN_STEPS = {
    "pause": (Volunteer.Status.PAUSED, Volunteer.Status.ACTIVE),
    "resume": (Volunteer.Status.ACTIVE, Volunteer.Status.PAUSED),
}
# The coordinator's steps: the status each one leads to from the one it starts at.
COORDINATOR_STEPS: dict[str, Volunteer.Status] = {
    Volunteer.Status.APPLICANT: Volunteer.Status.VETTED,
    Volunteer.Status.VETTED: Volunteer.Status.ACTIVE,
}


def own_volunteer_or_404(user) -> Volunteer:
    volunteer = volunteers_visible_to(user).filter(user=user).first()
    if volunteer is None:
        raise Http404(_("You are not registered as a volunteer."))
    return volunteer


@login_required
def profile(request):
    volunteer = own_volunteer_or_404(request.user)
    posted = request.POST if request.method == "POST" else None
    # Two forms post to this page; the languages form says which one it is.
    editing_languages = posted is not None and posted.get("form") == "languages"
    form = AvailabilityForm(None if editing_languages else posted, slots=volunteer.availability)
    languages_form = LanguagesForm(posted if editing_languages else None, volunteer=volunteer)
    if editing_languages and _languages_saved(volunteer, languages_form):
        messages.success(request, _("Your languages and activities are saved."))
        return redirect("volunteer_profile")
    if posted is not None and not editing_languages and _availability_saved(volunteer, form):
        messages.success(request, _("Your weekly availability is saved."))
        return redirect("volunteer_profile")
    context = _profile_context(volunteer, form) | {"languages_form": languages_form}
    status = max(form.http_status, languages_form.http_status)
    return render(request, "volunteers/profile.html", context, status=status)


def _availability_saved(volunteer: Volunteer, form: AvailabilityForm) -> bool:
    if not form.is_valid():
        return False
    slots = form.availability_slots()
    if form.availability_errors:
        return False
    try:
        volunteer_profile_update(volunteer, availability=slots)
    except ValidationError as error:
        form.add_service_errors(error)
        return False
    return True


def _languages_saved(volunteer: Volunteer, form: LanguagesForm) -> bool:
    if not form.is_valid():
        return False
    try:
        volunteer_profile_update(
            volunteer,
            languages=form.languages(),
            activities=[activity.code for activity in form.cleaned_data["activities"]],
        )
    except ValidationError as error:
        form.add_service_errors(error)
        return False
    return True


def _profile_context(volunteer: Volunteer, form) -> dict:
    today = timezone.localdate()
    return {
        "volunteer": volunteer,
        "form": form,
        "missing": {
            programme: _labels(vetting_missing(volunteer, programme, today))
            for programme in volunteer.programmes.all()
        },
        "expiring": vetting_expiring(volunteer, today),
        "warning_days": VETTING_WARNING_DAYS,
        "can_pause": volunteer.status == Volunteer.Status.ACTIVE,
        "can_resume": volunteer.status == Volunteer.Status.PAUSED,
    }


def _labels(kinds: list[str]) -> "list[StrOrPromise]":
    return [VettingKind(kind).label for kind in kinds]


@login_required
@require_POST
def status_change(request, step):
    volunteer = own_volunteer_or_404(request.user)
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


def _vetting_gaps(volunteer: Volunteer, today) -> dict:
    return {
        programme: _labels(vetting_missing(volunteer, programme, today))
        for programme in volunteer.programmes.all()
    }


@login_required
def vetting(request, pk):
    require_role(request.user, *COORDINATING_ROLES)
    volunteer = get_object_or_404(volunteers_managed_by(request.user), pk=pk)
    form = VettingRecordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            record = vetting_record_add(volunteer, recorded_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Recorded: %s") % record)
            return redirect("volunteer_vetting", pk=volunteer.pk)
    return render(
        request,
        "volunteers/vetting.html",
        _vetting_context(volunteer, form),
        status=form.http_status,
    )


def _vetting_context(volunteer: Volunteer, form: VettingRecordForm) -> dict:
    today = timezone.localdate()
    next_status = COORDINATOR_STEPS.get(volunteer.status)
    return {
        "volunteer": volunteer,
        "form": form,
        "records": volunteer.vetting.select_related("recorded_by"),
        "missing": _vetting_gaps(volunteer, today),
        "expiring": vetting_expiring(volunteer, today),
        "warning_days": VETTING_WARNING_DAYS,
        "next_status": Volunteer.Status(next_status) if next_status else None,
    }


@login_required
@require_POST
def vetting_status_change(request, pk):
    require_role(request.user, *COORDINATING_ROLES)
    volunteer = get_object_or_404(volunteers_managed_by(request.user), pk=pk)
    to = COORDINATOR_STEPS.get(volunteer.status)
    if to is None:
        raise Http404
    try:
        volunteer_transition(volunteer, to, only_from=volunteer.status, by=request.user)
    except ValidationError as error:
        # Shown next to the button rather than as a message, so it stays where the coordinator
        # looks and the page can answer 400.
        context = _vetting_context(volunteer, VettingRecordForm()) | {
            "status_errors": error.messages
        }
        return render(request, "volunteers/vetting.html", context, status=400)
    messages.success(
        request,
        _("%(name)s is now: %(status)s")
        % {"name": volunteer, "status": Volunteer.Status(to).label},
    )
    return redirect("volunteer_vetting", pk=volunteer.pk)


@login_required
def follow_up(request, pk):
    """The volunteer's follow-up: group meetings, supervision, courses and refreshers."""
    require_role(request.user, *COORDINATING_ROLES)
    volunteer = get_object_or_404(volunteers_managed_by(request.user), pk=pk)
    form = FollowUpForm(request.POST or None, initial={"on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            record = volunteer_follow_up_record(
                volunteer, recorded_by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Recorded: %s") % record)
            return redirect("volunteer_follow_up", pk=volunteer.pk)
    context = {
        "volunteer": volunteer,
        "form": form,
        "follow_ups": volunteer.follow_ups.select_related("recorded_by"),
    }
    return render(request, "volunteers/follow_up.html", context, status=form.http_status)
