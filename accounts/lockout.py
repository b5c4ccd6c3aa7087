"""Lockout after failed logins, built so that it cannot be turned against someone.

django-axes counts failures per username *and* address (``AXES_LOCKOUT_PARAMETERS``): a stranger
guessing a coordinator's password locks out only themselves, never the coordinator at their own
address. Someone trying many usernames from one address is stopped by a second limit:
``LOGIN_ADDRESS_FAILURE_LIMIT`` failures from that address within the cool-off lock the address.
Each username counts at most ``AXES_FAILURE_LIMIT`` towards it, so one person's typos, however
many, never lock out a crisis centre whose staff share one address.

The address is the client's, found behind the production proxy by ``client_address``.
"""

import ipaddress

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.shortcuts import render

ADDRESS_LOCKED = "kobling_address_locked"


def client_address(request) -> str | None:
    """The address the request came from. Each of the ``TRUSTED_PROXY_COUNT`` proxies in front
    of Kobling appends the address it received from to X-Forwarded-For, so the client's is that
    many places from the right; what stands further left was written by the client and could
    be anything."""
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXY_COUNT
    if not proxies:
        return remote
    forwarded = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [hop for hop in forwarded if hop]
    if len(forwarded) < proxies:
        return remote
    try:
        return str(ipaddress.ip_address(forwarded[-proxies]))
    except ValueError:
        return remote


def address_failures(request) -> int:
    """Failed logins from the request's address within the cool-off, at most
    ``AXES_FAILURE_LIMIT`` for each username; counting stops at the address limit."""
    per_username = (
        AccessAttempt.objects.filter(
            ip_address=request.axes_ip_address,
            attempt_time__gte=get_cool_off_threshold(request),
        )
        .order_by()
        .values("username")
        .annotate(failures=Sum("failures_since_start"))
        .values_list("failures", flat=True)
    )
    total = 0
    for failures in per_username.iterator():
        total += min(failures, settings.AXES_FAILURE_LIMIT)
        if total >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            break
    return total


class KoblingAxesHandler(AxesDatabaseHandler):
    """django-axes' database handler with the address limit on top of the username+address
    one: an address over its limit counts as a lockout for every username tried from it."""

    def get_failures(self, request, credentials=None) -> int:
        failures = super().get_failures(request, credentials)
        limit = get_failure_limit(request, credentials)
        if failures >= limit:
            return failures
        if address_failures(request) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            setattr(request, ADDRESS_LOCKED, True)
            return limit
        return failures


def lockout_response(request, original_response=None, credentials=None):
    """The lockout page, saying which lock holds: this username from here, or this address."""
    context = {
        "failure_limit": get_failure_limit(request, credentials),
        "address_locked": getattr(request, ADDRESS_LOCKED, False),
        "cooloff_timedelta": get_cool_off(request),
    }
    status = settings.AXES_HTTP_RESPONSE_CODE
    return render(request, "accounts/locked_out.html", context, status=status)
