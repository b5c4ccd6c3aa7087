"""The load test's journeys (benchmarks/locustfile.py) request pages that exist: every page it
names resolves to one of Kobling's views, so a renamed page cannot silently drop out of the
load figures. (Locust itself is an optional dependency; the file is read, not imported.)"""

import pathlib
import re

from django.urls import resolve

LOCUSTFILE = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "locustfile.py"


def named_pages() -> set[str]:
    """Every quoted path in the file ("/coordinator/", "/referrals/[id]/")."""
    return set(re.findall(r'"(/[a-z0-9/\[\]-]*)"', LOCUSTFILE.read_text()))


def test_every_page_of_the_journeys_resolves_to_a_view():
    pages = named_pages()

    assert len(pages) >= 15
    for page in pages:
        match = resolve(page.replace("[id]", "1"))
        assert match.func is not None, page


def test_each_role_has_a_journey():
    text = LOCUSTFILE.read_text()
    for role in ("class CrisisCentreStaff(", "class Coordinator(", "class Volunteer("):
        assert role in text
