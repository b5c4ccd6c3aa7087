"""Portal forms. They turn what people type into the plain values the services take; the
services decide what is valid, and their errors are put back on the matching field."""

import re
import secrets

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from programmes.models import Gender, Municipality, ProgrammeSite, Referral
from programmes.services import ReferralInput
from programmes.validators import validate_no_identifying_data

AVAILABILITY_ROWS = 4
NOTES_MAX_LENGTH = Referral._meta.get_field("notes").max_length
TIME_FORMATS = ["%H:%M", "%H.%M", "%H%M"]
TIME_ATTRS = {"inputmode": "numeric", "size": 5, "maxlength": 5, "autocomplete": "off"}
DAYS = [
    ("", _("No time")),
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]
COMMON_LANGUAGES = [
    ("ar", _("Arabic")),
    ("so", _("Somali")),
    ("ti", _("Tigrinya")),
    ("pl", _("Polish")),
    ("uk", _("Ukrainian")),
    ("fa", _("Persian")),
    ("prs", _("Dari")),
    ("ku", _("Kurdish")),
    ("ru", _("Russian")),
    ("en", _("English")),
    ("nb", _("Norwegian bokmål")),
    ("se", _("Northern Sami")),
    ("sma", _("South Sami")),
    ("smj", _("Lule Sami")),
]


def municipalities_for_lookup():
    """Reference data, the same for everyone: the municipality look-up's suggestions."""
    return Municipality.objects.order_by("name").values_list("number", "name")


def _codes(text: str) -> list[str]:
    return [code.strip().lower() for code in text.replace(",", " ").split() if code.strip()]


class ServiceErrorsMixin:
    """Puts a service's errors on the field they name, the rest on the form as a whole."""

    def add_service_errors(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.add_error(None, error.messages)
            return
        for name, messages in error.message_dict.items():
            self.add_error(name if name in self.fields else None, messages)

    @property
    def has_any_errors(self) -> bool:
        return bool(self.errors)

    @property
    def http_status(self) -> int:
        """400 for a form sent back with errors, so a client or test can tell at a glance."""
        return 400 if self.is_bound and self.has_any_errors else 200


class ActionForm(ServiceErrorsMixin, forms.Form):
    """A form that confirms one step of a service. The service decides; its errors go back next
    to the field they name, anything else above the form."""


def note_field(max_length: int, help_text) -> forms.CharField:
    """An optional short note that must not carry an ID number, phone number or e-mail."""
    return forms.CharField(
        label=_("Short note (optional)"),
        required=False,
        max_length=max_length,
        validators=[validate_no_identifying_data],
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60, "maxlength": max_length}),
    )


class WithdrawForm(ActionForm):
    reason = forms.ChoiceField(
        label=_("Why is the referral withdrawn?"),
        choices=Referral.WithdrawalReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose why the referral is withdrawn.")},
    )
    note = note_field(
        Referral._meta.get_field("withdrawal_note").max_length,
        _("Kept with the referral. Never names, addresses or ID numbers."),
    )


