import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError

from programmes.models import Referral
from programmes.services import ReferralInput, referral_submit
from tests.programmes.factories import (
    CrisisCentreFactory,
    ProgrammeSiteFactory,
    ReferralFactory,
    UserFactory,
    programme,
)

pytestmark = pytest.mark.django_db
Status = Referral.Status


@pytest.fixture
def staff():
    return UserFactory(username="staff-a")


@pytest.fixture
def site(staff):
    return ProgrammeSiteFactory(crisis_centre=CrisisCentreFactory(staff=[staff]))


def valid_input(**changes) -> ReferralInput:
    fields = {
        "postal_code": "0150",
        "languages": ["ar", "nb"],
        "availability": [{"day": 2, "start": "17:00", "end": "20:00"}],
        "consent_given_on": datetime.date(2026, 11, 2),
        "avoid_municipalities": ["3203"],
    }
    return ReferralInput(**{**fields, **changes})


def error_for(field: str, **changes) -> str:
    site = ProgrammeSiteFactory(crisis_centre=CrisisCentreFactory(staff=[UserFactory()]))
    staff = site.crisis_centre.staff.get()
    with pytest.raises(ValidationError) as caught:
        referral_submit(site=site, data=valid_input(**changes), submitted_by=staff)
    assert Referral.objects.count() == 0, "nothing may be saved on a validation error"
    return " ".join(caught.value.message_dict[field])


def test_submitted_referral_takes_its_municipality_from_the_postal_code(site, staff):
    referral = referral_submit(site=site, data=valid_input(), submitted_by=staff)

    assert referral.status == Status.SUBMITTED
    assert referral.municipality.number == "0301"
    assert referral.point == (referral.postal_code.lat, referral.postal_code.lon)
    assert [m.number for m in referral.avoid_municipalities.all()] == ["3203"]
    assert referral.consent_recorded_by == staff
    assert referral.alias.startswith("P-")


def test_municipality_alone_locates_the_new_home(site, staff):
    referral = referral_submit(
        site=site, data=valid_input(postal_code="", municipality="5612"), submitted_by=staff
    )
    assert referral.postal_code is None
    assert referral.point == (referral.municipality.lat, referral.municipality.lon)


def test_unknown_postal_code_is_refused_by_name():
    assert "Unknown postal code '9999'" in error_for("postal_code", postal_code="9999")


def test_postal_code_outside_the_given_municipality_is_refused():
    message = error_for("postal_code", postal_code="0150", municipality="4601")
    assert "not in municipality 4601" in message


def test_unknown_language_code_names_the_item():
    message = error_for("languages", languages=["ar", "xx"])
    assert "Language 2: “xx” is not an ISO 639 language code." in message


def test_sami_and_tigrinya_codes_are_accepted(site, staff):
    referral = referral_submit(
        site=site, data=valid_input(languages=["se", "ti", "smj"]), submitted_by=staff
    )
    assert referral.languages == ["se", "ti", "smj"]


def test_slot_ending_before_it_starts_is_refused():
    slots = [{"day": 0, "start": "17:00", "end": "09:00"}]
    message = error_for("availability", availability=slots)
    assert "Time slot 1: it must end after it starts (now from 17:00 to 09:00)." in message


def test_overlapping_slots_are_refused():
    slots = [
        {"day": 1, "start": "17:00", "end": "20:00"},
        {"day": 1, "start": "19:00", "end": "21:00"},
    ]
    message = error_for("availability", availability=slots)
    assert message == "Time slot 2: overlaps the slot on Tuesday 17–20."


def test_slots_that_touch_are_accepted(site, staff):
    slots = [
        {"day": 1, "start": "17:00", "end": "19:00"},
        {"day": 1, "start": "19:00", "end": "21:00"},
    ]
    referral_submit(site=site, data=valid_input(availability=slots), submitted_by=staff)


def test_child_born_in_the_future_is_refused():
    next_year = datetime.date.today().year + 1
    message = error_for("children_birth_years", children_birth_years=[2018, next_year])
    assert f"Child 2: {next_year} is in the future." in message


def test_fritidsvenn_referral_needs_children(staff):
    site = ProgrammeSiteFactory(
        programme=programme("fritidsvenn"), crisis_centre=CrisisCentreFactory(staff=[staff])
    )
    with pytest.raises(ValidationError) as caught:
        referral_submit(site=site, data=valid_input(), submitted_by=staff)
    assert "children_birth_years" in caught.value.message_dict
    assert Referral.objects.count() == 0


def test_unknown_safety_municipality_is_refused_and_nothing_saved():
    message = error_for("avoid_municipalities", avoid_municipalities=["3203", "0000"])
    assert "avoid_municipalities[1]: unknown municipality '0000'" in message


def test_consent_in_the_future_is_refused():
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    assert "in the future" in error_for("consent_given_on", consent_given_on=tomorrow)


def test_staff_of_another_centre_cannot_refer_to_the_site(site):
    outsider = UserFactory(username="staff-b")
    CrisisCentreFactory(staff=[outsider])
    with pytest.raises(PermissionDenied):
        referral_submit(site=site, data=valid_input(), submitted_by=outsider)
    assert Referral.objects.count() == 0


def test_database_refuses_a_closed_referral_without_reason():
    with pytest.raises(IntegrityError):
        ReferralFactory(status=Status.CLOSED, closure_reason="")
