"""Portal forms for coordinators and volunteers: they turn a choice into the plain values the
lifecycle steps take; the steps decide what is valid."""

from django import forms
from django.utils.translation import gettext_lazy as _

from matching import reasons
from matching.lifecycle import END_REASONS, EndReason
from matching.models import CheckIn, Proposal
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


class ApproveSelectedForm(forms.Form):
    """The rows a coordinator ticked on a run page, among the proposals they may review there.
    Any status: one approved by someone else since the page was shown is refused in words by the
    service, like any other that can no longer be approved."""

    proposals = forms.ModelMultipleChoiceField(
        queryset=Proposal.objects.none(),
        error_messages={
            "required": _("Tick the proposals to approve first, then press “Approve selected”.")
        },
    )

    def __init__(self, *args, proposals=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["proposals"].queryset = proposals

    @property
    def names_others(self) -> bool:
        """A proposal that is not this reader's to review was sent: no page offers that."""
        return self.has_error("proposals", "invalid_choice") or self.has_error(
            "proposals", "invalid_pk_value"
        )


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


class HandProposalForm(ActionForm):
    """A coordinator proposes near misses by hand; matching/proposing.py decides what may be."""

    volunteers = forms.TypedMultipleChoiceField(
        label=_("Volunteers to propose"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose the volunteers to propose.")},
    )
    reason = forms.CharField(
        label=_("Why propose them by hand?"),
        max_length=NOTE_MAX_LENGTH,
        help_text=_(
            "Shown to everyone who reviews the proposal. Never names, addresses or ID numbers."
        ),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60, "maxlength": NOTE_MAX_LENGTH}),
        error_messages={"required": _("Say why you propose them by hand.")},
    )

    def __init__(self, *args, near_misses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["volunteers"].choices = [
            (miss.volunteer_id, _near_miss_label(miss)) for miss in near_misses
        ]


def _near_miss_label(miss) -> str:
    volunteer = miss.volunteer
    place = volunteer.home_postal_code.municipality.name
    return f"{volunteer.display_name}, {place}: {reasons.near_miss_sentence(miss)}"


def _labelled(field: forms.Field, label, *, required_error=None) -> forms.Field:
    """A note field under a label of its own; required when it says what to answer if empty."""
    field.label, field.required = label, required_error is not None
    if required_error is not None:
        field.error_messages["required"] = required_error
    return field


class CheckInForm(ActionForm):
    """A volunteer's check-in: how often they met, how it goes, whether the coordinator should
    get in touch, and anything else in their own words (never identifying anyone)."""

    meetings_held = forms.IntegerField(
        label=_("How many times have you met since the start or the last check-in?"),
        min_value=0,
        max_value=99,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "size": 4}),
        error_messages={"required": _("Give the number of times you have met, 0 if none.")},
    )
    wellbeing = forms.ChoiceField(
        label=_("How is it going?"),
        choices=CheckIn.Wellbeing.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how it is going.")},
    )
    wants_contact = forms.BooleanField(
        label=_("I want the coordinator to get in touch with me"),
        required=False,
        help_text=_("Your coordinator gets an e-mail at once."),
    )
    note = _labelled(
        note_field(
            CheckIn._meta.get_field("note").max_length,
            _(
                "Only the coordinators read this. Do not write names, addresses, phone numbers "
                "or anything else that could identify the participant or anyone else."
            ),
        ),
        _("Anything else you want the coordinator to know?"),
    )


class CheckInHandledForm(ActionForm):
    note = _labelled(
        note_field(
            CheckIn._meta.get_field("handled_note").max_length,
            _(
                "For example “called the volunteer, agreed to meet next week”. Never names, "
                "addresses or ID numbers."
            ),
        ),
        _("What did you do?"),
        required_error=_("Say what you did, for example “called the volunteer”."),
    )
