"""Password-reset e-mails are limited per e-mail address and per network address (issue 12: twenty
reset e-mails to one address in 1.4 s got through). Over a limit nothing is sent, and the page
answers exactly as when it is: it reveals neither who has an account nor who asked too often."""

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from tests.programmes.factories import UserFactory

pytestmark = pytest.mark.django_db

RESET = "/accounts/password_reset/"


def ask_for_reset(email: str, address: str = "198.51.100.7"):
    return Client().post(RESET, {"email": email}, REMOTE_ADDR=address)


def answer(response) -> tuple[int, str]:
    return response.status_code, response["Location"]


def test_twenty_requests_for_one_address_send_only_a_few_emails():
    UserFactory(username="kari", email="kari@example.no")

    answers = {answer(ask_for_reset("kari@example.no")) for _ in range(20)}

    assert len(mail.outbox) == settings.PASSWORD_RESET_PER_EMAIL_HOURLY
    assert answers == {(302, "/accounts/password_reset/done/")}


def test_the_limit_per_email_holds_from_many_network_addresses():
    UserFactory(username="kari", email="kari@example.no")

    for n in range(10):
        ask_for_reset("Kari@Example.no ", address=f"198.51.100.{n}")

    assert len(mail.outbox) == settings.PASSWORD_RESET_PER_EMAIL_HOURLY


def test_one_network_address_may_ask_only_so_often(settings):
    settings.PASSWORD_RESET_PER_ADDRESS_HOURLY = 4
    for n in range(6):
        UserFactory(username=f"user-{n}", email=f"user-{n}@example.no")

    for n in range(6):
        ask_for_reset(f"user-{n}@example.no")
    ask_for_reset("user-5@example.no", address="203.0.113.5")

    assert [message.to for message in mail.outbox] == [
        *([f"user-{n}@example.no"] for n in range(4)),
        ["user-5@example.no"],
    ]


def test_an_unknown_address_is_answered_like_a_known_one():
    UserFactory(username="kari", email="kari@example.no")

    known = answer(ask_for_reset("kari@example.no"))
    unknown = answer(ask_for_reset("nobody@example.no"))

    assert known == unknown
    assert [message.to for message in mail.outbox] == [["kari@example.no"]]
