"""Notices and the daily follow-up tasks, with e-mail sent only after commit."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from matching.check_ins import check_in_answer
from matching.followup import (
    agreements_close_ended,
    check_ins_flag_overdue,
    referrals_flag_long_waits,
    vetting_warn_expiring,
)
from matching.lifecycle import (
    agreement_accept,
    agreement_countersign,
    agreement_record_consent,
    proposal_approve,
)
from matching.models import Match
from programmes.models import Referral, VettingKind
from programmes.services import ReferralInput, referral_submit
from tests.clock import TODAY
from tests.matching.factories import (
    pending_proposal,
    ready_volunteer,
    site_with_people,
    waiting_referral,
)
from volunteers.models import Volunteer

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("clock_at_noon", "eager_celery"),
]


def with_email(user, address):
    user.email = address
    user.save()
    return user


@pytest.fixture
def active_match(django_capture_on_commit_callbacks):
    site, staff, coordinator = site_with_people()
    volunteer = ready_volunteer()
    with django_capture_on_commit_callbacks(execute=True):
        match = proposal_approve(pending_proposal(site, coordinator, [volunteer]), by=coordinator)
        agreement_accept(match.agreement, by=volunteer.user)
        agreement_record_consent(match.agreement, by=staff)
        agreement_countersign(match.agreement, by=coordinator)
    match.refresh_from_db()
    mail.outbox.clear()
    return match


def test_approval_mails_the_volunteer_and_the_crisis_centre_with_the_alias_only(
    django_capture_on_commit_callbacks,
):
    site, staff, coordinator = site_with_people()
    with_email(staff, "stab@krisesenter.example")
    volunteer = ready_volunteer()
    with_email(volunteer.user, "frivillig@example.no")
    proposal = pending_proposal(site, coordinator, [volunteer])

    with django_capture_on_commit_callbacks(execute=True):
        proposal_approve(proposal, by=coordinator)

    by_recipient = {tuple(m.to): m for m in mail.outbox}
    assert set(by_recipient) == {("frivillig@example.no",), ("stab@krisesenter.example",)}
    centre_mail = by_recipient[("stab@krisesenter.example",)]
    assert proposal.referral.alias in centre_mail.subject
    volunteer_mail = by_recipient[("frivillig@example.no",)]
    assert proposal.referral.alias not in volunteer_mail.body
    assert "Oslo" in volunteer_mail.body


def test_new_referral_mails_the_coordinators_after_commit_only(django_capture_on_commit_callbacks):
    site, staff, coordinator = site_with_people()
    with_email(coordinator, "koordinator@example.no")
    slot = {"day": 5, "start": "10:00", "end": "14:00"}
    data = ReferralInput(
        languages=["so"], municipality="0301", consent_given_on=TODAY, availability=[slot]
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        referral = referral_submit(site=site, data=data, submitted_by=staff)
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    assert [m.to for m in mail.outbox] == [["koordinator@example.no"]]
    assert referral.alias in mail.outbox[0].body


def test_activation_schedules_check_ins_and_overdue_ones_are_flagged_once(
    active_match, django_capture_on_commit_callbacks
):
    assert [c.months_after_start for c in active_match.check_ins.all()] == [1, 3, 6]
    coordinator = active_match.referral.site.coordinators.get()
    with_email(coordinator, "koordinator@example.no")
    first = active_match.check_ins.first()

    later = first.due_on + datetime.timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        assert check_ins_flag_overdue(later) == 1
        assert check_ins_flag_overdue(later) == 0
    assert len(mail.outbox) == 1
    assert active_match.referral.alias in mail.outbox[-1].body


def test_answered_check_in_is_not_overdue(active_match):
    first = active_match.check_ins.first()
    volunteer = active_match.volunteers.get().volunteer
    check_in_answer(first, by=volunteer.user, meetings_held=4, wellbeing="good")
    assert check_ins_flag_overdue(first.due_on + datetime.timedelta(days=3)) == 0


def test_ended_agreement_closes_the_match_and_frees_the_volunteer(active_match):
    ends_on = active_match.agreement.ends_on
    assert agreements_close_ended(ends_on) == 0
    assert agreements_close_ended(ends_on + datetime.timedelta(days=1)) == 1

    active_match.refresh_from_db()
    assert active_match.status == Match.Status.CLOSED
    referral = Referral.objects.get(pk=active_match.referral_id)
    assert (referral.status, referral.closure_reason) == ("closed", "completed")
    assert Volunteer.objects.get(pk=active_match.volunteers.get().volunteer_id).commitments == 0


def test_volunteer_is_reminded_once_sixty_days_before_vetting_expires(
    django_capture_on_commit_callbacks,
):
    volunteer = ready_volunteer()
    with_email(volunteer.user, "frivillig@example.no")
    politiattest = volunteer.vetting.filter(kind=VettingKind.POLITIATTEST)
    politiattest.update(expires_on=TODAY + datetime.timedelta(days=61))
    assert vetting_warn_expiring(TODAY) == 0

    politiattest.update(expires_on=TODAY + datetime.timedelta(days=60))
    with django_capture_on_commit_callbacks(execute=True):
        assert vetting_warn_expiring(TODAY) == 1
    assert vetting_warn_expiring(TODAY) == 0
    assert mail.outbox[0].to == ["frivillig@example.no"]
    assert "expires on" in mail.outbox[0].body


def test_referral_waiting_over_thirty_days_is_flagged_once():
    site, _staff, _coordinator = site_with_people()
    old = waiting_referral(site, waiting_since=timezone.now() - datetime.timedelta(days=31))
    waiting_referral(site, waiting_since=timezone.now() - datetime.timedelta(days=5))

    assert referrals_flag_long_waits(TODAY) == 1
    assert referrals_flag_long_waits(TODAY) == 0
    assert Referral.objects.get(pk=old.pk).long_wait_flagged_on == TODAY
