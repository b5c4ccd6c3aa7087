"""Applications to volunteer, at any stage, and the form a stranger sends."""

import factory
from django.utils import timezone

from programmes.models import ProgrammeSite
from tests.programmes.factories import (
    CrisisCentreFactory,
    OrganisationFactory,
    ProgrammeSiteFactory,
    UserFactory,
    postal_code,
    programme,
)
from volunteers.models import ApplicationStage, ApplicationStep, VolunteerApplication


def recruiting_site(programme_slug: str = "ressursvenn", name: str = "Bergen") -> ProgrammeSite:
    """A site of the programme whose organisation recruits, with a coordinator, at a crisis
    centre whose name and town must never appear on the public page."""
    coordinator = UserFactory(username=f"coordinator-{programme_slug}-{name}")
    return ProgrammeSiteFactory(
        programme=programme(programme_slug),
        crisis_centre=CrisisCentreFactory(name=f"Krisesenteret Hemmelig {name}"),
        organisation=OrganisationFactory(name=f"Frivillige {name} lokallag"),
        coordinators=[coordinator],
    )


class ApplicationFactory(factory.django.DjangoModelFactory):
    """A confirmed application (stage applied) unless ``stage`` says otherwise."""

    class Meta:
        model = VolunteerApplication
        skip_postgeneration_save = True

    class Params:
        site = None

    programme = factory.LazyAttribute(lambda a: a.site.programme if a.site else programme())
    organisation = factory.LazyAttribute(
        lambda a: a.site.organisation if a.site else OrganisationFactory()
    )
    first_name = "Ingrid"
    last_name = factory.Sequence(lambda n: f"Søker{n}")
    email = factory.Sequence(lambda n: f"ingrid{n}@example.no")
    phone = "412 34 567"
    postal_code = factory.LazyFunction(lambda: postal_code("0150"))
    gender = "female"
    languages = factory.LazyFunction(lambda: [{"code": "ar", "level": "native"}])
    availability = factory.LazyFunction(lambda: [{"day": 2, "start": "17:00", "end": "20:00"}])
    motivation = "Jeg vil gjerne bidra i nærmiljøet."
    language = "nb"
    consent_given_at = factory.LazyFunction(timezone.now)
    confirmed_at = factory.LazyFunction(timezone.now)
    stage = ApplicationStage.APPLIED

    @factory.post_generation
    def applied_step(self, create, extracted, **kwargs):
        if self.stage != ApplicationStage.UNCONFIRMED:
            ApplicationStep.objects.create(
                application=self, stage=ApplicationStage.APPLIED, on=timezone.localdate()
            )


def form_data(**changes) -> dict:
    """What a person sends from the public page, valid unless changed."""
    data = {
        "first_name": "Ingrid",
        "last_name": "Berg",
        "email": "ingrid@example.no",
        "phone": "412 34 567",
        "postal_code": "0150",
        "gender": "female",
        "language_0": "ar",
        "level_0": "native",
        "language_1": "nb",
        "level_1": "fluent",
        "activities": ["football"],
        "day_0": "2",
        "start_0": "17:00",
        "end_0": "20:00",
        "motivation": "Jeg har tid på kveldene og vil gjerne hjelpe.",
        "consent": "on",
        "website": "",
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}
