"""The referral page: the site's coordinators and the referring centre's staff see what is known
about a referral and everything that happened to it, newest first; staff correct it while it
waits and record that the participant accepts a volunteer of another gender. Pages are read in
bokmål, as the people using them read them."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from matching import lifecycle, reasons
from matching.models import CheckIn, MatchRun, NearMiss, UnmatchedReferral
from programmes.models import AuditLogEntry, Referral
from programmes.services import referral_record_any_gender_consent, referral_update
from tests.auth import login_verified
from tests.matching.factories import (
    MatchRunFactory,
    agreement_signed,
    pending_proposal,
    ready_volunteer,
    site_with_people,
    waiting_referral,
)
from tests.programmes.factories import ReferralFactory, UserFactory, municipality

pytestmark = pytest.mark.django_db

WAITING_FACTS = {"candidates": 2, "needed_minutes": 60, "best_overlap_minutes": 30}


@pytest.fixture
def case():
    """A site in Oslo whose staff member and coordinator have names."""
    site, staff, coordinator = site_with_people()
    named(staff, "Kari", "Krise")
    named(coordinator, "Ola", "Koordinator")
    return site, staff, coordinator


def named(user, first, last):
    user.first_name, user.last_name = first, last
    user.save()
    return user


def page_of(client, user, referral, language="nb"):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    login_verified(client, user)
    return client.get(f"/referrals/{referral.pk}/")


def text_of(response) -> str:
    """The page's main area as a person reads it: tags gone, spaces collapsed."""
    html = response.content.decode()
    main = html[html.index("<main") : html.index("</main>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)).replace(" ,", ",").strip()


def unmatched_run(site, coordinator, referral, near_miss=None) -> UnmatchedReferral:
    run = MatchRunFactory(
        site=site,
        started_by=coordinator,
        status=MatchRun.Status.SUCCEEDED,
        finished_at=timezone.now(),
    )
    row = UnmatchedReferral.objects.create(
        run=run,
        referral=referral,
        reason="no_availability_overlap",
        detail="best weekly overlap 0.50 h (volunteer v1); need 1 h",
        facts=WAITING_FACTS,
    )
    if near_miss is not None:
        NearMiss.objects.create(
            unmatched=row,
            volunteer=near_miss,
            rule="availability",
            shortfall=30,
            distance_km=3.0,
            overlap_minutes=30,
        )
    return row


def reason_in_bokmål(referral) -> str:
    """Why the run found nobody, as matching.reasons words it (its own tests check the words)."""
    with translation.override("nb"):
        return reasons.unmatched_sentence(
            UnmatchedReferral.objects.filter(referral=referral).first()
        )


def volunteer_named(site, first, last, code):
    volunteer = ready_volunteer(organisation=site.organisation, code=code)
    named(volunteer.user, first, last)
    return volunteer


# Who may see it -------------------------------------------------------------------------------


def test_the_sites_coordinator_the_centres_staff_and_an_admin_see_the_referral(client, case):
    site, staff, coordinator = case
    referral = waiting_referral(site)
    admin = UserFactory(username="admin", is_superuser=True, is_staff=True)

    for user in (coordinator, staff, admin):
        response = page_of(client, user, referral)
        assert response.status_code == 200, user
        assert f"Henvisning {referral.alias}" in text_of(response)


def test_anyone_else_gets_not_found(client, case):
    site, _staff, _coordinator = case
    referral = waiting_referral(site)
    _other_site, other_staff, other_coordinator = site_with_people(name="Bergen")
    volunteer = ready_volunteer(organisation=site.organisation)

    for user in (other_coordinator, other_staff, volunteer.user):
        assert page_of(client, user, referral).status_code == 404, user


def test_a_visitor_who_is_not_signed_in_is_sent_to_log_in(client, case):
    referral = waiting_referral(case[0])

    response = client.get(f"/referrals/{referral.pk}/")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_every_view_of_the_page_is_written_to_the_access_log(client, case):
    site, staff, coordinator = case
    referral = waiting_referral(site)
    reads = AuditLogEntry.objects.filter(
        action=AuditLogEntry.Action.ACCESS, object_id=referral.pk, channel="portal"
    )

    page_of(client, coordinator, referral)
    page_of(client, staff, referral)
    page_of(client, staff, referral)

    assert sorted(reads.values_list("actor__username", flat=True)) == sorted(
        [coordinator.username, staff.username, staff.username]
    )


# What is known ----------------------------------------------------------------------------------


def test_the_page_says_what_is_known_in_words(client, case):
    site, staff, _coordinator = case
    referral = waiting_referral(
        site,
        languages=["so", "ar"],
        availability=[{"day": 0, "start": "17:00", "end": "19:00"}],
        volunteer_gender="female",
        max_distance_km=25,
        notes="Liker turer i skogen.",
        waiting_since=timezone.now() - datetime.timedelta(days=12),
    )
    referral.avoid_municipalities.set([municipality("3203")])

    text = text_of(page_of(client, staff, referral))

    assert "Venter på frivillig" in text
    assert "Har ventet 12 dager" in text
    assert "Ressursvenn, Krisesenteret Oslo" in text
    assert "Oslo" in text
    assert "Somali, arabisk" in text
    assert "Mandag 17:00–19:00" in text
    assert "Kvinne" in text
    assert "25 km" in text
    assert "Asker" in text
    assert "Liker turer i skogen." in text
    assert "3203" not in text and "so, ar" not in text


def test_weekdays_and_languages_follow_the_interface_language(client, case):
    site, staff, _coordinator = case
    referral = waiting_referral(
        site, languages=["so"], availability=[{"day": 2, "start": "17:00", "end": "20:00"}]
    )

    text = text_of(page_of(client, staff, referral, language="en"))

    assert "Referral " + referral.alias in text
    assert "Somali" in text
    assert "Wednesday 17:00–20:00" in text


def test_a_familys_children_are_shown_by_birth_year(client):
    site, staff, _coordinator = site_with_people("fritidsvenn", name="Drammen")
    referral = waiting_referral(site, children_birth_years=[2015, 2019])

    text = text_of(page_of(client, staff, referral))

    assert "Barnas fødselsår 2015, 2019" in text


# The timeline -----------------------------------------------------------------------------------


def full_journey(client, site, staff, coordinator):
    """submitted → accepted → a run finds nobody → a run proposes Anne → turned down → a run
    proposes Berit → approved → every signature → a check-in answered → the match ends."""
    referral = ReferralFactory(site=site, consent_recorded_by=staff, languages=["ar"])
    login_verified(client, coordinator)
    client.post(f"/coordinator/referrals/{referral.pk}/accept/")
    unmatched_run(site, coordinator, referral)
    anne = volunteer_named(site, "Anne", "Avslått", "0151")
    berit = volunteer_named(site, "Berit", "Bergersen", "0152")
    turned_down = pending_proposal(site, coordinator, [anne], referral)
    lifecycle.proposal_reject(turned_down, by=coordinator, reason="Kjenner familien fra før.")
    match = lifecycle.proposal_approve(
        pending_proposal(site, coordinator, [berit], referral), by=coordinator
    )
    agreement_signed(match, staff, coordinator, [berit])
    CheckIn.objects.filter(match=match, months_after_start=1).update(
        answered_at=timezone.now(),
        answered_by=berit,
        wellbeing=CheckIn.Wellbeing.GOOD,
        meetings_held=3,
    )
    lifecycle.match_end(match, by=coordinator, reason="participant_ended", requeue=False)
    return referral, anne, berit


def test_the_coordinator_reads_the_whole_story_in_bokmål_newest_first(client, case):
    site, staff, coordinator = case
    referral, anne, berit = full_journey(client, site, staff, coordinator)

    response = page_of(client, coordinator, referral)
    text = text_of(response)

    story = [
        "Sendt inn av Kari Krise, Krisesenteret Oslo. Deltakeren ga samtykke 1. nov. 2026.",
        "Ola Koordinator tok den inn i køen av dem som venter på en frivillig.",
        f"En koblingsrunde fant ingen å foreslå. {reason_in_bokmål(referral)}",
        "En koblingsrunde foreslo Anne Avslått, Oslo.",
        "Ola Koordinator avslo forslaget om Anne Avslått, Oslo. Kjenner familien fra før.",
        "En koblingsrunde foreslo Berit Bergersen, Oslo.",
        "Ola Koordinator godkjente koblingen med Berit Bergersen, Oslo.",
        "Berit Bergersen, Oslo godtok avtalen.",
        "Kari Krise registrerte deltakerens samtykke til avtalen.",
        "Ola Koordinator kontrasignerte avtalen, og koblingen er aktiv.",
        "Berit Bergersen, Oslo svarte på oppfølgingen etter 1 måned. Det går bra. "
        "3 møter siden forrige oppfølging.",
        "Koblingen ble avsluttet: deltakeren avsluttet.",
        "Henvisningen er avsluttet: deltakeren avsluttet.",
    ]
    found = [text.find(sentence) for sentence in story]
    assert -1 not in found, [s for s, at in zip(story, found, strict=True) if at == -1]
    assert found == sorted(found, reverse=True), "newest first"
    page = response.content.decode()
    assert "<q>Kjenner familien fra før.</q>" in page
    assert f'href="/coordinator/volunteers/{anne.pk}/"' in page
    assert f'href="/coordinator/volunteers/{berit.pk}/"' in page


def test_the_centre_staff_see_the_story_without_who_was_only_proposed_or_turned_down(client, case):
    site, staff, coordinator = case
    referral, _anne, _berit = full_journey(client, site, staff, coordinator)

    response = page_of(client, staff, referral)
    text = text_of(response)

    assert "En frivillig ble foreslått; koordinatoren vurderer forslaget." in text
    assert "Koordinatoren avslo forslaget." in text
    assert "Ola Koordinator godkjente koblingen med Berit Bergersen." in text
    assert "Oppfølgingen etter 1 måned er besvart." in text
    assert "Anne" not in text
    assert "Kjenner familien" not in text
    assert "Det går bra" not in text
    assert "/coordinator/volunteers/" not in response.content.decode()


def test_the_latest_run_that_found_nobody_shows_near_misses_and_proposing_by_hand(client, case):
    site, staff, coordinator = case
    referral = waiting_referral(site)
    unmatched_run(site, coordinator, referral)
    nearly = volunteer_named(site, "Nora", "Nesten", "0153")
    latest = unmatched_run(site, coordinator, referral, near_miss=nearly)

    coordinator_page = page_of(client, coordinator, referral).content.decode()
    staff_text = text_of(page_of(client, staff, referral))

    assert coordinator_page.count('class="waiting-reason"') == 1
    assert f'href="/coordinator/volunteers/{nearly.pk}/"' in coordinator_page
    assert f'href="/coordinator/unmatched/{latest.pk}/propose/"' in coordinator_page
    with translation.override("nb"):
        assert reasons.near_miss_sentence(latest.near_misses.get()) in coordinator_page
    assert "Nora" not in staff_text
    assert (
        staff_text.count(f"En koblingsrunde fant ingen å foreslå. {reason_in_bokmål(referral)}")
        == 2
    )


def test_a_withdrawn_referral_says_who_withdrew_it_and_why(client, case):
    site, staff, _coordinator = case
    referral = waiting_referral(site)
    login_verified(client, staff)
    client.post(f"/referrals/{referral.pk}/withdraw/", {"reason": "moved", "note": "Flyttet."})

    text = text_of(page_of(client, staff, referral))

    assert "Trukket tilbake: deltakeren har flyttet" in text
    assert "Kari Krise trakk tilbake henvisningen: deltakeren har flyttet. Flyttet." in text


def test_the_number_of_queries_does_not_grow_with_the_story(client, case):
    site, staff, coordinator = case
    short, _anne, _berit = full_journey(client, site, staff, coordinator)
    long = ReferralFactory(site=site, consent_recorded_by=staff, languages=["ar"])
    lifecycle.referral_accept(long, by=coordinator)
    for index in range(8):
        unmatched_run(site, coordinator, long)
        turned_down = pending_proposal(
            site, coordinator, [volunteer_named(site, "Vera", f"V{index}", "0154")], long
        )
        lifecycle.proposal_reject(turned_down, by=coordinator, reason="Passer ikke.")
    match = lifecycle.proposal_approve(
        pending_proposal(site, coordinator, [volunteer_named(site, "Siri", "S", "0155")], long),
        by=coordinator,
    )
    volunteers = [pair.volunteer for pair in match.proposal.pairs.all()]
    agreement_signed(match, staff, coordinator, volunteers)
    CheckIn.objects.filter(match=match).update(
        answered_at=timezone.now(), wellbeing=CheckIn.Wellbeing.GOOD, meetings_held=2
    )
    lifecycle.match_end(match, by=coordinator, reason="participant_ended", requeue=False)
    login_verified(client, coordinator)

    counts = {}
    for referral in (short, long):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/referrals/{referral.pk}/")
        counts[referral.pk] = (len(queries), response.content.decode().count("<time "))

    (short_queries, short_events), (long_queries, long_events) = counts.values()
    assert long_events >= 20 and long_events > 2 * short_events
    assert long_queries == short_queries


# Changing the referral ----------------------------------------------------------------------------


def edit_form(client, staff, referral):
    login_verified(client, staff)
    response = client.get(f"/referrals/{referral.pk}/edit/")
    assert response.status_code == 200
    version = re.search(r'name="version" value="([^"]+)"', response.content.decode()).group(1)
    return response, version


def edit_data(version, **changes):
    data = {
        "version": version,
        "postal_code": "0150",
        "municipality": "",
        "languages": ["ar"],
        "other_languages": "",
        "day_0": "2",
        "start_0": "17:00",
        "end_0": "20:00",
        "adults": "1",
        "children_birth_years": "",
        "volunteer_gender": "",
        "max_distance_km": "",
        "avoid_municipalities": "",
        "notes": "",
    }
    return data | changes


def test_staff_change_a_waiting_referral_and_the_change_is_in_the_story(client, case):
    site, staff, _coordinator = case
    referral = waiting_referral(site, languages=["ar", "am"])
    _page, version = edit_form(client, staff, referral)

    response = client.post(
        f"/referrals/{referral.pk}/edit/",
        edit_data(
            version,
            languages=["so"],
            other_languages="am",
            postal_code="5003",
            avoid_municipalities="3203",
            volunteer_gender="female",
        ),
        HTTP_ACCEPT_LANGUAGE="nb",
    )

    assert response.status_code == 302
    changed = Referral.objects.get(pk=referral.pk)
    assert changed.languages == ["so", "am"]
    assert changed.municipality.number == "4601"
    assert [m.number for m in changed.avoid_municipalities.all()] == ["3203"]
    text = text_of(client.get(response["Location"]))
    assert f"{referral.alias} er endret." in text
    assert "Endret av Kari Krise:" in text
    assert "språk" in text


def test_the_edit_form_shows_the_referral_as_it_is(client, case):
    site, staff, _coordinator = case
    referral = waiting_referral(
        site, languages=["ar", "am"], max_distance_km=30, notes="Liker å gå tur."
    )
    referral.avoid_municipalities.set([municipality("3203")])

    page, _version = edit_form(client, staff, referral)
    html = page.content.decode()

    assert re.search(r'value="ar"[^>]*checked|checked[^>]*value="ar"', html)
    assert re.search(r'name="other_languages"[^>]*value="am"', html)
    assert re.search(r'name="max_distance_km"[^>]*value="30"', html)
    assert re.search(r'name="avoid_municipalities"[^>]*value="3203"', html)
    assert "Liker å gå tur." in html
    assert re.search(r'name="start_0"[^>]*value="17:00"', html)


@pytest.mark.parametrize(
    ("field", "value"),
    [("postal_code", "0000"), ("notes", "Ring henne på 98765432"), ("children_birth_years", "ti")],
)
def test_a_bad_value_is_refused_next_to_its_field_and_nothing_is_saved(client, case, field, value):
    site, staff, _coordinator = case
    referral = waiting_referral(site, languages=["ar"])
    _page, version = edit_form(client, staff, referral)

    response = client.post(
        f"/referrals/{referral.pk}/edit/", edit_data(version, languages=["so"], **{field: value})
    )

    assert response.status_code == 400
    assert f'id="id_{field}_error"' in response.content.decode()
    assert Referral.objects.get(pk=referral.pk).languages == ["ar"]


def test_a_form_shown_before_someone_else_changed_the_referral_is_refused(client, case):
    site, staff, _coordinator = case
    colleague = UserFactory(username="colleague")
    site.crisis_centre.staff.add(colleague)
    referral = waiting_referral(site, languages=["ar"])
    _page, version = edit_form(client, staff, referral)
    referral_update(referral, changes={"languages": ["ar", "am"]}, updated_by=colleague)

    response = client.post(f"/referrals/{referral.pk}/edit/", edit_data(version, languages=["so"]))

    assert response.status_code == 409
    assert "Noen andre endret" in text_of(response)
    assert re.search(r'name="other_languages"[^>]*value="am"', response.content.decode())
    assert Referral.objects.get(pk=referral.pk).languages == ["ar", "am"]


def test_a_matched_referral_can_no_longer_be_changed(client, case):
    site, staff, coordinator = case
    referral = waiting_referral(site, languages=["ar"])
    _page, version = edit_form(client, staff, referral)
    lifecycle.proposal_approve(
        pending_proposal(site, coordinator, [ready_volunteer()], referral), by=coordinator
    )

    sent = client.post(
        f"/referrals/{referral.pk}/edit/", edit_data(version, languages=["so"]), follow=True
    )

    assert sent.redirect_chain == [(f"/referrals/{referral.pk}/", 302)]
    assert f"{referral.alias} har status «koblet» og kan ikke lenger endres." in text_of(sent)
    assert client.get(f"/referrals/{referral.pk}/edit/").status_code == 302
    assert Referral.objects.get(pk=referral.pk).languages == ["ar"]
    assert "Endre " not in text_of(page_of(client, staff, referral))


def test_only_the_referring_centres_staff_may_change_it(client, case):
    site, _staff, coordinator = case
    referral = waiting_referral(site)
    login_verified(client, coordinator)

    assert client.get(f"/referrals/{referral.pk}/edit/").status_code == 404
    assert "Endre " not in text_of(page_of(client, coordinator, referral))


# Consent to a volunteer of another gender --------------------------------------------------------


def test_staff_record_that_the_participant_accepts_another_gender(client, case):
    site, staff, coordinator = case
    referral = waiting_referral(site, volunteer_gender="female")
    assert "En frivillig av et annet kjønn" in text_of(page_of(client, staff, referral))

    response = client.post(f"/referrals/{referral.pk}/any-gender-consent/", {"confirmed": "on"})

    assert response.status_code == 302
    recorded = Referral.objects.get(pk=referral.pk)
    assert recorded.any_gender_consent_on == timezone.localdate()
    assert recorded.any_gender_consent_recorded_by == staff
    text = text_of(page_of(client, coordinator, referral))
    assert "Godtar en frivillig av et annet kjønn: registrert av Kari Krise" in text
    assert (
        "Kari Krise registrerte at deltakeren godtar en frivillig av et annet kjønn enn ønsket."
        in text
    )


def test_consent_needs_the_box_ticked(client, case):
    site, staff, _coordinator = case
    referral = waiting_referral(site, volunteer_gender="female")
    login_verified(client, staff)

    response = client.post(f"/referrals/{referral.pk}/any-gender-consent/", {})

    assert response.status_code == 400
    assert 'id="id_confirmed_error"' in response.content.decode()
    assert Referral.objects.get(pk=referral.pk).any_gender_consent_on is None


def test_consent_to_another_gender_needs_a_wish_and_an_open_referral(client, case):
    site, staff, _coordinator = case
    without_wish = waiting_referral(site)
    withdrawn = waiting_referral(site, volunteer_gender="male")
    lifecycle.referral_withdraw(withdrawn, by=staff, reason="moved")
    login_verified(client, staff)

    for referral in (without_wish, withdrawn):
        assert "annet kjønn" not in text_of(client.get(f"/referrals/{referral.pk}/"))
        client.post(f"/referrals/{referral.pk}/any-gender-consent/", {"confirmed": "on"})
        assert Referral.objects.get(pk=referral.pk).any_gender_consent_on is None


def test_only_the_referring_centres_staff_record_consent(client, case):
    site, _staff, coordinator = case
    referral = waiting_referral(site, volunteer_gender="female")
    login_verified(client, coordinator)

    response = client.post(f"/referrals/{referral.pk}/any-gender-consent/", {"confirmed": "on"})

    assert response.status_code == 404
    assert Referral.objects.get(pk=referral.pk).any_gender_consent_on is None


def test_recording_consent_again_keeps_who_recorded_it_first(case):
    site, staff, _coordinator = case
    colleague = UserFactory(username="colleague")
    site.crisis_centre.staff.add(colleague)
    referral = waiting_referral(site, volunteer_gender="female")

    referral_record_any_gender_consent(referral, by=staff)
    again = referral_record_any_gender_consent(referral, by=colleague)

    assert again.any_gender_consent_recorded_by == staff
