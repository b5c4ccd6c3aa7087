"""Applications are erased by the daily retention task: unconfirmed ones once their link has
expired, those never taken in RETENTION_APPLICATION_MONTHS after their last step. Those taken in
hold no personal data and stay, with their history."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from privacy.retention import retention_apply
from tests.clock import NOON
from tests.volunteers.application_factories import ApplicationFactory, recruiting_site
from tests.volunteers.factories import VolunteerFactory
from volunteers.models import ApplicationStage, ApplicationStep, VolunteerApplication

pytestmark = pytest.mark.django_db

Stage = ApplicationStage


def made_at(moment, **fields) -> VolunteerApplication:
    with time_machine.travel(moment, tick=False):
        return ApplicationFactory(**fields)


def test_an_unconfirmed_application_goes_once_its_link_has_expired(settings):
    site = recruiting_site()
    old = made_at(NOON - datetime.timedelta(hours=25), site=site, stage=Stage.UNCONFIRMED)
    fresh = made_at(NOON - datetime.timedelta(hours=23), site=site, stage=Stage.UNCONFIRMED)

    due = retention_apply(NOON)

    assert due.unconfirmed_applications == [old.pk]
    assert list(VolunteerApplication.objects.values_list("pk", flat=True)) == [fresh.pk]


def test_an_application_not_taken_in_goes_six_months_after_its_last_step():
    site = recruiting_site()
    declined = made_at(NOON - datetime.timedelta(days=200), site=site, stage=Stage.DECLINED)
    stalled = made_at(NOON - datetime.timedelta(days=190), site=site, stage=Stage.CONTACTED)
    recent = made_at(NOON - datetime.timedelta(days=170), site=site, stage=Stage.INTERVIEWED)

    due = retention_apply(NOON)

    assert sorted(due.applications_not_taken_in) == sorted([declined.pk, stalled.pk])
    assert list(VolunteerApplication.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not ApplicationStep.objects.filter(application_id__in=[declined.pk, stalled.pk])


def test_the_months_are_a_setting(settings):
    settings.RETENTION_APPLICATION_MONTHS = 1
    application = made_at(NOON - datetime.timedelta(days=40), stage=Stage.APPLIED)

    assert retention_apply(NOON).applications_not_taken_in == [application.pk]


def test_an_application_taken_in_stays(settings):
    volunteer = VolunteerFactory()
    made_at(NOON - datetime.timedelta(days=400), stage=Stage.ACTIVE, volunteer=volunteer)

    assert retention_apply(NOON).applications_not_taken_in == []
    assert VolunteerApplication.objects.count() == 1


def test_a_dry_run_erases_nothing():
    made_at(NOON - datetime.timedelta(days=400), stage=Stage.DECLINED)

    due = retention_apply(timezone.now() + datetime.timedelta(days=1), dry_run=True)

    assert len(due.applications_not_taken_in) == 1
    assert VolunteerApplication.objects.count() == 1
