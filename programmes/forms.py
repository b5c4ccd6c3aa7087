"""Portal forms. They turn what people type into the plain values the services take, and check
everything they can before the service does, so one submit shows every problem at once, each
next to its field and in the error summary. The services still decide; their errors are put
back on the matching field."""

import re
import secrets
from typing import TYPE_CHECKING

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.dates import WEEKDAYS
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from programmes.languages import COMMON_LANGUAGES
from programmes.models import Activity, Gender, Municipality, PostalCode, ProgrammeSite, Referral
from programmes.services import ReferralInput
from programmes.validators import (
    availability_problems,
    children_age_range_problem,
    children_birth_year_problems,
    is_language_code,
    not_a_language_code,
    slot_message,
    validate_no_identifying_data,
    validate_not_future,
)

AVAILABILITY_ROWS = 4
NOTES_MAX_LENGTH = Referral._meta.get_field("notes").max_length
# What a browser sends from type="time" (HH:MM), and what people type where it is a text box.
TIME_FORMATS = ["%H:%M", "%H:%M:%S", "%H.%M", "%H%M"]
TIME_ATTRS = {"type": "time", "autocomplete": "off"}
# Years are digits; a comma (or a space, a dot, a semicolon) separates them. inputmode="decimal"
# gives a phone's number pad with the decimal separator, so two years can be typed there.
YEARS_ATTRS = {"inputmode": "decimal", "autocomplete": "off"}
YEAR_SEPARATORS = re.compile(r"[\s,.;/]+")
MIDNIGHT = "00:00"
END_OF_DAY = "24:00"


# Django's own weekday names, in the interface's language ("mandag", "Monday"); 0 is Monday.
DAYS = [("", _("No time")), *WEEKDAYS.items()]


def municipalities_for_lookup():
    """Reference data, the same for everyone: the municipality look-up's suggestions."""
    return Municipality.objects.order_by("name").values_list("number", "name")


def _codes(text: str) -> list[str]:
    return [code.strip().lower() for code in text.replace(",", " ").split() if code.strip()]


if TYPE_CHECKING:
    # For mypy only: the mixin reads a form's fields and errors; at run time it is a plain class.
    _FormBase = forms.BaseForm
else:
    _FormBase = object


class ServiceErrorsMixin(_FormBase):
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


class ActivitiesField(forms.ModelMultipleChoiceField):
    """Activities as checkboxes, by code, each named in the reader's language. Offered ones, and
    those already chosen (``keep``) even if no longer offered, so saving never loses one."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("to_field_name", "code")
        super().__init__(queryset=Activity.objects.filter(is_active=True), **kwargs)

    def keep(self, codes) -> None:
        self.queryset = Activity.objects.filter(Q(is_active=True) | Q(code__in=list(codes)))

    def label_from_instance(self, obj) -> str:
        return capfirst(obj.name)


class ActionForm(ServiceErrorsMixin, forms.Form):
    """A form that confirms one step of a service. The service decides; its errors go back next
    to the field they name, anything else above the form."""


def note_field(max_length: int | None, help_text) -> forms.CharField:
    """An optional short note that must not carry an ID number, phone number or e-mail."""
    return forms.CharField(
        label=_("Short note"),
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


def _shown_time(clock: str | None) -> str | None:
    # A time box has no 24:00: a slot that runs until midnight shows it as 00:00.
    return MIDNIGHT if clock == END_OF_DAY else clock


class AvailabilityForm(forms.Form):
    """Weekly availability as rows, each a day and a start and end time: usable without
    JavaScript. A row with "No time" and no times is not used. Every problem is found in one
    submit and put on the field it is about, named by the row's legend ("Time slot 2: fill in
    “To”.")."""

    rows = AVAILABILITY_ROWS

    def __init__(self, *args, slots=None, **kwargs):
        super().__init__(*args, **kwargs)
        slots = slots or []
        # Room for every saved slot (the API takes more than the form shows), and one more.
        self.rows = max(self.rows, len(slots) + 1)
        # Errors of the weekly availability as a whole (from the service), shown on its fieldset.
        self.availability_errors: list[str] = []
        self.self_named_fields: set[str] = set()
        self._slots: list[dict] = []
        for index in range(self.rows):
            self._add_row(index, slots[index] if index < len(slots) else {})

    def _add_row(self, index: int, slot: dict) -> None:
        self.fields[f"day_{index}"] = forms.TypedChoiceField(
            label=_("Day"), choices=DAYS, coerce=int, required=False, empty_value=None
        )
        for key, label in (("start", _("From")), ("end", _("To"))):
            invalid = gettext("write “%(label)s” as a time, such as 17:30.") % {"label": label}
            self.fields[f"{key}_{index}"] = forms.TimeField(
                label=label,
                required=False,
                input_formats=TIME_FORMATS,
                widget=forms.TimeInput(attrs=TIME_ATTRS, format="%H:%M"),
                error_messages={"invalid": slot_message(index + 1, invalid)},
            )
            self.initial.setdefault(f"{key}_{index}", _shown_time(slot.get(key)))
        self.initial.setdefault(f"day_{index}", slot.get("day"))
        self.self_named_fields.update(f"{key}_{index}" for key in ("day", "start", "end"))

    def availability_rows(self):
        """(number, [day, start, end]) for each row, as the template shows them."""
        return [
            (index + 1, [self[f"{key}_{index}"] for key in ("day", "start", "end")])
            for index in range(self.rows)
        ]

    def clean(self):
        cleaned_data = super().clean()
        self._slots = self._checked_slots()
        return cleaned_data

    def _checked_slots(self) -> list[dict]:
        """The rows' slots; each row checked on its own, then all of them together with the
        same checks the service makes (overlaps), each problem put on its row."""
        rows = [(index, self._row_slot(index)) for index in range(self.rows)]
        used = [(index, slot) for index, slot in rows if slot is not None]
        for problem in availability_problems([slot for _index, slot in used]):
            self._row_error(used[problem.position][0], problem.part or "day", problem.text)
        return [slot for _index, slot in used]

    def _row_slot(self, index: int) -> dict | None:
        """The row's slot; None when the row is not used, or when something in it is missing or
        not a time (said on that field)."""
        keys = ("day", "start", "end")
        broken = {key for key in keys if self.has_error(f"{key}_{index}")}
        value = {key: self.cleaned_data.get(f"{key}_{index}") for key in keys}
        given = broken | {key for key in keys if value[key] is not None}
        if "day" not in given:
            if given:
                self._row_error(index, "day", gettext("choose a day, or empty the times."))
            return None
        for key in ("start", "end"):
            if key not in given:
                label = self.fields[f"{key}_{index}"].label
                self._row_error(index, key, gettext("fill in “%(label)s”.") % {"label": label})
        if broken or not {"start", "end"} <= given:
            return None
        until = f"{value['end']:%H:%M}"
        return {
            "day": value["day"],
            "start": f"{value['start']:%H:%M}",
            "end": END_OF_DAY if until == MIDNIGHT else until,
        }

    def _row_error(self, index: int, key: str, problem: str) -> None:
        self.add_error(f"{key}_{index}", slot_message(index + 1, problem))

    def availability_slots(self) -> list[dict]:
        """The slots of a valid form, as the services take them."""
        return self._slots

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

    def extra_error_links(self) -> list[tuple[str, str]]:
        """The error summary's lines for the availability fieldset's own errors."""
        return [("availability", str(error)) for error in self.availability_errors]

    @property
    def has_any_errors(self) -> bool:
        return bool(self.errors or self.availability_errors)

    @property
    def http_status(self) -> int:
        """400 for a form sent back with errors, so a client or test can tell at a glance."""
        return 400 if self.is_bound and self.has_any_errors else 200


