"""Portal forms for volunteers and their vetting. They turn what people type into the plain
values the services take; the services decide what is valid, and their errors are put back on
the matching field."""

from typing import TYPE_CHECKING

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from programmes.forms import ActivitiesField, AvailabilityForm, ServiceErrorsMixin, note_field
from programmes.languages import LANGUAGE_LEVELS, SPOKEN_LANGUAGES, language_name
from programmes.models import Gender, PolitiattestType, PostalCode, VettingKind
from programmes.validators import validate_not_future
from volunteers.applications import PHONE, ApplicationInput
from volunteers.models import (
    ApplicationStage,
    ApplicationStep,
    VolunteerApplication,
    VolunteerFollowUp,
)

LANGUAGE_ROWS = 6
DATE_ATTRS = {"type": "date"}


if TYPE_CHECKING:
    _FormBase = forms.BaseForm
else:
    _FormBase = object


class LanguageRowsMixin(_FormBase):
    """A fixed number of rows, each a language and a level: usable without JavaScript.
    A row without a language is ignored. A language without a level, or one chosen twice, is
    named by its row ("Language 2: ..."); the model's validator checks the rest."""

    language_row_count = LANGUAGE_ROWS
    self_named_fields: set[str]

    def _add_language_rows(self, saved: list[dict]) -> None:
        self.languages_errors: list[str] = []
        # More rows when more were saved (through the API), so saving here loses none of them.
        self.language_row_total = max(self.language_row_count, len(saved))
        for index in range(self.language_row_total):
            self._add_language_row(index, saved[index] if index < len(saved) else {})

    def _add_language_row(self, index: int, entry: dict) -> None:
        code = entry.get("code", "")
        # A code saved earlier through the API stays selectable even if it is not a common one.
        extra = [] if code in dict(SPOKEN_LANGUAGES) or not code else [(code, code)]
        languages = [("", _("No language")), *SPOKEN_LANGUAGES, *extra]
        self.fields[f"language_{index}"] = forms.CharField(
            label=_("Language"), required=False, widget=forms.Select(choices=languages)
        )
        self.fields[f"level_{index}"] = forms.CharField(
            label=_("Level"),
            required=False,
            widget=forms.Select(choices=[("", _("Choose a level")), *LANGUAGE_LEVELS]),
        )
        self.initial.setdefault(f"language_{index}", code)
        self.initial.setdefault(f"level_{index}", entry.get("level", ""))
        self.self_named_fields.update((f"language_{index}", f"level_{index}"))

    def language_fields_in_order(self) -> list[str]:
        return [
            f"{key}_{index}"
            for index in range(self.language_row_total)
            for key in ("language", "level")
        ]

    def language_rows(self):
        """(number, [language, level]) for each row, as the template shows them."""
        return [
            (index + 1, [self[f"language_{index}"], self[f"level_{index}"]])
            for index in range(self.language_row_total)
        ]

    def _check_language_rows(self, cleaned_data: dict, *, at_least_one: bool = False) -> None:
        seen: set[str] = set()
        for index in range(self.language_row_total):
            code = cleaned_data.get(f"language_{index}")
            if not code:
                continue
            if not cleaned_data.get(f"level_{index}"):
                self._language_row_error(index, "level", gettext("choose how well you speak it."))
            if code in seen:
                self._language_row_error(
                    index,
                    "language",
                    gettext("%(language)s is chosen in an earlier row.")
                    % {"language": language_name(code)},
                )
            seen.add(code)
        if at_least_one and not seen:
            self._language_row_error(0, "language", gettext("choose a language you speak."))

    def _language_row_error(self, index: int, key: str, problem: str) -> None:
        message = gettext("Language %(number)s: %(problem)s") % {
            "number": index + 1,
            "problem": problem,
        }
        self.add_error(f"{key}_{index}", message)

    def languages(self) -> list[dict]:
        rows = (
            (self.cleaned_data[f"language_{i}"], self.cleaned_data[f"level_{i}"])
            for i in range(self.language_row_total)
        )
        return [{"code": code, "level": level} for code, level in rows if code]


