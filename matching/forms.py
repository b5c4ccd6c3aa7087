"""Portal forms for coordinators and volunteers: they turn a choice into the plain values the
lifecycle steps take; the steps decide what is valid."""

from django import forms
from django.utils.translation import gettext_lazy as _

from matching.lifecycle import END_REASONS, EndReason
from programmes.forms import ActionForm, note_field
from programmes.models import ProgrammeSite

NOTE_MAX_LENGTH = 300
END_REASON_CHOICES = [(reason.value, reason.label) for reason in END_REASONS]
# A volunteer's own words for why they ask to end; the coordinator sees the same words.
END_REQUEST_REASONS = [
    (EndReason.VOLUNTEER_ENDED.value, _("I can no longer take part")),
    (EndReason.MOVED.value, _("The participant or I moved, or will move soon")),
    (EndReason.SAFETY.value, _("I am worried about safety")),
    (EndReason.OTHER.value, _("Something else")),
]
NEXT_STEPS = [
    ("requeue", _("Back to the queue: a later match run looks for another volunteer")),
    ("close", _("Close the referral: the participant gets no new volunteer")),
]


class MatchRunForm(forms.Form):
    site = forms.ModelChoiceField(queryset=ProgrammeSite.objects, widget=forms.HiddenInput)

    def __init__(self, *args, sites=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Why reject?"), max_length=300)


class ApproveForm(forms.Form):
    acknowledge_vetting_expiry = forms.BooleanField(required=False)


def _reason_field(label, choices) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a reason.")},
    )


class EndMatchForm(ActionForm):
    reason = _reason_field(_("Why does the match end?"), END_REASON_CHOICES)
    note = note_field(NOTE_MAX_LENGTH, _("For the record. Never names, addresses or ID numbers."))
    next_step = forms.ChoiceField(
        label=_("What happens to the referral?"),
        choices=NEXT_STEPS,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose whether to find someone new or close it.")},
    )

    def step_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "reason": data["reason"],
            "note": data["note"],
            "requeue": data["next_step"] == "requeue",
        }


class ReleaseForm(ActionForm):
    reason = _reason_field(_("Why does the volunteer leave?"), END_REASON_CHOICES)
    note = note_field(NOTE_MAX_LENGTH, _("For the record. Never names, addresses or ID numbers."))


class EndRequestForm(ActionForm):
    reason = _reason_field(_("Why do you want to end your part?"), END_REQUEST_REASONS)
    note = note_field(
        NOTE_MAX_LENGTH,
        _("Goes to your coordinator. Never the participant's name, address or ID number."),
    )
