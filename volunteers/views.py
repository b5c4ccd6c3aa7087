"""The volunteer's own pages (weekly availability, languages, a pause, what vetting needs doing)
and the coordinator's volunteer pages (vetting and the steps from applicant to active)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from programmes.forms import AvailabilityForm
from programmes.models import VettingKind
from programmes.selectors import user_roles
from volunteers.forms import LanguagesForm, VettingRecordForm
from volunteers.models import Volunteer
from volunteers.selectors import vetting_expiring, vetting_missing, volunteers_visible_to
from volunteers.services import (
    vetting_record_add,
    volunteer_profile_update,
    volunteer_transition,
)

EXPIRY_WARNING_DAYS = 30
# A volunteer may pause and resume on their own; other steps are a coordinator's.
OWN_STEPS = {
    "pause": (Volunteer.Status.PAUSED, Volunteer.Status.ACTIVE),
    "resume": (Volunteer.Status.ACTIVE, Volunteer.Status.PAUSED),
}
# The coordinator's steps: the status each one leads to from the one it starts at.
COORDINATOR_STEPS = {
    Volunteer.Status.APPLICANT: Volunteer.Status.VETTED,
    Volunteer.Status.VETTED: Volunteer.Status.ACTIVE,
}


def _own_volunteer(user) -> Volunteer:
    volunteer = volunteers_visible_to(user).filter(user=user).first()
    if volunteer is None:
        raise Http404(_("You are not registered as a volunteer."))
    return volunteer


@login_required
def profile(request):
    volunteer = _own_volunteer(request.user)
    posted = request.POST if request.method == "POST" else None
    # Two forms post to this page; the languages form says which one it is.
    editing_languages = posted is not None and posted.get("form") == "languages"
    form = AvailabilityForm(None if editing_languages else posted, slots=volunteer.availability)
    languages_form = LanguagesForm(posted if editing_languages else None, volunteer=volunteer)
    if editing_languages and _languages_saved(volunteer, languages_form):
        messages.success(request, _("Your languages and interests are saved."))
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
            volunteer, languages=form.languages(), interests=form.cleaned_data["interests"]
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


def _deny_unless_coordinator(user) -> None:
    if not user_roles(user) & {"coordinator", "admin"}:
        raise PermissionDenied


def _managed_volunteers(user):
    """The volunteers a coordinator may vet: never themself, even if they volunteer too."""
    return volunteers_visible_to(user).exclude(user=user)


@login_required
def volunteer_list(request):
    _deny_unless_coordinator(request.user)
    today = timezone.localdate()
    volunteers = _managed_volunteers(request.user).prefetch_related("programmes", "vetting")
    rows = [
        (
            volunteer,
            _vetting_gaps(volunteer, today),
            vetting_expiring(volunteer, EXPIRY_WARNING_DAYS, today),
        )
        for volunteer in volunteers
    ]
    return render(request, "volunteers/volunteer_list.html", {"rows": rows})


def _vetting_gaps(volunteer: Volunteer, today) -> dict:
    return {
        programme: _labels(vetting_missing(volunteer, programme, today))
        for programme in volunteer.programmes.all()
    }


@login_required
def vetting(request, pk):
    _deny_unless_coordinator(request.user)
    volunteer = get_object_or_404(_managed_volunteers(request.user), pk=pk)
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
        "expiring": vetting_expiring(volunteer, EXPIRY_WARNING_DAYS, today),
        "next_status": Volunteer.Status(next_status) if next_status else None,
    }


@login_required
@require_POST
def vetting_status_change(request, pk):
    _deny_unless_coordinator(request.user)
    volunteer = get_object_or_404(_managed_volunteers(request.user), pk=pk)
    to = COORDINATOR_STEPS.get(volunteer.status)
    if to is None:
        raise Http404
    try:
        volunteer_transition(volunteer, to, only_from=volunteer.status)
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
