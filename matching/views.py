"""Agreement pages: the printable copy, and the signatures of volunteer, crisis centre and
coordinator. Each view reads through a scoped selector and calls one service."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from matching import agreements
from matching.models import CheckIn
from matching.selectors import agreements_visible_to, check_ins_due_for


@login_required
def agreement_detail(request, pk):
    agreement = get_object_or_404(agreements_visible_to(request.user), pk=pk)
    match = agreement.match
    context = {
        "agreement": agreement,
        "referral": match.referral,
        "places": match.volunteers.select_related("volunteer__user"),
        "is_own_volunteer_place": match.volunteers.filter(volunteer__user=request.user).exists(),
    }
    return render(request, "matching/agreement.html", context)


SIGNATURES = {
    "accept": agreements.agreement_accept,
    "consent": agreements.agreement_record_consent,
    "countersign": agreements.agreement_countersign,
}


@login_required
@require_POST
def agreement_sign(request, pk, step):
    agreement = get_object_or_404(agreements_visible_to(request.user), pk=pk)
    try:
        if step == "decline":
            agreements.agreement_decline(
                agreement, by=request.user, reason=request.POST.get("reason", "")
            )
        else:
            SIGNATURES[step](agreement, by=request.user)
    except (PermissionDenied, ValidationError) as error:
        text = error.messages[0] if isinstance(error, ValidationError) else str(error)
        messages.error(request, text)
        return redirect("agreement", pk=pk)
    messages.success(request, _("Saved."))
    return redirect("home")


class CheckInForm(forms.ModelForm):
    class Meta:
        model = CheckIn
        fields = ["meetings_held", "wellbeing", "wants_contact"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["wellbeing"].required = True


@login_required
def check_in(request, pk):
    due = get_object_or_404(check_ins_due_for(request.user, timezone.localdate()), pk=pk)
    form = CheckInForm(request.POST or None, instance=due)
    if request.method == "POST" and form.is_valid():
        agreements.check_in_answer(due, by=request.user, **form.cleaned_data)
        messages.success(request, _("Thank you, your answers are saved."))
        return redirect("home")
    return render(request, "matching/check_in.html", {"form": form, "check_in": due})