class LanguagesForm(LanguageRowsMixin, ServiceErrorsMixin, forms.Form):
    """The volunteer's languages, each with a level, and below them the activities the
    volunteer can do, as checkboxes."""

    activities = ActivitiesField(
        label=_("Activities you can do with a participant or children"),
        help_text=_(
            "Choose what you like to do. Families who wish for the same are proposed to you first."
        ),
    )

    def __init__(self, *args, volunteer, **kwargs):
        super().__init__(*args, **kwargs)
        self.self_named_fields: set[str] = set()
        self._add_language_rows(volunteer.languages or [])
        self.order_fields([*self.language_fields_in_order(), "activities"])
        chosen = [activity.code for activity in volunteer.activities.all()]
        self.initial.setdefault("activities", chosen)
        activities = self.fields["activities"]
        assert isinstance(activities, ActivitiesField)
        activities.keep(chosen)

    def clean(self):
        cleaned_data = super().clean()
        self._check_language_rows(cleaned_data)
        return cleaned_data

    def add_service_errors(self, error: ValidationError) -> None:
        """Language errors go next to the languages fieldset."""
        for name, messages in error.message_dict.items():
            if name == "languages":
                self.languages_errors.extend(messages)
            else:
                self.add_error(name if name in self.fields else None, messages)

    def extra_error_links(self) -> list[tuple[str, str]]:
        return [("languages", str(error)) for error in self.languages_errors]

    @property
    def has_any_errors(self) -> bool:
        return bool(self.errors or self.languages_errors)


class VettingRecordForm(ServiceErrorsMixin, forms.Form):
    """One vetting item, as the coordinator saw it on the paper or in the letter."""

    kind = forms.ChoiceField(label=_("Kind"), choices=VettingKind.choices)
    politiattest_type = forms.ChoiceField(
        label=_("Politiattest type"),
        required=False,
        choices=[("", _("Not a politiattest")), *PolitiattestType.choices],
        help_text=_("Only for a politiattest."),
    )
    issued_on = forms.DateField(
        label=_("Issued on"), widget=forms.DateInput(attrs=DATE_ATTRS, format="%Y-%m-%d")
    )
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        help_text=_("Leave empty when it does not expire."),
        widget=forms.DateInput(attrs=DATE_ATTRS, format="%Y-%m-%d"),
    )


