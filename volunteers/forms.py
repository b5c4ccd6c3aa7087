"""Portal forms for volunteers and their vetting. They turn what people type into the plain
values the services take; the services decide what is valid, and their errors are put back on
the matching field."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from programmes.forms import ActivitiesField, ServiceErrorsMixin
from programmes.languages import LANGUAGE_LEVELS, SPOKEN_LANGUAGES, language_name
from programmes.models import PolitiattestType, VettingKind

LANGUAGE_ROWS = 6
DATE_ATTRS = {"type": "date"}


class LanguagesForm(ServiceErrorsMixin, forms.Form):
    """A fixed number of rows, each a language and a level: usable without JavaScript.
    A row without a language is ignored. A language without a level, or one chosen twice, is
    named by its row ("Language 2: ..."); the model's validator checks the rest. Below them,
    the activities the volunteer can do, as checkboxes."""

    activities = ActivitiesField(
        label=_("Activities you can do with a participant or children"),
        help_text=_(
            "Choose what you like to do. Families who wish for the same are proposed to you first."
        ),
    )

    def __init__(self, *args, volunteer, **kwargs):
        super().__init__(*args, **kwargs)
        self.languages_errors: list[str] = []
        self.self_named_fields: set[str] = set()
        saved = volunteer.languages or []
        # More rows when more were saved (through the API), so saving here loses none of them.
        self.rows = max(LANGUAGE_ROWS, len(saved))
        for index in range(self.rows):
            self._add_row(index, saved[index] if index < len(saved) else {})
        self.order_fields([*self.self_named_fields_in_order(), "activities"])
        chosen = [activity.code for activity in volunteer.activities.all()]
        self.initial.setdefault("activities", chosen)
        activities = self.fields["activities"]
        assert isinstance(activities, ActivitiesField)
        activities.keep(chosen)

    def _add_row(self, index: int, entry: dict) -> None:
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

    def self_named_fields_in_order(self) -> list[str]:
        return [f"{key}_{index}" for index in range(self.rows) for key in ("language", "level")]

    def language_rows(self):
        """(number, [language, level]) for each row, as the template shows them."""
        return [
            (index + 1, [self[f"language_{index}"], self[f"level_{index}"]])
            for index in range(self.rows)
        ]

    def clean(self):
        cleaned_data = super().clean()
        seen: set[str] = set()
        for index in range(self.rows):
            code = cleaned_data.get(f"language_{index}")
            if not code:
                continue
            if not cleaned_data.get(f"level_{index}"):
                self._row_error(index, "level", gettext("choose how well you speak it."))
            if code in seen:
                self._row_error(
                    index,
                    "language",
                    gettext("%(language)s is chosen in an earlier row.")
                    % {"language": language_name(code)},
                )
            seen.add(code)
        return cleaned_data

    def _row_error(self, index: int, key: str, problem: str) -> None:
        message = gettext("Language %(number)s: %(problem)s") % {
            "number": index + 1,
            "problem": problem,
        }
        self.add_error(f"{key}_{index}", message)

    def languages(self) -> list[dict]:
        rows = (
            (self.cleaned_data[f"language_{i}"], self.cleaned_data[f"level_{i}"])
            for i in range(self.rows)
        )
        return [{"code": code, "level": level} for code, level in rows if code]

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
