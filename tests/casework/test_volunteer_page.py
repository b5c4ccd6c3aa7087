"""The volunteer page: a coordinator sees who the volunteer is, where they live, when they can
meet, their vetting and its expiry, and their matches with check-in answers; nobody else opens
it, and its cost in queries does not grow with the volunteer's history."""

import datetime

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from matching import lifecycle
from matching.models import CheckIn, Match
from programmes.audit import Action, AuditLogEntry
from programmes.models import PolitiattestType, VettingKind
from tests.auth import login_verified
from tests.dates import short_date
from tests.matching.factories import (
    agreement_signed,
    pending_proposal,
    ready_volunteer,
    site_with_people,
)
from tests.programmes.factories import UserFactory
from tests.volunteers.factories import VettingRecordFactory

pytestmark = pytest.mark.django_db

QUERY_LIMIT = 24


def page(client, volunteer):
    return client.get(f"/coordinator/volunteers/{volunteer.pk}/")


def coordinated_volunteer(**fields):
    site, staff, coordinator = site_with_people()
    user = UserFactory(first_name="Åse", last_name="Nordmann", email="ase@example.org")
    fields.setdefault("languages", [{"code": "ar", "level": "native"}])
    volunteer = ready_volunteer(organisation=site.organisation, user=user, code="0150", **fields)
    return site, staff, coordinator, volunteer


def active_match(site, staff, coordinator, volunteer) -> Match:
    proposal = pending_proposal(site, coordinator, [volunteer])
    match = lifecycle.proposal_approve(proposal, by=coordinator)
    return agreement_signed(match, staff, coordinator, [volunteer])


def answer(check_in: CheckIn, wellbeing=CheckIn.Wellbeing.POOR, wants_contact=True) -> None:
    check_in.answered_at = timezone.now()
    check_in.answered_by = check_in.match.volunteers.first().volunteer
    check_in.wellbeing = wellbeing
    check_in.wants_contact = wants_contact
    check_in.meetings_held = 2
    check_in.save()


def test_coordinator_sees_the_volunteer_in_bokmal(client):
    site, staff, coordinator, volunteer = coordinated_volunteer(
        availability=[{"day": 2, "start": "18:00", "end": "21:00"}]
    )
    today = timezone.localdate()
    VettingRecordFactory(
        volunteer=volunteer,
        kind=VettingKind.FIRST_AID,
        issued_on=today - datetime.timedelta(days=400),
        expires_on=today - datetime.timedelta(days=3),
    )
    soon = today + datetime.timedelta(days=10)
    VettingRecordFactory(
        volunteer=volunteer,
        kind=VettingKind.POLITIATTEST,
        politiattest_type=PolitiattestType.ORDINARY,
        issued_on=today - datetime.timedelta(days=100),
        expires_on=soon,
    )
    match = active_match(site, staff, coordinator, volunteer)
    answer(match.check_ins.first())
    login_verified(client, coordinator)

    response = page(client, volunteer)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Åse Nordmann</h1>" in html
    assert "Oslo" in html and "0150" in html
    assert "ase@example.org" in html
    assert "Arabisk (morsmål)" in html
    assert "Onsdag 18:00–21:00" in html
    assert "Utløpt" in html and "Utløper snart" in html
    assert short_date(soon) in html
    assert f'href="/referrals/{match.referral.pk}/">{match.referral.alias}</a>' in html
    assert "Aktiv siden" in html
    assert "Det fungerer ikke" in html
    assert f'href="/coordinator/volunteers/{volunteer.pk}/vetting/"' in html


def test_the_page_reads_in_english_too(client):
    site, staff, coordinator, volunteer = coordinated_volunteer()
    active_match(site, staff, coordinator, volunteer)
    login_verified(client, coordinator)

    url = f"/coordinator/volunteers/{volunteer.pk}/"
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Arabic (native language)" in html
    assert "Wednesday 18:00–21:00" in html
    assert "Active since" in html


def test_nobody_but_the_volunteers_coordinators_and_admins_opens_the_page(client):
    _site, staff, coordinator, volunteer = coordinated_volunteer()
    _other_site, _other_staff, other_coordinator = site_with_people(name="Bergen")
    admin = UserFactory(username="admin", is_superuser=True, is_staff=True)

    for user in (staff, volunteer.user, other_coordinator):
        login_verified(client, user)
        assert page(client, volunteer).status_code == 404, user
    for user in (coordinator, admin):
        login_verified(client, user)
        assert page(client, volunteer).status_code == 200, user
    client.logout()
    assert page(client, volunteer).status_code == 302


def test_a_coordinator_who_also_volunteers_does_not_open_their_own_page(client):
    site, _staff, coordinator, _volunteer = coordinated_volunteer()
    own = ready_volunteer(organisation=site.organisation, user=coordinator, code="0151")
    login_verified(client, coordinator)
    assert page(client, own).status_code == 404


