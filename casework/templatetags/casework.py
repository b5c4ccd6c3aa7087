"""How coordinators see people on every page: a volunteer by full name and home municipality,
linked to their page; a referral by its alias, linked to its page.

Callers select_related("user", "home_postal_code__municipality") on volunteers so that a list of
them costs no extra queries."""

from django import template
from django.urls import reverse
from django.utils.html import format_html

from programmes.geodata import distance_in_words

register = template.Library()


@register.simple_tag
def volunteer_link(volunteer) -> str:
    if volunteer.erased_at is not None:
        return volunteer_name(volunteer)
    return format_html(
        '<a href="{}">{}</a>, {}',
        reverse("volunteer_detail", args=[volunteer.pk]),
        volunteer_name(volunteer),
        volunteer.home_postal_code.municipality.name,
    )


@register.filter
def volunteer_name(volunteer) -> str:
    return volunteer.display_name


@register.simple_tag
def referral_link(referral) -> str:
    return format_html(
        '<a href="{}">{}</a>', reverse("referral_detail", args=[referral.pk]), referral.alias
    )


@register.filter
def km(distance) -> str:
    return distance_in_words(distance)