class AvailabilityForm(forms.Form):
    """A fixed number of rows, each a day and a start and end time: usable without JavaScript.
    A row without a day is ignored."""

    rows = AVAILABILITY_ROWS

    def __init__(self, *args, slots=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.availability_errors: list[str] = []
        for index in range(self.rows):
            self._add_row(index, (slots or [])[index] if index < len(slots or []) else None)

    def _add_row(self, index: int, slot: dict | None) -> None:
        slot = slot or {}
        self.fields[f"day_{index}"] = forms.TypedChoiceField(
            label=_("Day"), choices=DAYS, coerce=int, required=False, empty_value=None
        )
        for key, label in (("start", _("From")), ("end", _("To"))):
            # A text box rather than type="time": the same for everyone and every browser,
            # where the native control's segments and AM/PM vary with the locale.
            self.fields[f"{key}_{index}"] = forms.TimeField(
                label=label,
                required=False,
                input_formats=TIME_FORMATS,
                widget=forms.TimeInput(attrs=TIME_ATTRS, format="%H:%M"),
            )
            self.initial.setdefault(f"{key}_{index}", slot.get(key))
        self.initial.setdefault(f"day_{index}", slot.get("day"))

    def availability_rows(self):
        return [
            (index + 1, self[f"day_{index}"], self[f"start_{index}"], self[f"end_{index}"])
            for index in range(self.rows)
        ]

    def availability_slots(self) -> list[dict]:
        slots = []
        for index in range(self.rows):
            day = self.cleaned_data.get(f"day_{index}")
            if day is None:
                continue
            start = self.cleaned_data.get(f"start_{index}")
            end = self.cleaned_data.get(f"end_{index}")
            if start is None or end is None:
                self.availability_errors.append(
                    _("Row %(row)s: give both a start and an end time.") % {"row": index + 1}
                )
                continue
            slots.append({"day": day, "start": f"{start:%H:%M}", "end": f"{end:%H:%M}"})
        return slots

    def add_service_errors(self, error: ValidationError) -> None:
        """Put a service's errors next to the field they name; availability errors go to the
        availability fieldset, anything else to the form as a whole."""
        for name, messages in error.message_dict.items():
            if name == "availability":
                self.availability_errors.extend(messages)
            elif name in self.fields:
                self.add_error(name, messages)
            else:
                self.add_error(None, messages)

    @property
    def has_any_errors(self) -> bool:
        return bool(self.errors or self.availability_errors)

    @property
    def http_status(self) -> int:
        """400 for a form sent back with errors, so a client or test can tell at a glance."""
        return 400 if self.is_bound and self.has_any_errors else 200


class ReferralForm(AvailabilityForm):
    site = forms.ModelChoiceField(label=_("Programme and site"), queryset=ProgrammeSite.objects)
    postal_code = forms.CharField(
        label=_("Postal code of the new home"),
        required=False,
        max_length=4,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    municipality = forms.CharField(
        label=_("Municipality number of the new home"),
        required=False,
        max_length=4,
        help_text=_("Needed only without a postal code. Start typing a name or number."),
        widget=forms.TextInput(attrs={"list": "municipality-list", "autocomplete": "off"}),
    )
    languages = forms.MultipleChoiceField(
        label=_("Common languages"),
        required=False,
        choices=COMMON_LANGUAGES,
        widget=forms.CheckboxSelectMultiple,
    )
    other_languages = forms.CharField(
        label=_("Other languages (ISO 639 codes)"),
        required=False,
        help_text=_("Separate with commas, for example: ti, am"),
    )
    adults = forms.IntegerField(label=_("Adults in the household"), initial=1)
    children_birth_years = forms.CharField(
        label=_("Children's birth years"),
        required=False,
        help_text=_("Separate with commas, for example: 2015, 2019"),
    )
    volunteer_gender = forms.ChoiceField(
        label=_("Preferred volunteer gender"),
        required=False,
        choices=[("", _("No preference")), *Gender.choices],
    )
    max_distance_km = forms.IntegerField(
        label=_("Maximum travel distance (km)"),
        required=False,
        help_text=_("Leave empty to use the programme's default."),
    )
    avoid_municipalities = forms.CharField(
        label=_("Municipalities to avoid for safety"),
        required=False,
        help_text=_(
            "Municipality numbers, separated by commas, for example where the abuser lives. "
            "No volunteer living there is proposed."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    notes = forms.CharField(
        label=_("Short note for the coordinator"),
        required=False,
        max_length=NOTES_MAX_LENGTH,
        help_text=Referral._meta.get_field("notes").help_text,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60, "maxlength": NOTES_MAX_LENGTH}),
    )
    consent_given_on = forms.DateField(
        label=_("Consent given on"), widget=forms.DateInput(attrs={"type": "date"})
    )

    # One per form shown: sent twice (a double click, a retry after an error page), the form
    # still makes one referral (programmes.services.referral_submit).
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, sites=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites
        self.initial.setdefault("submission_key", secrets.token_urlsafe(24))

    def clean_submission_key(self) -> str:
        key = self.cleaned_data["submission_key"]
        return key if re.fullmatch(r"[-_A-Za-z0-9]{16,100}", key) else ""

    def clean_children_birth_years(self) -> list[int]:
        years = _codes(self.cleaned_data["children_birth_years"])
        if not all(year.isdigit() for year in years):
            raise ValidationError(_("Write each birth year as four digits, such as 2015."))
        return [int(year) for year in years]

    def clean_avoid_municipalities(self) -> list[str]:
        return _codes(self.cleaned_data["avoid_municipalities"])

    def all_languages(self) -> list[str]:
        chosen = list(self.cleaned_data.get("languages") or [])
        extra = [c for c in _codes(self.cleaned_data.get("other_languages", "")) if c not in chosen]
        return chosen + extra

    def referral_input(self) -> ReferralInput:
        data = self.cleaned_data
        return ReferralInput(
            languages=self.all_languages(),
            consent_given_on=data["consent_given_on"],
            postal_code=data["postal_code"].strip(),
            municipality=data["municipality"].strip(),
            availability=self.availability_slots(),
            adults=data["adults"],
            children_birth_years=data["children_birth_years"],
            volunteer_gender=data["volunteer_gender"],
            max_distance_km=data["max_distance_km"],
            avoid_municipalities=data["avoid_municipalities"],
            notes=data["notes"].strip(),
        )
