"""Strict readers for environment variables.

django-environ parses URLs well but turns any unknown boolean into False; a typo such as
``DEBUG=maybe`` must stop the service instead, so booleans, choices and numbers are read here.
"""

import os
import re

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


def raw(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None or value.strip() == "" else value.strip()


def boolean(name: str, default: bool) -> bool:
    value = raw(name)
    if value is None:
        return default
    if value.lower() in TRUE_WORDS:
        return True
    if value.lower() in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean; use true/false, yes/no or 1/0.")


def choice(name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = raw(name) or default
    if value not in allowed:
        raise ImproperlyConfigured(f"{name}={value!r} must be one of: {', '.join(allowed)}.")
    return value


def integer(name: str, default: int, minimum: int = 0) -> int:
    value = raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}.")
    return number


def url(name: str, schemes: tuple[str, ...]) -> str | None:
    value = raw(name)
    if value is not None and value.split("://", 1)[0] not in schemes:
        raise ImproperlyConfigured(
            f"{name} must start with one of {', '.join(s + '://' for s in schemes)}; got {value!r}."
        )
    return value


def word_list(name: str, default: list[str]) -> list[str]:
    value = raw(name)
    return default if value is None else [item.strip() for item in value.split(",") if item.strip()]


def identifier(name: str) -> str | None:
    """A PostgreSQL role or similar name: lowercase letters, digits and underscores only, so it
    can be quoted into SQL as it is."""
    value = raw(name)
    if value is not None and not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", value):
        raise ImproperlyConfigured(
            f"{name}={value!r} must be lowercase letters, digits and underscores (at most 63)."
        )
    return value


def required(name: str, purpose: str) -> str:
    """A variable without which ``purpose`` cannot work (scripts/serve names what each process
    needs): the refusal is one line naming it."""
    value = raw(name)
    if value is None:
        raise ImproperlyConfigured(f"{name} must be set {purpose}.")
    return value
