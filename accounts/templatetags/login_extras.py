import math
from datetime import timedelta

from django import template

register = template.Library()


@register.filter
def whole_minutes(duration: timedelta) -> int:
    return math.ceil(duration.total_seconds() / 60)
