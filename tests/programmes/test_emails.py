"""E-mails go to one person each and link to a full address (issue 13, item 6)."""

import pytest
from django.core import mail

from programmes.services import referral_submit
from tests.matching.factories import site_with_people
from tests.programmes.factories import UserFactory
from tests.programmes.test_referrals import valid_input

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]


@pytest.fixture
def site_with_two_coordinators():
    site, staff, coordinator = site_with_people()
    coordinator.email = "koordinator-en@example.no"
    coordinator.save()
    site.coordinators.add(UserFactory(username="andre", email="koordinator-to@example.no"))
    return site, staff


def test_each_coordinator_gets_a_message_of_their_own(
    site_with_two_coordinators, django_capture_on_commit_callbacks
):
    site, staff = site_with_two_coordinators

    with django_capture_on_commit_callbacks(execute=True):
        referral_submit(site=site, data=valid_input(), submitted_by=staff)

    recipients = sorted(message.to for message in mail.outbox)
    assert recipients == [["koordinator-en@example.no"], ["koordinator-to@example.no"]]
    assert all(not message.cc and not message.bcc for message in mail.outbox)


def test_the_message_links_to_the_coordinators_overview_under_the_site_address(
    site_with_two_coordinators, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://kobling.example.no"
    site, staff = site_with_two_coordinators

    with django_capture_on_commit_callbacks(execute=True):
        referral_submit(site=site, data=valid_input(), submitted_by=staff)

    assert "https://kobling.example.no/coordinator/" in mail.outbox[0].body
