import datetime

import pytest
from django.core.exceptions import ValidationError

from programmes.models import PolitiattestType, VettingKind
from tests.clock import TODAY
from tests.programmes.factories import UserFactory, programme
from tests.volunteers.factories import VettingRecordFactory, VolunteerFactory, give_full_vetting
from volunteers.models import Volunteer
from volunteers.selectors import vetting_missing, volunteers_eligible_for, volunteers_visible_to
from volunteers.services import vetting_record_add, volunteer_transition

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock_at_noon")]
Status = Volunteer.Status


def active_volunteer(programme_slug="ressursvenn", politiattest_expires=None):
    chosen = programme(programme_slug)
    volunteer = VolunteerFactory(programmes=[chosen], status=Status.ACTIVE)
    give_full_vetting(volunteer, chosen, expires_on=politiattest_expires)
    return volunteer


def test_volunteer_with_complete_vetting_is_eligible():
    volunteer = active_volunteer()
    assert list(volunteers_eligible_for(programme("ressursvenn"), TODAY)) == [volunteer]
    assert vetting_missing(volunteer, programme("ressursvenn"), TODAY) == []


def test_volunteer_with_expired_politiattest_is_not_eligible():
    volunteer = active_volunteer(politiattest_expires=TODAY - datetime.timedelta(days=1))
    assert list(volunteers_eligible_for(programme("ressursvenn"), TODAY)) == []
    assert vetting_missing(volunteer, programme("ressursvenn"), TODAY) == ["politiattest"]


def test_politiattest_expiring_later_stops_counting_on_its_expiry_date():
    expiry = TODAY + datetime.timedelta(days=10)
    volunteer = active_volunteer(politiattest_expires=expiry)
    ressursvenn = programme("ressursvenn")
    assert volunteer in volunteers_eligible_for(ressursvenn, expiry)
    assert volunteer not in volunteers_eligible_for(ressursvenn, expiry + datetime.timedelta(1))


def test_fritidsvenn_needs_a_politiattest_for_work_with_children():
    fritidsvenn = programme("fritidsvenn")
    volunteer = VolunteerFactory(programmes=[fritidsvenn], status=Status.ACTIVE)
    give_full_vetting(volunteer, fritidsvenn)
    volunteer.vetting.filter(kind=VettingKind.POLITIATTEST).update(
        politiattest_type=PolitiattestType.ORDINARY
    )
    assert list(volunteers_eligible_for(fritidsvenn, TODAY)) == []
    assert vetting_missing(volunteer, fritidsvenn, TODAY) == ["politiattest"]


def test_fritidsvenn_needs_a_first_aid_course():
    fritidsvenn = programme("fritidsvenn")
    volunteer = VolunteerFactory(programmes=[fritidsvenn], status=Status.ACTIVE)
    give_full_vetting(volunteer, fritidsvenn)
    volunteer.vetting.filter(kind=VettingKind.FIRST_AID).delete()
    assert vetting_missing(volunteer, fritidsvenn, TODAY) == ["first_aid"]
    assert list(volunteers_eligible_for(fritidsvenn, TODAY)) == []


def test_paused_volunteer_is_not_eligible():
    volunteer = active_volunteer()
    volunteer_transition(volunteer, Status.PAUSED)
    assert list(volunteers_eligible_for(programme("ressursvenn"), TODAY)) == []


def test_volunteer_of_another_programme_is_not_eligible():
    active_volunteer("ressursvenn")
    assert list(volunteers_eligible_for(programme("fritidsvenn"), TODAY)) == []


def test_applicant_becomes_vetted_only_with_complete_vetting():
    ressursvenn = programme("ressursvenn")
    volunteer = VolunteerFactory(programmes=[ressursvenn])
    with pytest.raises(ValidationError) as caught:
        volunteer_transition(volunteer, Status.VETTED)
    assert (
        "Vetting is not complete (Ressursvenn: Police certificate (politiattest)"
        in caught.value.messages[0]
    )

    give_full_vetting(volunteer, ressursvenn)
    assert volunteer_transition(volunteer, Status.VETTED).status == Status.VETTED


def test_volunteer_lifecycle_allows_pause_and_resume_and_ends_at_retired():
    volunteer = active_volunteer()
    volunteer = volunteer_transition(volunteer, Status.PAUSED)
    volunteer = volunteer_transition(volunteer, Status.ACTIVE)
    volunteer = volunteer_transition(volunteer, Status.RETIRED)
    with pytest.raises(ValidationError):
        volunteer_transition(volunteer, Status.ACTIVE)


def test_applicant_cannot_jump_to_active():
    volunteer = VolunteerFactory()
    with pytest.raises(ValidationError) as caught:
        volunteer_transition(volunteer, Status.ACTIVE)
    assert "cannot go from applicant to active" in caught.value.message_dict["status"][0]


def test_vetting_record_expiring_before_issue_is_refused():
    volunteer = VolunteerFactory()
    with pytest.raises(ValidationError) as caught:
        vetting_record_add(
            volunteer,
            recorded_by=None,
            kind=VettingKind.POLITIATTEST,
            politiattest_type=PolitiattestType.ORDINARY,
            issued_on=datetime.date(2026, 5, 1),
            expires_on=datetime.date(2026, 4, 1),
        )
    assert "expires_on" in caught.value.message_dict
    assert volunteer.vetting.count() == 0


def test_politiattest_must_say_its_type():
    with pytest.raises(ValidationError) as caught:
        VettingRecordFactory.build(
            volunteer=VolunteerFactory(), kind=VettingKind.POLITIATTEST
        ).full_clean()
    assert "politiattest_type" in caught.value.message_dict


@pytest.mark.parametrize(
    ("languages", "message"),
    [
        ([{"code": "xx", "level": "native"}], "Language 1: “xx” is not an ISO 639"),
        ([{"code": "ar", "level": "superb"}], "Language 1: the level must be one of"),
        ([{"code": "ar", "level": "basic"}, {"code": "ar", "level": "native"}], "listed twice"),
        ([], ""),  # Django's own "this field cannot be blank", in the active language
    ],
)
def test_volunteer_languages_are_validated(languages, message):
    volunteer = VolunteerFactory.build(
        user=UserFactory(), organisation=VolunteerFactory().organisation, languages=languages
    )
    with pytest.raises(ValidationError) as caught:
        volunteer.full_clean()
    assert message in " ".join(caught.value.message_dict["languages"])


def test_volunteer_sees_only_themself_and_coordinator_sees_their_organisations():
    one, other = VolunteerFactory(), VolunteerFactory()
    assert list(volunteers_visible_to(one.user)) == [one]
    coordinator = UserFactory(username="coordinator")
    from tests.programmes.factories import ProgrammeSiteFactory

    ProgrammeSiteFactory(organisation=other.organisation, coordinators=[coordinator])
    assert list(volunteers_visible_to(coordinator)) == [other]
