from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The synthetic demo data (``manage.py seed_demo``) and its helpers. No models: it builds
    rows of the other apps, and nothing below it imports it."""

    name = "demo"
    label = "demo"
