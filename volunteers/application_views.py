"""Applying to volunteer (public, no login) and the coordinators' intake pipeline.

The public page of a programme and a local organisation names only those two: never a crisis
centre, a shelter's town or a participant (recruitment is discreet). Its three guards answer
calmly, never with an error page: a filled honeypot gets the same "check your e-mail" page as a
person and saves nothing; an address over its hourly limit is told to wait; an e-mail address
over its limit gets the "check your e-mail" page and no new message.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.lockout import client_address
from accounts.roles import COORDINATING_ROLES, require_role
from programmes.activities import activity_names
from programmes.languages import LANGUAGE_LEVELS, language_name
from programmes.models import Programme, VettingKind
from programmes.validators import slot_in_words
from volunteers.applications import (
    NEXT_STAGE,
    OPEN_STAGES,
    ApplicationConflict,
    ApplicationLinkInvalid,
    application_advance,
    application_allowed,
    application_confirm,
    application_decline,
    application_for_token,
    application_submit,
    untouched_since,
)
from volunteers.forms import ApplicationForm, DeclineForm, StepForm
from volunteers.models import ApplicationStage, VolunteerApplication
from volunteers.selectors import (
    applications_visible_to,
    organisation_slug,
    recruiting_organisation,
    recruitment_pages_for,
)

PAGE_SIZE = 25


def _recruiting(programme_slug: str, organisation: str):
    programme = get_object_or_404(Programme, slug=programme_slug)
    found = recruiting_organisation(programme, organisation)
    if found is None:
        raise Http404
    return programme, found


def apply(request, programme: str, organisation: str):
    """The public application form."""
    chosen_programme, chosen_organisation = _recruiting(programme, organisation)
    form = ApplicationForm(request.POST or None)
    status = 200
    held_back = False
    if request.method == "POST":
        if form.is_robot:
            return redirect("application_sent")
        if form.is_valid() and not form.has_any_errors:
            data = form.application_input()
            address_ok, email_ok = application_allowed(data.email, client_address(request))
            if not address_ok:
                held_back, status = True, 429
            elif not email_ok:
                return redirect("application_sent")
            else:
                try:
                    application_submit(
                        chosen_programme,
                        chosen_organisation,
                        data,
                        language=get_language() or settings.LANGUAGE_CODE,
                    )
                except ValidationError as error:
                    form.add_service_errors(error)
                else:
                    return redirect("application_sent")
        status = max(status, form.http_status)
    context = {
        "form": form,
        "programme": chosen_programme,
        "organisation": chosen_organisation,
        "vetting": [VettingKind(kind).label for kind in chosen_programme.required_vetting],
        "confirm_hours": settings.APPLICATION_CONFIRM_HOURS,
        "retention_months": settings.RETENTION_APPLICATION_MONTHS,
        "held_back": held_back,
    }
    return render(request, "volunteers/apply.html", context, status=status)


def application_sent(request):
    return render(
        request, "volunteers/apply_sent.html", {"hours": settings.APPLICATION_CONFIRM_HOURS}
    )


def confirm(request, token: str):
    """The link in the e-mail shows a button; only pressing it confirms, so a mail program
    that opens links by itself confirms nothing."""
    try:
        application = application_for_token(token)
    except ApplicationLinkInvalid:
        return render(request, "volunteers/apply_confirm.html", {"invalid": True}, status=400)
    if request.method == "POST":
        try:
            application, _confirmed_now = application_confirm(token)
        except ApplicationLinkInvalid:
            return render(request, "volunteers/apply_confirm.html", {"invalid": True}, status=400)
        return render(
            request, "volunteers/apply_confirm.html", {"done": True, "application": application}
        )
    done = application.stage != ApplicationStage.UNCONFIRMED
    return render(
        request, "volunteers/apply_confirm.html", {"done": done, "application": application}
    )


@login_required
def application_list(request):
    require_role(request.user, *COORDINATING_ROLES)
    applications = applications_visible_to(request.user)
    stage = request.GET.get("stage", "")
    untouched = request.GET.get("untouched") == "1"
    if stage and stage in ApplicationStage.values and stage != ApplicationStage.UNCONFIRMED:
        applications = applications.filter(stage=stage)
    else:
        stage = ""
        applications = applications.filter(stage__in=OPEN_STAGES)
    now = timezone.now()
    if untouched:
        applications = applications.filter(stage_changed_at__lt=untouched_since(now))
    page = Paginator(applications, PAGE_SIZE).get_page(request.GET.get("page"))
    pages = [
        (programme, organisation, _public_link(programme, organisation))
        for programme, organisation in recruitment_pages_for(request.user)
    ]
    context = {
        "page": page,
        "rows": [(a, (now - a.stage_changed_at).days) for a in page.object_list],
        "page_numbers": list(page.paginator.get_elided_page_range(page.number, on_ends=1)),
        "stage": stage,
        "untouched": untouched,
        "stages": [
            (value, label)
            for value, label in ApplicationStage.choices
            if value != ApplicationStage.UNCONFIRMED
        ],
        "public_pages": pages,
    }
    return render(request, "volunteers/application_list.html", context)


def _public_link(programme, organisation) -> str:
    return settings.SITE_URL + reverse(
        "application_new", args=[programme.slug, organisation_slug(organisation)]
    )


def _application_or_404(request, pk: int) -> VolunteerApplication:
    require_role(request.user, *COORDINATING_ROLES)
    return get_object_or_404(applications_visible_to(request.user), pk=pk)


@login_required
def application_detail(request, pk: int):
    application = _application_or_404(request, pk)
    return _detail(request, application)


def _detail(request, application, *, step_form=None, decline_form=None, status=200, problem=""):
    today = timezone.localdate()
    initial = {"seen_stage": application.stage, "on": today}
    next_stage = NEXT_STAGE.get(application.stage)
    context = {
        "application": application,
        "availability": [slot_in_words(slot) for slot in application.availability],
        "languages": [_language(entry) for entry in application.languages],
        "activities": activity_names(application.activities.all()),
        "steps": application.steps.select_related("by"),
        "next_stage": ApplicationStage(next_stage).label if next_stage else None,
        "takes_in": next_stage == ApplicationStage.TRAINING,
        "can_decline": application.stage in OPEN_STAGES,
        "step_form": step_form or StepForm(initial=initial),
        "decline_form": decline_form or DeclineForm(initial=initial),
        "problem": problem,
    }
    return render(request, "volunteers/application.html", context, status=status)


def _language(entry: dict) -> str:
    level = dict(LANGUAGE_LEVELS).get(entry.get("level", ""))
    name = language_name(entry["code"])
    return f"{name} ({str(level).lower()})" if level else name


@login_required
@require_POST
def application_advance_view(request, pk: int):
    def advance(application, data):
        moved = application_advance(
            application,
            seen_stage=data["seen_stage"],
            by=request.user,
            on=data["on"],
            note=data["note"],
        )
        words = _("%(name)s is now at “%(stage)s”.") % {
            "name": moved.display_name,
            "stage": moved.get_stage_display(),
        }
        return moved, words

    return _step(request, pk, StepForm, "step_form", advance)


@login_required
@require_POST
def application_decline_view(request, pk: int):
    def decline(application, data):
        declined = application_decline(
            application,
            seen_stage=data["seen_stage"],
            by=request.user,
            reason=data["reason"],
            on=data["on"],
            note=data["note"],
        )
        return declined, _("The application is declined.")

    return _step(request, pk, DeclineForm, "decline_form", decline)


def _step(request, pk: int, form_class, form_name: str, take):
    """Take a step with the posted form: its errors (400), someone else's step first (409),
    or the application's page again with what was done."""
    application = _application_or_404(request, pk)
    form = form_class(request.POST)
    if not form.is_valid():
        return _detail(request, application, status=400, **{form_name: form})
    try:
        stepped, words = take(application, form.cleaned_data)
    except ApplicationConflict as conflict:
        application.refresh_from_db()
        return _detail(request, application, status=409, problem=str(conflict))
    except ValidationError as error:
        form.add_service_errors(error)
        return _detail(request, application, status=400, **{form_name: form})
    messages.success(request, words)
    return redirect("application_detail", pk=stepped.pk)
