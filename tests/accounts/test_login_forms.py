"""The login forms as a person and a password manager meet them: the attributes that let a
browser fill in the username, password and one-time code, and a refused login told in the error
summary and the page's title."""

import pytest

from tests.accounts.conftest import log_in
from tests.portal_html import attributes, summary_links, title

pytestmark = pytest.mark.django_db


def test_the_login_form_names_its_fields_for_password_managers(english_client):
    response = english_client.get("/accounts/login/")
    username, password = attributes(response, "id_username"), attributes(response, "id_password")
    assert (username["autocomplete"], password["autocomplete"]) == ("username", "current-password")
    assert username["autocapitalize"] == "none"
    assert "ds-input" in username["class"] and "ds-input" in password["class"]
    assert title(response) == "Log in – Kobling"


def test_a_refused_login_is_in_the_summary_and_the_title(world, english_client):
    response = log_in(english_client, "coordinator-A", password="not the password")

    assert title(response) == "Error: Log in – Kobling"
    assert attributes(response, "error-summary")["tabindex"] == "-1"
    assert "Please enter a correct username and password" in response.content.decode()


def test_an_empty_login_links_to_both_fields(english_client):
    response = english_client.post("/accounts/login/", {"username": "", "password": ""})
    assert [href for href, _text in summary_links(response)] == ["#id_username", "#id_password"]


def test_the_code_field_asks_for_digits_and_a_one_time_code(world, english_client):
    log_in(english_client, "coordinator-A")
    response = english_client.get("/accounts/two-factor/setup/")
    code = attributes(response, "id_code")
    assert (code["autocomplete"], code["inputmode"]) == ("one-time-code", "numeric")
    assert "ds-input" in code["class"]
