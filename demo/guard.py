"""Demo data has a published admin password and two-factor secret: everything that makes or
uses it calls ``demo_refuse_in_production`` first."""

from django.conf import settings


class DemoRefusedInProduction(Exception):
    """Demo data has a public admin password and authenticator secret: never in production."""

    def __init__(self) -> None:
        super().__init__(
            "Demo data and demo helpers are refused when KOBLING_ENV=production: the demo "
            "logins have a published password and two-factor secret."
        )


def demo_refuse_in_production() -> None:
    """Every way in to the demo data and its logins calls this first."""
    if settings.KOBLING_ENV == "production":
        raise DemoRefusedInProduction