def _model_limit(name: str) -> int:
    """The highest value the referral's model takes in the field."""
    field = Referral._meta.get_field(name)
    assert isinstance(field, models.Field)
    return min(v.limit_value for v in field.validators if isinstance(v, MaxValueValidator))


def _no_municipality(number: str) -> str:
    return gettext("There is no municipality with the number %(number)s.") % {"number": number}


class ReferralForm(AvailabilityForm):
    site = forms.ModelChoiceField(
        label=_("Programme and site"),
        queryset=ProgrammeSite.objects,
        empty_label=_("Choose a programme and site"),
        error_messages={"required": _("Choose the programme and site to refer to.")},
    )
    # Not autocomplete="postal-code": a browser would offer the staff member's own address, or
    # the crisis centre's, which must never be taken for the participant's new home.
    postal_code = forms.CharField(
        label=_("Postal code of the new home"),
        required=False,
        max_length=4,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "size": 4}),
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
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    adults = forms.IntegerField(
        label=_("Adults in the household"),
        initial=1,
        error_messages={"required": _("Give the number of adults in the household.")},
        min_value=1,
        max_value=_model_limit("adults"),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    children_birth_years = forms.CharField(
        label=_("Children's birth years"),
        required=False,
        help_text=_("Separate with commas, for example: 2015, 2019"),
        widget=forms.TextInput(attrs=YEARS_ATTRS),
    )
    wished_activities = ActivitiesField(
        label=_("Activities the participant or the children wish for"),
        help_text=_(
            "Fritidsvenn: what the children would like to do. Ressursvenn: what the participant "
            "would like to do. Volunteers who can do these are proposed first."
        ),
    )
    volunteer_gender = forms.ChoiceField(
        label=_("Preferred volunteer gender"),
        required=False,
        choices=[("", _("No preference")), *Gender.choices],
    )
    max_distance_km = forms.IntegerField(
        label=_("Maximum travel distance (km)"),
        required=False,
        min_value=1,
        max_value=_model_limit("max_distance_km"),
        help_text=_("Leave empty to use the programme's default."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
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
        validators=[validate_no_identifying_data],
        help_text=Referral._meta.get_field("notes").help_text,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60, "maxlength": NOTES_MAX_LENGTH}),
    )
    consent_given_on = forms.DateField(
        label=_("Consent given on"),
        validators=[validate_not_future],
        error_messages={"required": _("Give the date the participant gave consent.")},
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    # One per form shown: sent twice (a double click, a retry after an error page), the form
    # still makes one referral (programmes.services.referral_submit).
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, sites=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites
        self.initial.setdefault("submission_key", secrets.token_urlsafe(24))
        self._order_as_shown()

    def _order_as_shown(self) -> None:
        """Fields in the page's order (the availability rows after the languages), so the
        error summary lists them as the reader meets them."""
        rows = [name for name in self.fields if name in self.self_named_fields]
        others = [name for name in self.fields if name not in self.self_named_fields]
        cut = others.index("other_languages") + 1
        self.order_fields(others[:cut] + rows + others[cut:])

    def clean_submission_key(self) -> str:
        key = self.cleaned_data["submission_key"]
        return key if re.fullmatch(r"[-_A-Za-z0-9]{16,100}", key) else ""

    def clean_postal_code(self) -> str:
        code = self.cleaned_data["postal_code"].strip()
        if code and not PostalCode.objects.filter(code=code).exists():
            raise ValidationError(
                gettext(
                    "There is no postal code %(code)s. Check the number, or give the "
                    "municipality instead."
                )
                % {"code": code}
            )
        return code

    def clean_municipality(self) -> str:
        number = self.cleaned_data["municipality"].strip()
        if number and not Municipality.objects.filter(number=number).exists():
            raise ValidationError(_no_municipality(number))
        return number

    def clean_other_languages(self) -> list[str]:
        codes = _codes(self.cleaned_data["other_languages"])
        unknown = [code for code in codes if not is_language_code(code)]
        if unknown:
            raise ValidationError([not_a_language_code(code) for code in unknown])
        return codes

    def clean_children_birth_years(self) -> list[int]:
        written = [
            part
            for part in YEAR_SEPARATORS.split(self.cleaned_data["children_birth_years"])
            if part
        ]
        if not all(part.isdigit() and len(part) == 4 for part in written):
            raise ValidationError(gettext("Write each birth year as four digits, such as 2015."))
        years = [int(part) for part in written]
        problems = children_birth_year_problems(years)
        if problems:
            raise ValidationError([problem for _index, problem in problems])
        return years

    def clean_avoid_municipalities(self) -> list[str]:
        numbers = _codes(self.cleaned_data["avoid_municipalities"])
        known = set(
            Municipality.objects.filter(number__in=numbers).values_list("number", flat=True)
        )
        unknown = [number for number in numbers if number not in known]
        if unknown:
            raise ValidationError([_no_municipality(number) for number in unknown])
        return numbers

    def clean(self):
        """What needs more than one field: where the new home is, at least one language, and
        children for a programme for families."""
        cleaned_data = super().clean()
        self._check_home(cleaned_data)
        if {"languages", "other_languages"} <= cleaned_data.keys() and not self.all_languages():
            self.add_error(
                "languages", gettext("Choose at least one language the participant speaks.")
            )
        self._check_children(cleaned_data)
        return cleaned_data

    def _check_children(self, cleaned_data: dict) -> None:
        """Children for a programme for families, and one of them of an age it is for."""
        programme = self.programme()
        years = cleaned_data.get("children_birth_years")
        if programme is None or years is None:
            return
        if programme.requires_children and years == []:
            self.add_error(
                "children_birth_years",
                gettext("%(programme)s is for families: give the children's birth years.")
                % {"programme": programme},
            )
            return
        problem = children_age_range_problem(years, programme)
        if problem:
            self.add_error("children_birth_years", problem)

    def _check_home(self, cleaned_data: dict) -> None:
        if not {"postal_code", "municipality"} <= cleaned_data.keys():
            return
        code, number = cleaned_data["postal_code"], cleaned_data["municipality"]
        if not code and not number:
            self.add_error("postal_code", gettext("Give the postal code or the municipality."))
            return
        if not (code and number):
            return
        municipality = PostalCode.objects.select_related("municipality").get(code=code).municipality
        if municipality.number != number:
            self.add_error(
                "postal_code",
                gettext("Postal code %(code)s is not in %(municipality)s.")
                % {"code": code, "municipality": Municipality.objects.get(number=number)},
            )

    def programme(self):
        """The programme referred to, once the site is chosen."""
        site = self.cleaned_data.get("site")
        return site.programme if site is not None else None

    def all_languages(self) -> list[str]:
        chosen = list(self.cleaned_data.get("languages") or [])
        extra = [c for c in self.cleaned_data.get("other_languages") or [] if c not in chosen]
        return chosen + extra

    def referral_input(self) -> ReferralInput:
        data = self.cleaned_data
        return ReferralInput(
            languages=self.all_languages(),
            consent_given_on=data["consent_given_on"],
            postal_code=data["postal_code"],
            municipality=data["municipality"],
            availability=self.availability_slots(),
            adults=data["adults"],
            children_birth_years=data["children_birth_years"],
            volunteer_gender=data["volunteer_gender"],
            max_distance_km=data["max_distance_km"],
            avoid_municipalities=data["avoid_municipalities"],
            wished_activities=[activity.code for activity in data["wished_activities"]],
            notes=data["notes"].strip(),
        )