class ApplicationForm(LanguageRowsMixin, AvailabilityForm):
    """The public application: who the person is and how to reach them, the languages they
    speak, what they like to do, when they can meet and why they want to help; their consent;
    and a field no person sees (``website``), which only robots fill in. Every problem is found
    in one submit."""

    marked_kind = "optional"
    language_row_count = 4
    rows = 3

    first_name = forms.CharField(
        label=_("First name"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
        error_messages={"required": _("Give your first name.")},
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
        error_messages={"required": _("Give your last name.")},
    )
    email = forms.EmailField(
        label=_("E-mail address"),
        help_text=_("We send you a link to confirm it."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"required": _("Give your e-mail address.")},
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel", "type": "tel"}),
        error_messages={"required": _("Give your phone number.")},
    )
    postal_code = forms.CharField(
        label=_("Postal code"),
        max_length=4,
        help_text=_("Where you live: volunteers are matched with people nearby."),
        widget=forms.TextInput(
            attrs={"autocomplete": "postal-code", "inputmode": "numeric", "size": 4}
        ),
        error_messages={"required": _("Give your postal code.")},
    )
    gender = forms.ChoiceField(
        label=_("Gender"),
        choices=Gender.choices,
        widget=forms.RadioSelect,
        help_text=_("Some participants ask for a volunteer of a given gender."),
        error_messages={"required": _("Choose one of the options.")},
    )
    activities = ActivitiesField(
        label=_("Activities you would like to do with a participant or children"),
    )
    motivation = forms.CharField(
        label=_("Why do you want to help?"),
        max_length=1000,
        help_text=_("A few sentences are enough. The coordinator reads them before the interview."),
        widget=forms.Textarea(attrs={"rows": 5, "cols": 60, "maxlength": 1000}),
        error_messages={"required": _("Tell us why you want to help.")},
    )
    consent = forms.BooleanField(
        label=_("I agree that my data is processed as described above to handle my application."),
        error_messages={
            "required": _("Agree to the processing of your data to send the application.")
        },
    )
    # The honeypot: hidden from people and screen readers, tempting to robots.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._add_language_rows([])
        personal = ["first_name", "last_name", "email", "phone", "postal_code", "gender"]
        availability = [name for name in self.fields if name in self.self_named_fields]
        availability = [name for name in availability if not name.startswith(("language", "level"))]
        self.order_fields(
            [
                *personal,
                *self.language_fields_in_order(),
                "activities",
                *availability,
                "motivation",
                "consent",
            ]
        )

    def clean_postal_code(self) -> str:
        code = self.cleaned_data["postal_code"].strip()
        if not PostalCode.objects.filter(code=code).exists():
            raise ValidationError(
                gettext("There is no postal code %(code)s. Check the number.") % {"code": code}
            )
        return code

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if not PHONE.fullmatch(phone):
            raise ValidationError(gettext("Write it with digits, such as 412 34 567."))
        return phone

    def clean(self):
        cleaned_data = super().clean()
        self._check_language_rows(cleaned_data, at_least_one=True)
        return cleaned_data

    @property
    def is_robot(self) -> bool:
        return bool(self.data.get("website"))

    def application_input(self) -> ApplicationInput:
        data = self.cleaned_data
        return ApplicationInput(
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"],
            phone=data["phone"],
            postal_code=data["postal_code"],
            gender=data["gender"],
            languages=self.languages(),
            availability=self.availability_slots(),
            activities=[activity.code for activity in data["activities"]],
            motivation=data["motivation"],
            consent=data["consent"],
        )

    def add_service_errors(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.add_error(None, error.messages)
            return
        for name, messages in error.message_dict.items():
            if name == "languages":
                self.languages_errors.extend(messages)
            elif name == "availability":
                self.availability_errors.extend(messages)
            else:
                self.add_error(name if name in self.fields else None, messages)

    def extra_error_links(self) -> list[tuple[str, str]]:
        return [
            ("languages", str(error)) for error in self.languages_errors
        ] + super().extra_error_links()

    @property
    def has_any_errors(self) -> bool:
        return bool(self.errors or self.languages_errors or self.availability_errors)


class StepForm(ServiceErrorsMixin, forms.Form):
    """One step of an application: the stage the coordinator saw, the day it happened and a
    short note."""

    seen_stage = forms.ChoiceField(choices=ApplicationStage.choices, widget=forms.HiddenInput)
    on = forms.DateField(
        label=_("Date"),
        validators=[validate_not_future],
        widget=forms.DateInput(attrs=DATE_ATTRS, format="%Y-%m-%d"),
        error_messages={"required": _("Give the date.")},
    )
    note = note_field(
        ApplicationStep._meta.get_field("note").max_length,
        _("Optional. Only what the next step needs; never health, background or ID numbers."),
    )


class DeclineForm(StepForm):
    reason = forms.ChoiceField(
        label=_("Why is the application declined?"),
        choices=VolunteerApplication.DeclineReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose why the application is declined.")},
    )
    field_order = ["reason", "on", "note"]


class FollowUpForm(ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=VolunteerFollowUp.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what kind of follow-up it was.")},
    )
    on = forms.DateField(
        label=_("Date"),
        validators=[validate_not_future],
        widget=forms.DateInput(attrs=DATE_ATTRS, format="%Y-%m-%d"),
        error_messages={"required": _("Give the date.")},
    )
    note = note_field(
        VolunteerFollowUp._meta.get_field("note").max_length,
        _("Optional, for example the topic. Never health, background or ID numbers."),
    )
