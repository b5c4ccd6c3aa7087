"""Leisure activities in words, in the reader's language: "fotball, svømming". Pages that name
the activities of many rows look their names up once (``activities_by_code``)."""

from collections.abc import Iterable

from programmes.models import Activity


def activity_names(activities: Iterable[Activity]) -> str:
    """Names as running text writes them, in the order given: "fotball, svømming"."""
    return ", ".join(activity.name for activity in activities)


def activities_by_code(codes: Iterable[str]) -> dict[str, Activity]:
    """The activities with these codes, in one query."""
    return {activity.code: activity for activity in Activity.objects.filter(code__in=set(codes))}


def activity_names_of(codes: Iterable[str], by_code: dict[str, Activity]) -> str:
    """Names of activities given by code, looked up in ``by_code``; a code no longer in the
    list (an admin deleted it before anyone chose it) is shown as it is."""
    return ", ".join(by_code[code].name if code in by_code else code for code in codes)
