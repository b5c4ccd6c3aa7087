"""The intake pipeline's rules (volunteers/applications.py): every step, the take-in that makes
the account and the volunteer, the vetting that gates becoming active, declining, and what
happens when someone else acted first."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests.programmes.factories import UserFactory
from tests.volunteers.application_factories import ApplicationFactory, recruiting_site
from tests.volunteers.factories import give_full_vetting
from volunteers.applications import (
    ApplicationConflict,
    application_advance,
    application_decline,
)
from volunteers.models import ApplicationStage, Volunteer, VolunteerApplication
from volunteers.selectors import volunteers_eligible_for
from volunteers.services import volunteer_transition

# E-mails are sent by a task: run in-process, as tests/programmes/test_emails.py does.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]

Stage = ApplicationStage


@pytest.fixture
def site():
    return recruiting_site()


@pytest.fixture
def coordinator(site):
    return site.coordinators.get()


def advance(application, by, note=""):
    return application_advance(
        application, seen_stage=application.stage, by=by, on=timezone.localdate(), note=note
    )


def to_stage(application, stage, by):
    while application.stage != stage:
        application = advance(application, by)
    return application


def test_each_step_moves_one_stage_and_records_day_who_and_note(site, coordinator):
    application = ApplicationFactory(site=site)

    application = advance(application, coordinator, note="Ringte")
    application = advance(application, coordinator)

    assert application.stage == Stage.INTERVIEWED
    steps = list(application.steps.values_list("stage", "by", "note"))
    assert steps == [
        (Stage.APPLIED, None, ""),
        (Stage.CONTACTED, coordinator.pk, "Ringte"),
        (Stage.INTERVIEWED, coordinator.pk, ""),
    ]


def test_a_step_cannot_be_dated_in_the_future_or_before_the_application(site, coordinator):
    application = ApplicationFactory(site=site)
    today = timezone.localdate()

    for day in (today + datetime.timedelta(days=1), today - datetime.timedelta(days=30)):
        with pytest.raises(ValidationError) as raised:
            application_advance(application, seen_stage=Stage.APPLIED, by=coordinator, on=day)
        assert "on" in raised.value.message_dict
    assert VolunteerApplication.objects.get().stage == Stage.APPLIED


def test_training_takes_the_applicant_in(site, coordinator, django_capture_on_commit_callbacks):
    application = ApplicationFactory(
        site=site, email="Ingrid.Berg@example.no", first_name="Ingrid", last_name="Berg"
    )
    application = to_stage(application, Stage.INTERVIEWED, coordinator)

    with django_capture_on_commit_callbacks(execute=True):
        application = advance(application, coordinator)

    volunteer = application.volunteer
    assert application.stage == Stage.TRAINING
    assert volunteer.status == Volunteer.Status.APPLICANT
    assert (volunteer.user.username, volunteer.user.email) == (
        "ingrid.berg@example.no",
        "Ingrid.Berg@example.no",
    )
    assert volunteer.user.get_full_name() == "Ingrid Berg"
    assert not volunteer.user.has_usable_password()
    assert volunteer.organisation == site.organisation
    assert list(volunteer.programmes.all()) == [site.programme]
    assert volunteer.languages == [{"code": "ar", "level": "native"}]
    assert volunteer.phone == "412 34 567"
    assert volunteer.home_postal_code.code == "0150"
    # The application keeps no duplicate of what moved, and not the motivation.
    kept = VolunteerApplication.objects.get()
    assert (kept.first_name, kept.email, kept.phone, kept.motivation) == ("", "", "", "")
    assert (kept.postal_code, kept.languages, kept.availability) == (None, [], [])
    (invitation,) = mail.outbox
    assert invitation.to == ["Ingrid.Berg@example.no"]
    assert "/accounts/reset/" in invitation.body
    assert "ingrid.berg@example.no" in invitation.body


def test_an_email_that_has_an_account_already_is_not_taken_in_twice(site, coordinator):
    UserFactory(username="someone", email="ingrid@example.no")
    application = to_stage(
        ApplicationFactory(site=site, email="INGRID@example.no"), Stage.INTERVIEWED, coordinator
    )

    with pytest.raises(ValidationError, match="exists already"):
        advance(application, coordinator)

    assert VolunteerApplication.objects.get().stage == Stage.INTERVIEWED
    assert not Volunteer.objects.exists()
    assert get_user_model().objects.count() == 2


def test_vetting_complete_needs_the_programmes_vetting(site, coordinator):
    application = to_stage(ApplicationFactory(site=site), Stage.TRAINING, coordinator)

    with pytest.raises(ValidationError, match="Vetting is not complete"):
        advance(application, coordinator)
    assert VolunteerApplication.objects.get().stage == Stage.TRAINING

    give_full_vetting(application.volunteer, site.programme)
    application = advance(application, coordinator)
    assert application.stage == Stage.VETTED
    assert application.volunteer.status == Volunteer.Status.VETTED


def test_active_makes_the_volunteer_eligible_for_matching(site, coordinator):
    application = to_stage(ApplicationFactory(site=site), Stage.TRAINING, coordinator)
    give_full_vetting(application.volunteer, site.programme)

    application = to_stage(application, Stage.ACTIVE, coordinator)

    volunteer = Volunteer.objects.get()
    assert volunteer.status == Volunteer.Status.ACTIVE
    assert list(volunteers_eligible_for(site.programme, timezone.localdate())) == [volunteer]
    assert [step.stage for step in application.steps.all()] == [
        Stage.APPLIED,
        Stage.CONTACTED,
        Stage.INTERVIEWED,
        Stage.TRAINING,
        Stage.VETTED,
        Stage.ACTIVE,
    ]
    with pytest.raises(ApplicationConflict):
        advance(application, coordinator)


def test_the_volunteers_own_status_pages_move_the_application_along(site, coordinator):
    """The vetting page and the API change the volunteer's status; the application follows."""
    application = to_stage(ApplicationFactory(site=site), Stage.TRAINING, coordinator)
    give_full_vetting(application.volunteer, site.programme)

    volunteer_transition(application.volunteer, Volunteer.Status.VETTED, by=coordinator)
    volunteer_transition(application.volunteer, Volunteer.Status.ACTIVE, by=coordinator)

    application.refresh_from_db()
    assert application.stage == Stage.ACTIVE
    assert application.steps.last().by == coordinator


