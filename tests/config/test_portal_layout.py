"""The frame around every page: Designsystemet's stylesheets, the footer's links, the icon,
the language picker, and the error pages in the layout and the reader's language."""

from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied
from django.test import Client, override_settings
from django.urls import path

from config import urls as real_urls
from tests.programmes.factories import UserFactory


def forbidden_page(request):
    raise PermissionDenied


urlpatterns = [path("forbidden/", forbidden_page), *real_urls.urlpatterns]
handler403 = real_urls.handler403
handler404 = real_urls.handler404
handler500 = real_urls.handler500

pytestmark = pytest.mark.django_db


def reader(language: str) -> Client:
    return Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE=language)


def test_every_page_loads_designsystemet_then_kobling_and_names_its_icon():
    page = reader("nb").get("/about/").content.decode()

    theme = page.index("designsystemet/theme.css")
    components = page.index("designsystemet/designsystemet.css")
    ours = page.index("kobling/kobling.css")
    assert theme < components < ours
    assert 'media="print"' in page and "kobling/print.css" in page
    assert 'rel="icon"' in page and "kobling/favicon.svg" in page


def test_the_vendored_designsystemet_files_are_served_with_their_licence():
    for name in ("theme.css", "designsystemet.css", "LICENSE", "VERSIONS"):
        assert finders.find(f"designsystemet/{name}"), name
    licence = Path(finders.find("designsystemet/LICENSE")).read_text()
    assert "Digitaliseringsdirektoratet" in licence


def test_favicon_ico_leads_to_the_icon_instead_of_a_404():
    response = reader("nb").get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"].endswith("kobling/favicon.svg")


def test_the_language_picker_names_each_language_in_its_own_name():
    for language in ("nb", "en"):
        page = reader(language).get("/about/").content.decode()
        assert '<option value="nb" lang="nb"' in page and "Norsk bokmål</option>" in page
        assert '<option value="en" lang="en"' in page and "English</option>" in page


@pytest.mark.parametrize(
    ("language", "link"), [("nb", "Tilgjengelighetserklæring"), ("en", "Accessibility statement")]
)
def test_the_footer_links_the_accessibility_statement_which_anyone_may_read(language, link):
    page = reader(language).get("/about/").content.decode()
    assert f'href="/accessibility/">{link}</a>' in page

    statement = reader(language).get("/accessibility/")
    assert statement.status_code == 200
    assert "WCAG" in statement.content.decode()
    assert "uutilsynet.no" in statement.content.decode()


@pytest.mark.urls(__name__)
@override_settings(DEBUG=False)
@pytest.mark.parametrize(
    ("language", "heading"),
    [("nb", "Du har ikke tilgang til denne siden"), ("en", "You do not have access to this page")],
)
def test_a_refused_page_is_shown_in_the_layout_and_the_readers_language(language, heading):
    client = reader(language)
    client.force_login(UserFactory(first_name="Kari", last_name="Nordmann"))

    response = client.get("/forbidden/")

    page = response.content.decode()
    assert response.status_code == 403
    assert heading in page
    assert 'class="site-header"' in page and "Kari Nordmann" in page
    assert "403" not in page.split("<main", 1)[1] and "Forbidden" not in page


@pytest.mark.parametrize(
    ("language", "heading"), [("nb", "Skjemaet var utløpt"), ("en", "The form had expired")]
)
def test_a_form_sent_without_its_csrf_token_gets_a_page_that_says_what_to_do(language, heading):
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE=language)

    response = client.post("/accounts/login/", {"username": "x", "password": "y"})

    page = response.content.decode()
    assert response.status_code == 403
    assert heading in page and 'class="site-header"' in page
    assert "CSRF" not in page


@pytest.mark.urls("tests.config.test_error_pages")
@override_settings(DEBUG=False)
def test_the_error_page_is_in_the_layout_and_in_bokmal_for_a_bokmal_reader():
    response = reader("nb").get("/broken/")

    page = response.content.decode()
    assert response.status_code == 500
    assert "Noe gikk galt" in page
    assert 'class="site-header"' in page and "kobling/kobling.css" in page
