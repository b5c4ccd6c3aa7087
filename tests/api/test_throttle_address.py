"""The API's per-address throttle counts the address the request came from, not one the client
writes into X-Forwarded-For (which would give a fresh allowance per forged header)."""

from django.test import override_settings
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.test import APIRequestFactory

from accounts.api_access import AnonThrottle


def ident_of(**headers) -> str:
    request = APIRequestFactory().get("/api/v1/programmes/", REMOTE_ADDR="10.0.0.9", **headers)
    return AnonThrottle().get_ident(Request(request))


def test_a_forged_forwarded_for_header_does_not_change_who_is_counted():
    assert api_settings.NUM_PROXIES == 0
    assert ident_of(HTTP_X_FORWARDED_FOR="203.0.113.7") == "10.0.0.9"


def test_behind_one_proxy_the_address_the_proxy_saw_is_counted():
    rest = {**api_settings.user_settings, "NUM_PROXIES": 1}
    with override_settings(REST_FRAMEWORK=rest):
        forged_then_real = "203.0.113.7, 198.51.100.4"
        assert ident_of(HTTP_X_FORWARDED_FOR=forged_then_real) == "198.51.100.4"