def test_two_coordinators_taking_the_same_step_take_it_once(site, coordinator):
    other = UserFactory(username="other-coordinator")
    site.coordinators.add(other)
    application = ApplicationFactory(site=site)
    seen_by_both = VolunteerApplication.objects.get(pk=application.pk)

    advance(application, coordinator)
    with pytest.raises(ApplicationConflict, match="Someone else moved"):
        advance(seen_by_both, other)

    assert application.steps.filter(stage=Stage.CONTACTED).count() == 1


def test_two_coordinators_taking_in_the_same_applicant_make_one_account(site, coordinator):
    application = to_stage(ApplicationFactory(site=site), Stage.INTERVIEWED, coordinator)
    stale = VolunteerApplication.objects.get(pk=application.pk)

    advance(application, coordinator)
    with pytest.raises(ApplicationConflict):
        advance(stale, coordinator)

    assert Volunteer.objects.count() == 1


def test_declining_records_the_reason_and_ends_the_pipeline(site, coordinator):
    application = advance(ApplicationFactory(site=site), coordinator)

    declined = application_decline(
        application,
        seen_stage=Stage.CONTACTED,
        by=coordinator,
        reason="not_reached",
        on=timezone.localdate(),
    )

    assert (declined.stage, declined.decline_reason) == (Stage.DECLINED, "not_reached")
    with pytest.raises(ApplicationConflict):
        advance(declined, coordinator)
    with pytest.raises(ApplicationConflict):
        application_decline(
            declined,
            seen_stage=Stage.DECLINED,
            by=coordinator,
            reason="other",
            on=timezone.localdate(),
        )


def test_declining_someone_moved_meanwhile_is_refused(site, coordinator):
    application = ApplicationFactory(site=site)
    advance(VolunteerApplication.objects.get(pk=application.pk), coordinator)

    with pytest.raises(ApplicationConflict):
        application_decline(
            application,
            seen_stage=Stage.APPLIED,
            by=coordinator,
            reason="other",
            on=timezone.localdate(),
        )
    assert VolunteerApplication.objects.get().stage == Stage.CONTACTED


def test_an_unknown_reason_is_refused_naming_the_field(site, coordinator):
    application = ApplicationFactory(site=site)

    with pytest.raises(ValidationError) as raised:
        application_decline(
            application,
            seen_stage=Stage.APPLIED,
            by=coordinator,
            reason="bored",
            on=timezone.localdate(),
        )
    assert "reason" in raised.value.message_dict


def test_declining_someone_taken_in_retires_them(site, coordinator):
    application = to_stage(ApplicationFactory(site=site), Stage.TRAINING, coordinator)

    application_decline(
        application,
        seen_stage=Stage.TRAINING,
        by=coordinator,
        reason="vetting",
        on=timezone.localdate(),
    )

    volunteer = Volunteer.objects.get()
    assert volunteer.status == Volunteer.Status.RETIRED
    application.refresh_from_db()
    assert (application.stage, application.decline_reason) == (Stage.DECLINED, "vetting")
    assert application.steps.filter(stage=Stage.DECLINED).count() == 1


def test_a_volunteer_retired_during_training_closes_the_application(site, coordinator):
    application = to_stage(ApplicationFactory(site=site), Stage.TRAINING, coordinator)

    volunteer_transition(application.volunteer, Volunteer.Status.RETIRED, by=coordinator)

    application.refresh_from_db()
    assert (application.stage, application.decline_reason) == (Stage.DECLINED, "other")
