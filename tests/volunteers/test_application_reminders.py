"""Coordinators get one e-mail a day, without names, when applications they may see have had no
step for seven days; again a week later if still nobody took one."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from tests.clock import NOON
from tests.programmes.factories import UserFactory
from tests.volunteers.application_factories import ApplicationFactory, recruiting_site
from volunteers.applications import application_advance, applications_remind_untouched
from volunteers.models import ApplicationStage

# E-mails are sent by a task: run in-process, as tests/programmes/test_emails.py does.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]

DAY = datetime.timedelta(days=1)


def made_at(moment, **fields):
    with time_machine.travel(moment, tick=False):
        return ApplicationFactory(**fields)


def remind(now, capture):
    with capture(execute=True):
        return applications_remind_untouched(now)


def test_one_digest_per_coordinator_with_a_count_and_no_names(
    mailoutbox, django_capture_on_commit_callbacks
):
    site = recruiting_site()
    coordinator = site.coordinators.get()
    coordinator.email = "koordinator@example.no"
    coordinator.save()
    for _ in range(2):
        made_at(NOON - 8 * DAY, site=site, first_name="Ingrid")
    made_at(NOON - 2 * DAY, site=site)

    assert remind(NOON, django_capture_on_commit_callbacks) == 2

    (message,) = mailoutbox
    assert message.to == ["koordinator@example.no"]
    assert "2 applications" in message.body
    assert "Ingrid" not in message.body and "@example.no" not in message.body
    assert "/coordinator/applications/?untouched=1" in message.body


def test_the_digest_is_not_sent_again_the_next_day_but_a_week_later(
    mailoutbox, django_capture_on_commit_callbacks
):
    site = recruiting_site()
    site.coordinators.update(email="k@example.no")
    made_at(NOON - 8 * DAY, site=site)

    remind(NOON, django_capture_on_commit_callbacks)
    remind(NOON + DAY, django_capture_on_commit_callbacks)
    remind(NOON + 8 * DAY, django_capture_on_commit_callbacks)

    assert len(mailoutbox) == 2


def test_a_step_starts_the_week_again(mailoutbox, django_capture_on_commit_callbacks):
    site = recruiting_site()
    coordinator = site.coordinators.get()
    coordinator.email = "k@example.no"
    coordinator.save()
    application = made_at(NOON - 8 * DAY, site=site)
    with time_machine.travel(NOON - 3 * DAY, tick=False):
        application_advance(
            application,
            seen_stage=ApplicationStage.APPLIED,
            by=coordinator,
            on=timezone.localdate(),
        )

    assert remind(NOON, django_capture_on_commit_callbacks) == 0
    assert mailoutbox == []


def test_coordinators_are_told_only_of_their_own_applications(
    mailoutbox, django_capture_on_commit_callbacks
):
    bergen, tromso = recruiting_site(), recruiting_site(name="Tromsø")
    bergen.coordinators.update(email="bergen@example.no")
    tromso.coordinators.update(email="tromso@example.no")
    made_at(NOON - 8 * DAY, site=bergen)

    remind(NOON, django_capture_on_commit_callbacks)

    assert [m.to for m in mailoutbox] == [["bergen@example.no"]]


def test_declined_unconfirmed_and_finished_applications_need_no_reminder(
    mailoutbox, django_capture_on_commit_callbacks
):
    site = recruiting_site()
    site.coordinators.update(email="k@example.no")
    for stage in (ApplicationStage.DECLINED, ApplicationStage.UNCONFIRMED, ApplicationStage.ACTIVE):
        made_at(NOON - 30 * DAY, site=site, stage=stage)
    UserFactory(username="unrelated", email="x@example.no")

    assert remind(NOON, django_capture_on_commit_callbacks) == 0
    assert mailoutbox == []
