"""What a coordinator can narrow each list to. Every choice of a site, organisation or
municipality comes from the rows the user may see, so a crafted parameter for anything else is a
form error ("Select a valid choice"), never a wider list."""

from operator import attrgetter

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from matching.models import CheckIn, Match, MatchVolunteer
from programmes.languages import COMMON_LANGUAGE_CODES, SPOKEN_LANGUAGES, language_name
from programmes.models import Municipality, Organisation, Programme, ProgrammeSite, Referral
from programmes.selectors import is_admin
from volunteers.models import Volunteer
from volunteers.selectors import VETTING_WARNING_DAYS, vetting_due


class FilterForm(forms.Form):
    """The portal's error summary asks a form whether it has errors."""

    @property
    def has_any_errors(self) -> bool:
        return bool(self.errors)


def _language_choices(codes):
    named = ((code, capfirst(language_name(code))) for code in codes)
    return sorted(named, key=lambda choice: choice[1].lower())


def _words(value: str) -> list[str]:
    return value.split()[:5]


def _language_held(field: str, code: str, *, with_level: bool) -> Q:
    """JSON ``contains`` is not available on SQLite (the demo's database), so this matches the
    quoted code as text: one whole element of the list, or the "code" of one entry."""
    needle = f'"code": "{code}"' if with_level else f'"{code}"'
    return Q(**{f"{field}__icontains": needle})


class ScopedFilterSet(django_filters.FilterSet):
    """A FilterSet whose choices are narrowed to ``rows``, what the user may see."""

    def __init__(self, data, rows, user, sites):
        super().__init__(data, queryset=rows)
        self.user = user
        self.narrow(rows, sites)

    def narrow(self, rows, sites) -> None:
        raise NotImplementedError

    def _set_choices(self, name: str, queryset, label=attrgetter("name")) -> None:
        field = self.form.fields[name]
        field.queryset = queryset
        field.label_from_instance = label


def municipalities_of(ids) -> object:
    return Municipality.objects.filter(pk__in=ids).order_by("name")


class ReferralFilter(ScopedFilterSet):
    q = django_filters.CharFilter(label=_("Alias"), method="search")
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=Referral.Status.choices, empty_label=_("All")
    )
    site = django_filters.ModelChoiceFilter(
        label=_("Site"), queryset=ProgrammeSite.objects.none(), empty_label=_("All")
    )
    municipality = django_filters.ModelChoiceFilter(
        label=_("Municipality"), queryset=Municipality.objects.none(), empty_label=_("All")
    )
    language = django_filters.ChoiceFilter(
        label=_("Language"), choices=(), empty_label=_("All"), method="speaks"
    )

    class Meta:
        model = Referral
        fields = ["q", "status", "site", "municipality", "language"]
        form = FilterForm

    def narrow(self, rows, sites) -> None:
        self._set_choices("site", sites, str)
        self._set_choices("municipality", municipalities_of(rows.values("municipality")))
        self.form.fields["language"].choices = [
            ("", _("All")),
            *_language_choices(COMMON_LANGUAGE_CODES),
        ]

    def search(self, queryset, name, value):
        return queryset.filter(alias__icontains=value.strip())

    def speaks(self, queryset, name, value):
        return queryset.filter(_language_held("languages", value, with_level=False))


class VolunteerFilter(ScopedFilterSet):
    q = django_filters.CharFilter(label=_("Name or e-mail"), method="search")
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=Volunteer.Status.choices, empty_label=_("All")
    )
    organisation = django_filters.ModelChoiceFilter(
        label=_("Organisation"), queryset=Organisation.objects.none(), empty_label=_("All")
    )
    municipality = django_filters.ModelChoiceFilter(
        label=_("Municipality"),
        field_name="home_postal_code__municipality",
        queryset=Municipality.objects.none(),
        empty_label=_("All"),
    )
    language = django_filters.ChoiceFilter(
        label=_("Language"), choices=(), empty_label=_("All"), method="speaks"
    )
    vetting_due = django_filters.BooleanFilter(
        label=_("Vetting due"),
        help_text=_("Missing, or expires within %(days)d days.") % {"days": VETTING_WARNING_DAYS},
        widget=forms.CheckboxInput,
        method="with_vetting_due",
    )

    class Meta:
        model = Volunteer
        fields = ["q", "status", "organisation", "municipality", "language", "vetting_due"]
        form = FilterForm

    def narrow(self, rows, sites) -> None:
        organisations = Organisation.objects.order_by("name")
        if not is_admin(self.user):
            organisations = organisations.filter(pk__in=rows.values("organisation"))
        self._set_choices("organisation", organisations)
        places = rows.values("home_postal_code__municipality")
        self._set_choices("municipality", municipalities_of(places))
        self.form.fields["language"].choices = [
            ("", _("All")),
            *_language_choices(code for code, _label in SPOKEN_LANGUAGES),
        ]

    def search(self, queryset, name, value):
        for word in _words(value):
            queryset = queryset.filter(
                Q(user__first_name__icontains=word)
                | Q(user__last_name__icontains=word)
                | Q(user__email__icontains=word)
            )
        return queryset

    def speaks(self, queryset, name, value):
        return queryset.filter(_language_held("languages", value, with_level=True))

    def with_vetting_due(self, queryset, name, value):
        if not value:
            return queryset
        # Nothing to chase for someone who has retired.
        due = vetting_due(timezone.localdate(), Programme.objects.all())
        return queryset.filter(due).exclude(status=Volunteer.Status.RETIRED)


