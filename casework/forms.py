"""Forms of the referral page: crisis-centre staff correct a referral, and record that the
participant accepts a volunteer of another gender than wished."""

from django import forms
from django.utils.translation import gettext_lazy as _

from programmes.forms import ActionForm, ActivitiesField, ReferralForm
from programmes.languages import COMMON_LANGUAGE_CODES
from programmes.models import ProgrammeSite, Referral
from programmes.services import referral_version

COMMON_CODES = set(COMMON_LANGUAGE_CODES)
# Chosen when the referral was made; a correction keeps them (the API allows no more).
NOT_EDITABLE = ("site", "consent_given_on", "submission_key")


def referral_initial(referral: Referral) -> dict:
    """The referral as the form's fields hold it: codes and comma-separated numbers."""
    avoid = referral.avoid_municipalities.all()
    return {
        "wished_activities": [activity.code for activity in referral.wished_activities.all()],
        "postal_code": referral.postal_code.code if referral.postal_code else "",
        "municipality": "" if referral.postal_code else referral.municipality.number,
        "languages": [code for code in referral.languages if code in COMMON_CODES],
        "other_languages": ", ".join(c for c in referral.languages if c not in COMMON_CODES),
        "adults": referral.adults,
        "children_birth_years": ", ".join(str(year) for year in referral.children_birth_years),
        "volunteer_gender": referral.volunteer_gender,
        "max_distance_km": referral.max_distance_km,
        "avoid_municipalities": ", ".join(m.number for m in avoid),
        "notes": referral.notes,
        "version": referral_version(referral),
    }


class ReferralEditForm(ReferralForm):
    """The new-referral form's fields and checks, without those fixed at submission, and with
    the version of the referral it was shown with."""

    version = forms.CharField(widget=forms.HiddenInput)
    # Why what was sent is not saved, when it is not the fields' fault (changed meanwhile).
    refusal = ""

    def __init__(self, data=None, *, referral: Referral):
        self.referral = referral
        super().__init__(
            data,
            sites=ProgrammeSite.objects.none(),
            initial=referral_initial(referral),
            slots=referral.availability,
        )
        for name in NOT_EDITABLE:
            del self.fields[name]
        wished = self.fields["wished_activities"]
        assert isinstance(wished, ActivitiesField)
        wished.keep(self.initial["wished_activities"])

    def programme(self):
        return self.referral.site.programme

    def changes(self) -> dict:
        """Every field, as ``programmes.services.referral_update`` takes them."""
        data = self.cleaned_data
        return {
            "languages": self.all_languages(),
            "postal_code": data["postal_code"],
            "municipality": data["municipality"],
            "availability": self.availability_slots(),
            "adults": data["adults"],
            "children_birth_years": data["children_birth_years"],
            "volunteer_gender": data["volunteer_gender"],
            "max_distance_km": data["max_distance_km"],
            "avoid_municipalities": data["avoid_municipalities"],
            "wished_activities": [activity.code for activity in data["wished_activities"]],
            "notes": data["notes"].strip(),
        }


class AnyGenderConsentForm(ActionForm):
    confirmed = forms.BooleanField(
        label=_(
            "The participant has told us that a volunteer of another gender than the one wished "
            "for is acceptable."
        ),
        error_messages={
            "required": _("Confirm that the participant accepts a volunteer of another gender.")
        },
    )
