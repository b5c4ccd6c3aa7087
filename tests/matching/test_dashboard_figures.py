"""The dashboard's map and charts are counted at most once a minute for each person (they are a
fifth of the page's time), and say when they were counted; a person who gains or loses a site
gets new figures at once, and nobody is shown another person's figures."""

import time

import pytest

from matching import selectors
from tests.auth import login_verified
from tests.matching.factories import municipality, site_with_people, waiting_referral
from tests.resilience.faults import cache_unreachable

pytestmark = pytest.mark.django_db


def waiting_on_the_map(client) -> dict[str, int]:
    response = client.get("/coordinator/", headers={"accept-language": "en"})
    assert response.status_code == 200
    return {place["name"]: place["waiting"] for place in response.context["map_places"]}


def test_the_figures_are_counted_again_after_a_minute_and_say_when_they_were_counted(
    client, monkeypatch
):
    monkeypatch.setattr(selectors, "DASHBOARD_FIGURES_SECONDS", 1)
    site, _staff, coordinator = site_with_people()
    waiting_referral(site)
    login_verified(client, coordinator)
    assert waiting_on_the_map(client) == {"Oslo": 1}

    waiting_referral(site)

    assert waiting_on_the_map(client) == {"Oslo": 1}
    time.sleep(1.2)
    assert waiting_on_the_map(client) == {"Oslo": 2}
    page = client.get("/coordinator/", headers={"accept-language": "nb"}).content.decode()
    assert "Kartet og diagrammene nedenfor viser tallene klokken" in page


def test_a_coordinator_who_loses_a_site_no_longer_sees_its_figures(client):
    oslo, _staff, coordinator = site_with_people()
    bergen, _bergen_staff, _bergen_coordinator = site_with_people(name="Bergen")
    bergen.coordinators.add(coordinator)
    waiting_referral(oslo)
    waiting_referral(bergen, municipality=municipality("4601"))
    login_verified(client, coordinator)
    assert waiting_on_the_map(client) == {"Oslo": 1, "Bergen": 1}

    bergen.coordinators.remove(coordinator)

    assert waiting_on_the_map(client) == {"Oslo": 1}


def test_each_coordinator_is_shown_their_own_figures(client):
    oslo, _staff, oslo_coordinator = site_with_people()
    bergen, _bergen_staff, bergen_coordinator = site_with_people(name="Bergen")
    waiting_referral(oslo)
    waiting_referral(bergen, municipality=municipality("4601"))

    login_verified(client, oslo_coordinator)
    assert waiting_on_the_map(client) == {"Oslo": 1}
    login_verified(client, bergen_coordinator)
    assert waiting_on_the_map(client) == {"Bergen": 1}


def test_the_dashboard_draws_its_map_with_the_cache_unreachable(client):
    site, _staff, coordinator = site_with_people()
    waiting_referral(site)
    login_verified(client, coordinator)

    with cache_unreachable():
        assert waiting_on_the_map(client) == {"Oslo": 1}
