"""Errors never show internals: no traceback, exception text or setting reaches the person or
the API client, whatever failed. The URLs below raise on purpose and sit beside the real ones,
with the real error handlers."""

import pytest
from django.test import Client, RequestFactory, override_settings
from django.urls import path
from rest_framework.exceptions import APIException
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from config import urls as real_urls
from core.errors import server_error

SECRET = "database password is hunter2"


def failing_page(request):
    raise RuntimeError(SECRET)


class FailingApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError(SECRET)


class ApiFaultWithText(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request):
        raise APIException(SECRET)


urlpatterns = [
    path("broken/", failing_page),
    path("api/v1/broken/", FailingApi.as_view()),
    path("api/v1/broken-detail/", ApiFaultWithText.as_view()),
    *real_urls.urlpatterns,
]
handler404 = real_urls.handler404
handler500 = real_urls.handler500

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.urls(__name__),
]


@pytest.fixture
def anonymous():
    return Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")


def assert_reveals_nothing(response) -> None:
    body = response.content.decode()
    assert SECRET not in body
    assert "Traceback" not in body
    assert "RuntimeError" not in body
    assert "SECRET_KEY" not in body


@override_settings(DEBUG=False)
def test_a_failing_page_shows_the_plain_error_page(anonymous):
    response = anonymous.get("/broken/")
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
    assert_reveals_nothing(response)


@override_settings(DEBUG=False)
def test_a_failing_api_call_answers_json_without_the_cause(anonymous):
    response = anonymous.get("/api/v1/broken/")
    assert response.status_code == 500
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"detail": "A server error occurred."}
    assert_reveals_nothing(response)


@override_settings(DEBUG=False)
def test_an_api_server_fault_never_repeats_its_internal_text(anonymous):
    response = anonymous.get("/api/v1/broken-detail/")
    assert response.status_code == 500
    assert response.json() == {"detail": "A server error occurred."}
    assert_reveals_nothing(response)


@override_settings(DEBUG=False)
def test_an_unknown_page_shows_the_plain_not_found_page(anonymous):
    response = anonymous.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert "no-such-page" not in response.content.decode()


@override_settings(DEBUG=False)
def test_an_unknown_api_address_answers_json(anonymous):
    response = anonymous.get("/api/v2/nothing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.django_db(False)
def test_the_error_page_renders_without_the_database():
    """pytest-django refuses any query here, as a broken database would."""
    response = server_error(RequestFactory().get("/broken/"))
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