class MatchFilter(ScopedFilterSet):
    q = django_filters.CharFilter(label=_("Alias or volunteer's name"), method="search")
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=Match.Status.choices, empty_label=_("All")
    )
    site = django_filters.ModelChoiceFilter(
        label=_("Site"),
        field_name="referral__site",
        queryset=ProgrammeSite.objects.none(),
        empty_label=_("All"),
    )
    municipality = django_filters.ModelChoiceFilter(
        label=_("Municipality"),
        field_name="referral__municipality",
        queryset=Municipality.objects.none(),
        empty_label=_("All"),
    )
    needs_replacement = django_filters.BooleanFilter(
        label=_("Needs a replacement volunteer"), widget=forms.CheckboxInput, method="replacing"
    )

    class Meta:
        model = Match
        fields = ["q", "status", "site", "municipality", "needs_replacement"]
        form = FilterForm

    def narrow(self, rows, sites) -> None:
        self._set_choices("site", sites, str)
        self._set_choices("municipality", municipalities_of(rows.values("referral__municipality")))

    def search(self, queryset, name, value):
        for word in _words(value):
            named = MatchVolunteer.objects.filter(
                Q(volunteer__user__first_name__icontains=word)
                | Q(volunteer__user__last_name__icontains=word),
                match=OuterRef("pk"),
            )
            queryset = queryset.filter(Q(referral__alias__icontains=word) | Exists(named))
        return queryset

    def replacing(self, queryset, name, value):
        return queryset.filter(needs_replacement=True) if value else queryset


class CheckInState:
    """Where a check-in stands, as the coordinator filters by it."""

    NEEDS_ATTENTION = "needs_attention"
    OVERDUE = "overdue"
    ANSWERED = "answered"
    HANDLED = "handled"
    NOT_DUE = "not_due"
    CHOICES = [
        (NEEDS_ATTENTION, _("Needs attention")),
        (OVERDUE, _("Overdue")),
        (ANSWERED, _("Answered")),
        (HANDLED, _("Handled")),
        (NOT_DUE, _("Not due yet")),
    ]


def check_in_overdue(today) -> Q:
    return Q(answered_at__isnull=True, due_on__lt=today, match__status=Match.Status.ACTIVE)


def check_in_needs_attention(today) -> Q:
    """Not handled yet, and either overdue or answered "not working" or asking for contact."""
    worrying = Q(answered_at__isnull=False) & (
        Q(wellbeing=CheckIn.Wellbeing.POOR) | Q(wants_contact=True)
    )
    return Q(handled_at__isnull=True) & (worrying | check_in_overdue(today))


class CheckInFilter(ScopedFilterSet):
    state = django_filters.ChoiceFilter(
        label=_("Show"), choices=CheckInState.CHOICES, empty_label=_("All"), method="in_state"
    )
    wellbeing = django_filters.ChoiceFilter(
        label=_("How it is going"), choices=CheckIn.Wellbeing.choices, empty_label=_("All")
    )
    site = django_filters.ModelChoiceFilter(
        label=_("Site"),
        field_name="match__referral__site",
        queryset=ProgrammeSite.objects.none(),
        empty_label=_("All"),
    )

    class Meta:
        model = CheckIn
        fields = ["state", "wellbeing", "site"]
        form = FilterForm

    def narrow(self, rows, sites) -> None:
        self._set_choices("site", sites, str)

    def in_state(self, queryset, name, value):
        today = timezone.localdate()
        conditions = {
            CheckInState.NEEDS_ATTENTION: check_in_needs_attention(today),
            CheckInState.OVERDUE: check_in_overdue(today),
            CheckInState.ANSWERED: Q(answered_at__isnull=False),
            CheckInState.HANDLED: Q(handled_at__isnull=False),
            CheckInState.NOT_DUE: Q(answered_at__isnull=True, due_on__gte=today),
        }
        return queryset.filter(conditions[value])
