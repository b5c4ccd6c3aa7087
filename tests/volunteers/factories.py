import datetime

import factory

from programmes.models import Activity, PolitiattestType, Programme, VettingKind
from tests.programmes.factories import OrganisationFactory, UserFactory, postal_code
from volunteers.models import VettingRecord, Volunteer


class VolunteerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Volunteer
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    home_postal_code = factory.LazyFunction(lambda: postal_code("0150"))
    languages = factory.LazyFunction(lambda: [{"code": "nb", "level": "native"}])
    gender = "female"
    availability = factory.LazyFunction(lambda: [{"day": 2, "start": "18:00", "end": "21:00"}])

    @factory.post_generation
    def programmes(self, create, extracted, **kwargs):
        if extracted:
            self.programmes.set(extracted)

    @factory.post_generation
    def activities(self, create, extracted, **kwargs):
        """Codes: ``VolunteerFactory(activities=["football"])``."""
        if extracted:
            self.activities.set(Activity.objects.filter(code__in=extracted))


class VettingRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VettingRecord

    volunteer = factory.SubFactory(VolunteerFactory)
    kind = VettingKind.TRAINING
    issued_on = datetime.date(2026, 1, 10)


def give_full_vetting(
    volunteer: Volunteer, programme: Programme, expires_on: datetime.date | None = None
) -> None:
    """Every item the programme requires, valid today; the politiattest until ``expires_on``."""
    for kind in programme.required_vetting:
        is_attest = kind == VettingKind.POLITIATTEST
        VettingRecordFactory(
            volunteer=volunteer,
            kind=kind,
            politiattest_type=PolitiattestType.CHILDREN if is_attest else "",
            expires_on=expires_on if is_attest else None,
        )
