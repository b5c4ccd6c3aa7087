"""Tags for the page layout (config/templates/base.html)."""

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def languages_in_own_names() -> list[tuple[str, str]]:
    """settings.LANGUAGES as written there, each language in its own name ("Norsk bokmål",
    "English"), untranslated: a reader looks for their own language's name in the picker."""
    return list(settings.LANGUAGES)
