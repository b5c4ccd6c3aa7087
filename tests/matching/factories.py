import datetime

from matching.models import AgreementTerms
from programmes.models import Referral
from tests.programmes.factories import (
    CrisisCentreFactory,
    ProgrammeSiteFactory,
    ReferralFactory,
    UserFactory,
    municipality,
    postal_code,
    programme,
)
from tests.volunteers.factories import VolunteerFactory, give_full_vetting
from volunteers.models import Volunteer


def publish_terms(programme_slug: str = "ressursvenn") -> AgreementTerms:
    chosen = programme(programme_slug)
    return AgreementTerms.objects.get_or_create(
        programme=chosen,
        version=1,
        defaults={
            "period_months": chosen.min_commitment_months,
            "text": "Vi møtes jevnlig.",
            "contact_rules": "Kontakt skjer etter avtale.",
            "confidentiality": "Taushetsplikt gjelder.",
            "published_on": datetime.date(2026, 1, 1),
        },
    )[0]


def site_with_people(programme_slug: str = "ressursvenn", name: str = "Oslo"):
    """A site at a crisis centre in Oslo with a staff member and a coordinator."""
    staff = UserFactory(username=f"staff-{name}")
    coordinator = UserFactory(username=f"coordinator-{name}")
    centre = CrisisCentreFactory(name=f"Krisesenteret {name}", staff=[staff])
    site = ProgrammeSiteFactory(
        programme=programme(programme_slug), crisis_centre=centre, coordinators=[coordinator]
    )
    publish_terms(programme_slug)
    return site, staff, coordinator


def waiting_referral(site, **fields) -> Referral:
    fields.setdefault("waiting_since", datetime.datetime(2026, 10, 1, tzinfo=datetime.UTC))
    if site.programme.requires_children:
        fields.setdefault("children_birth_years", [2017])
    return ReferralFactory(site=site, status=Referral.Status.WAITING, **fields)


def ready_volunteer(programme_slug: str = "ressursvenn", code: str = "0150", **fields) -> Volunteer:
    chosen = programme(programme_slug)
    fields.setdefault("languages", [{"code": "ar", "level": "native"}])
    volunteer = VolunteerFactory(
        programmes=[chosen],
        status=Volunteer.Status.ACTIVE,
        home_postal_code=postal_code(code),
        **fields,
    )
    give_full_vetting(volunteer, chosen)
    return volunteer


__all__ = ["municipality"]