def test_matches_at_sites_the_coordinator_does_not_run_show_only_as_a_count(client):
    site, staff, coordinator, volunteer = coordinated_volunteer()
    volunteer.capacity = 2
    volunteer.save()
    # Another site of the same organisation, run by someone else.
    other_site, other_staff, other_coordinator = site_with_people(name="Bergen")
    other_site.organisation = site.organisation
    other_site.save()
    hidden = active_match(other_site, other_staff, other_coordinator, volunteer)
    shown = active_match(site, staff, coordinator, volunteer)
    login_verified(client, coordinator)

    html = page(client, volunteer).content.decode()

    assert shown.referral.alias in html
    assert hidden.referral.alias not in html
    assert "Også i 1 kobling ved et sted du ikke koordinerer." in html


def test_the_referrals_shown_are_written_to_the_access_log(client):
    site, staff, coordinator, volunteer = coordinated_volunteer()
    match = active_match(site, staff, coordinator, volunteer)
    login_verified(client, coordinator)
    page(client, volunteer)
    logged = AuditLogEntry.objects.filter(
        action=Action.ACCESS, actor=coordinator, object_id=match.referral.pk
    )
    assert logged.exists()


def history(site, staff, coordinator, volunteer, ended: int) -> None:
    """``ended`` completed matches, each with its check-ins answered, and one open match."""
    for _ in range(ended):
        match = active_match(site, staff, coordinator, volunteer)
        for check_in in match.check_ins.all():
            answer(check_in, wellbeing=CheckIn.Wellbeing.GOOD, wants_contact=False)
        lifecycle.match_complete(match)
    active_match(site, staff, coordinator, volunteer)
    for kind in (VettingKind.FIRST_AID, VettingKind.CONFIDENTIALITY):
        VettingRecordFactory(volunteer=volunteer, kind=kind)


def test_queries_stay_the_same_however_long_the_history(client, django_assert_max_num_queries):
    site, staff, coordinator, short = coordinated_volunteer()
    long = ready_volunteer(organisation=site.organisation, code="0151")
    history(site, staff, coordinator, short, ended=2)
    history(site, staff, coordinator, long, ended=20)
    login_verified(client, coordinator)
    page(client, short)  # the first request records the last activity in the session

    counts = []
    for volunteer, ended in ((short, 2), (long, 20)):
        with django_assert_max_num_queries(QUERY_LIMIT) as captured:
            response = page(client, volunteer)
        assert len(response.context["matches"]) == ended + 1
        counts.append(len(captured))

    assert counts[0] == counts[1]


def test_coordinators_read_the_volunteer_by_full_name_and_municipality_in_e_mail(
    django_capture_on_commit_callbacks, eager_celery
):
    site, staff, coordinator, volunteer = coordinated_volunteer()
    coordinator.email = "koordinator@example.no"
    coordinator.save()
    match = active_match(site, staff, coordinator, volunteer)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.match_end_request(
            match, by=volunteer.user, reason=Match.EndReason.VOLUNTEER_ENDED
        )

    (message,) = mail.outbox
    assert message.to == ["koordinator@example.no"]
    assert message.subject.startswith("Åse Nordmann ")
    assert "Åse Nordmann (Oslo) asks to end" in message.body
    assert f"{settings.SITE_URL}/coordinator/matches/{match.pk}/" in message.body


def test_when_one_of_two_volunteers_leaves_the_centre_hears_the_name_without_a_link(
    django_capture_on_commit_callbacks, eager_celery
):
    site, staff, coordinator = site_with_people("fritidsvenn")
    staff.email, coordinator.email = "stab@example.no", "koordinator@example.no"
    staff.save()
    coordinator.save()
    leaving = ready_volunteer("fritidsvenn", organisation=site.organisation, code="0150")
    leaving.user.first_name, leaving.user.last_name = "Tone", "Berg"
    leaving.user.save()
    staying = ready_volunteer("fritidsvenn", organisation=site.organisation, code="0151")
    proposal = pending_proposal(site, coordinator, [leaving, staying])
    match = agreement_signed(
        lifecycle.proposal_approve(proposal, by=coordinator), staff, coordinator, [leaving, staying]
    )
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.match_volunteer_release(
            match, volunteer=leaving, by=coordinator, reason=Match.EndReason.VOLUNTEER_ENDED
        )

    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert "Tone Berg (Oslo) is no longer part" in by_recipient["koordinator@example.no"].body
    assert "/coordinator/matches/" in by_recipient["koordinator@example.no"].body
    centre = by_recipient["stab@example.no"].body
    assert "Tone Berg is no longer part" in centre
    assert "http" not in centre
