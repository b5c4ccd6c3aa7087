import datetime

import factory
from django.contrib.auth import get_user_model

from programmes import catalogue
from programmes.models import (
    ALIAS_LETTERS,
    Activity,
    CrisisCentre,
    Municipality,
    Organisation,
    PostalCode,
    Programme,
    ProgrammeSite,
    Referral,
)


def municipality(number: str) -> Municipality:
    return Municipality.objects.get(number=number)


def postal_code(code: str) -> PostalCode:
    return PostalCode.objects.get(code=code)


def programme(slug: str = "ressursvenn") -> Programme:
    rules = {p["slug"]: p for p in catalogue.PROGRAMMES}[slug]
    return Programme.objects.get_or_create(slug=slug, defaults=rules)[0]


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("kobling-test")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Sanitetsforening {n}")
    kind = Organisation.Kind.SANITETSFORENING
    municipality = factory.LazyFunction(lambda: municipality("0301"))


class CrisisCentreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CrisisCentre
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Krisesenteret i region {n}")
    host_municipality = factory.LazyFunction(lambda: municipality("0301"))

    @factory.post_generation
    def municipalities_served(self, create, extracted, **kwargs):
        self.municipalities_served.set(extracted or [self.host_municipality])

    @factory.post_generation
    def staff(self, create, extracted, **kwargs):
        if extracted:
            self.staff.set(extracted)


class ProgrammeSiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgrammeSite
        skip_postgeneration_save = True

    programme = factory.LazyFunction(programme)
    crisis_centre = factory.SubFactory(CrisisCentreFactory)
    organisation = factory.SubFactory(OrganisationFactory)

    @factory.post_generation
    def coordinators(self, create, extracted, **kwargs):
        if extracted:
            self.coordinators.set(extracted)


def unique_alias(n: int) -> str:
    """A real alias's shape (``P-WKT482``), different for every referral a test process makes
    (up to 361,000): random ones (the model's default) meet again now and then in a long run,
    and a clash is an IntegrityError in some unrelated test's set-up. The W keeps them apart
    from the aliases tests write out."""
    letters = ALIAS_LETTERS
    return f"P-W{letters[n // 19_000 % 19]}{letters[n // 1000 % 19]}{n % 1000:03d}"


class ReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Referral
        skip_postgeneration_save = True

    site = factory.SubFactory(ProgrammeSiteFactory)
    alias = factory.Sequence(unique_alias)
    municipality = factory.LazyFunction(lambda: municipality("0301"))
    languages = factory.LazyFunction(lambda: ["ar", "nb"])
    availability = factory.LazyFunction(lambda: [{"day": 2, "start": "17:00", "end": "20:00"}])
    consent_given_on = factory.LazyFunction(lambda: datetime.date(2026, 11, 1))
    consent_recorded_by = factory.SubFactory(UserFactory)

    @factory.post_generation
    def wished_activities(self, create, extracted, **kwargs):
        """Codes: ``ReferralFactory(wished_activities=["football"])``."""
        if extracted:
            self.wished_activities.set(Activity.objects.filter(code__in=extracted))
