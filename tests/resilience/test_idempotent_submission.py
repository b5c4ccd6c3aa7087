"""A referral sent twice is one referral: the portal form carries a one-time key, the API takes
an Idempotency-Key header. The same key with other answers is refused and saves nothing."""

import json
import re
import threading

import pytest
from django.db import connections

from programmes.models import Referral
from programmes.services import ReferralInput, referral_submit
from tests.api.test_referrals_api import submission
from tests.auth import login_verified
from tests.matching.factories import site_with_people
from tests.programmes.test_referral_pages import valid_post

URL = "/api/v1/referrals/"


def form_key(client) -> str:
    page = client.get("/referrals/new/").content.decode()
    return re.search(r'name="submission_key" value="([^"]+)"', page).group(1)


def post_api(client, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(URL, json.dumps(body), content_type="application/json", **headers)


@pytest.mark.django_db
def test_the_same_portal_form_sent_twice_makes_one_referral(client):
    site, staff, _coordinator = site_with_people()
    login_verified(client, staff)
    sent = valid_post(site, submission_key=form_key(client))

    first, again = client.post("/referrals/new/", sent), client.post("/referrals/new/", sent)

    assert (first.status_code, again.status_code) == (302, 302)
    assert Referral.objects.filter(site=site).count() == 1


@pytest.mark.django_db
def test_each_new_form_has_its_own_key_so_two_forms_make_two_referrals(client):
    site, staff, _coordinator = site_with_people()
    login_verified(client, staff)

    for _ in range(2):
        client.post("/referrals/new/", valid_post(site, submission_key=form_key(client)))

    assert Referral.objects.filter(site=site).count() == 2


@pytest.mark.django_db
def test_a_form_sent_again_with_other_answers_is_refused_in_words(client):
    site, staff, _coordinator = site_with_people()
    login_verified(client, staff)
    key = form_key(client)
    client.post("/referrals/new/", valid_post(site, submission_key=key))
    first = Referral.objects.get(site=site)

    response = client.post("/referrals/new/", valid_post(site, submission_key=key, adults="2"))

    assert response.status_code == 400
    page = response.content.decode()
    assert f"Dette skjemaet er allerede sendt, som henvisning {first.alias}, med andre svar" in page
    assert Referral.objects.filter(site=site).count() == 1


def test_the_same_api_request_sent_twice_answers_with_the_first_referral(world, client_for):
    client = client_for("staff_a")
    before = Referral.objects.count()

    first = post_api(client, submission(world), key="c1d0f6a2-retry-1")
    again = post_api(client, submission(world), key="c1d0f6a2-retry-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Location"] == first.headers["Location"]
    assert Referral.objects.count() == before + 1


def test_the_same_key_with_another_body_is_a_409_in_words(world, client_for):
    client = client_for("staff_a")
    post_api(client, submission(world), key="key-1")
    before = Referral.objects.count()

    response = post_api(client, submission(world, adults=2), key="key-1")

    assert response.status_code == 409
    assert "Idempotency-Key er allerede brukt" in response.json()["detail"]
    assert Referral.objects.count() == before


def test_keys_are_per_user_so_another_user_reusing_one_gets_their_own_referral(world, client_for):
    post_api(client_for("staff_a"), submission(world), key="shared-key")
    before = Referral.objects.count()

    body = submission(world, site=world.site_y.pk)
    response = post_api(client_for("staff_b"), body, key="shared-key")

    assert response.status_code == 201
    assert Referral.objects.count() == before + 1


def test_a_malformed_key_is_a_400_naming_the_header(world, client_for):
    before = Referral.objects.count()

    response = post_api(client_for("staff_a"), submission(world), key="x" * 101)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert Referral.objects.count() == before


def test_without_a_key_every_request_is_a_new_referral(world, client_for):
    client = client_for("staff_a")
    before = Referral.objects.count()

    post_api(client, submission(world))
    post_api(client, submission(world))

    assert Referral.objects.count() == before + 2


def _submit_in_a_thread(site, staff, results: list, start: threading.Barrier) -> None:
    data = ReferralInput(
        languages=["ar"],
        consent_given_on="2026-11-01",
        postal_code="0150",
        availability=[{"day": 2, "start": "17:00", "end": "20:00"}],
    )
    try:
        start.wait()
        referral = referral_submit(site=site, data=data, submitted_by=staff, submission_key="k")
        results.append(referral)
    finally:
        connections.close_all()


@pytest.mark.postgres
def test_the_same_key_sent_twice_at_once_makes_one_referral(geodata):
    site, staff, _coordinator = site_with_people()
    results: list[Referral] = []
    start = threading.Barrier(2)
    threads = [
        threading.Thread(target=_submit_in_a_thread, args=(site, staff, results, start))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(results) == 2
    assert results[0].pk == results[1].pk
    assert Referral.objects.filter(site=site).count() == 1
