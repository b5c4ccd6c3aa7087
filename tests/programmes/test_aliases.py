"""Kobling makes every participant's alias; staff never type one (issue 12, findings 7 and 9).
A typed alias could be a name ("Ola Nordmann" then reached coordinators' e-mails) or a line
break that broke the approval e-mail, and refusing a duplicate told staff an alias in use at
another centre. Aliases typed before stay."""

import json
import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from programmes.models import Referral, new_alias
from programmes.services import referral_submit, referral_update
from programmes.tasks import send_email_task
from programmes.validators import identifying_data_in
from tests.api.test_referrals_api import submission
from tests.auth import login_verified
from tests.programmes.test_referral_pages import valid_post
from tests.programmes.test_referrals import valid_input

pytestmark = pytest.mark.django_db

URL = "/api/v1/referrals/"
GENERATED = re.compile(r"P-[BCDFGHJKLMNPRSTVWXZ]{3}\d{3}")


def api_as(user) -> APIClient:
    client = APIClient()
    login_verified(client, user)
    return client


def patch_current(client, referral, body):
    """Change a referral through the API with the ETag just read."""
    url = f"{URL}{referral.pk}/"
    etag = client.get(url).headers["ETag"]
    return client.patch(url, json.dumps(body), content_type="application/json", HTTP_IF_MATCH=etag)


def post(client, body):
    return client.post(URL, json.dumps(body), content_type="application/json")


def test_an_alias_given_in_the_api_is_refused_naming_the_field(world):
    response = post(api_as(world.users["staff_a"]), submission(world, alias="Ola Nordmann"))

    assert response.status_code == 400
    assert response.json() == {"alias": ["Kobling lager aliaset selv; det kan ikke settes."]}
    assert not Referral.objects.filter(alias="Ola Nordmann").exists()


def test_an_alias_change_in_the_api_is_refused_and_the_alias_stays(world):
    client = api_as(world.users["staff_a"])

    response = patch_current(client, world.referral_x, {"alias": "Kari Nordmann"})

    assert response.status_code == 400
    assert list(response.json()) == ["alias"]
    world.referral_x.refresh_from_db()
    assert world.referral_x.alias != "Kari Nordmann"


def test_the_service_refuses_an_alias_change(world):
    referral = world.referral_x
    before = referral.alias

    with pytest.raises(ValidationError) as caught:
        referral_update(
            referral, changes={"alias": "Kari Nordmann"}, updated_by=world.users["staff_a"]
        )

    assert list(caught.value.message_dict) == ["alias"]
    referral.refresh_from_db()
    assert referral.alias == before


def test_a_taken_alias_and_a_free_one_get_the_same_answer(world):
    """The duplicate-alias error used to confirm that an alias exists at another centre."""
    client = api_as(world.users["staff_a"])

    taken = post(client, submission(world, alias=world.referral_y.alias))
    free = post(client, submission(world, alias="P-FRI999"))

    assert taken.status_code == free.status_code == 400
    assert taken.json() == free.json()
    assert world.referral_y.alias not in taken.content.decode()


def test_the_portal_form_has_no_alias_and_ignores_one_sent(client, world):
    login_verified(client, world.users["staff_a"])

    form = client.get("/referrals/new/").content.decode()
    response = client.post("/referrals/new/", valid_post(world.site_x, alias="Ola Nordmann"))

    assert 'name="alias"' not in form
    assert response.status_code == 302
    newest = Referral.objects.order_by("-pk").first()
    assert GENERATED.fullmatch(newest.alias)


def test_generated_aliases_are_readable_and_say_nothing_about_anyone():
    aliases = {new_alias() for _ in range(500)}

    assert all(GENERATED.fullmatch(alias) for alias in aliases)
    assert not [alias for alias in aliases if identifying_data_in(alias)]


def test_an_alias_already_in_use_is_drawn_again_without_an_error(world, monkeypatch):
    taken = world.referral_y.alias
    draws = iter([taken, taken, "P-BCD123"])
    monkeypatch.setattr("programmes.models.new_alias", lambda: next(draws))
    staff = world.users["staff_a"]

    referral = referral_submit(site=world.site_x, data=valid_input(), submitted_by=staff)

    assert referral.alias == "P-BCD123"
    assert Referral.objects.filter(alias=taken).get() == world.referral_y


def test_an_alias_typed_before_stays_and_the_referral_can_still_be_changed(world):
    Referral.objects.filter(pk=world.referral_x.pk).update(alias="Ola Nordmann")

    changed = referral_update(
        world.referral_x, changes={"notes": "Rolige steder."}, updated_by=world.users["staff_a"]
    )

    assert (changed.alias, changed.notes) == ("Ola Nordmann", "Rolige steder.")


@pytest.mark.parametrize(
    "subject",
    [
        "Referral P-NL\nSubject: injected is matched",
        "Referral P-NL\r\nBcc: someone@example.net is matched",
        "Referral P-NL\u2028Subject: injected is matched",
    ],
)
def test_a_subject_with_a_line_break_goes_out_on_one_line(subject):
    send_email_task(["staff@example.no"], subject, "Body")

    sent = mail.outbox[-1]
    header_names = re.findall(r"^([\w-]+):", sent.message().as_string().split("\n\n")[0], re.M)
    assert sent.subject.startswith("Referral P-NL ") and sent.subject.endswith(" is matched")
    assert "\n" not in sent.subject and "\r" not in sent.subject
    assert header_names.count("Subject") == 1 and "Bcc" not in header_names


@pytest.mark.usefixtures("eager_celery")
def test_approving_a_match_for_an_alias_typed_with_a_line_break_succeeds(
    world, django_capture_on_commit_callbacks
):
    """Approval answered 500 in the e-mail header after the match was saved."""
    referral = world.waiting_x
    Referral.objects.filter(pk=referral.pk).update(alias="P-NL\nSubject: injected")
    world.users["staff_a"].email = "staff-a@example.no"
    world.users["staff_a"].save()
    client = api_as(world.users["coord_x"])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/proposals/{world.proposal_x.pk}/approve/")

    assert response.status_code == 201
    to_staff = [m for m in mail.outbox if m.to == ["staff-a@example.no"]]
    assert len(to_staff) == 1 and "P-NL Subject: injected" in to_staff[0].subject
