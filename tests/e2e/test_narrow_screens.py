"""Every page of the three journeys fits a 360 px wide phone (and a 1280 px wide screen): the
page itself never scrolls sideways, no button or action link hides past the edge of the screen,
and a table wider than the screen scrolls inside a region of its own that the keyboard reaches
and that has a name, with a hint to swipe above it only while it is wider than the screen.

One world of data and one signed-in tab per reader for the module (tests/e2e/journeys.py)."""

import pytest

from tests.e2e.journeys import (
    journeys_served,
    test_every_journey_page_is_a_page_of_the_portal,  # noqa: F401  (runs here too)
)
from tests.journeys import PAGES

pytestmark = pytest.mark.browser

WIDTHS = (360, 1280)
PAGE_SCROLLS_SIDEWAYS = (
    "document.documentElement.scrollWidth > document.documentElement.clientWidth"
)
# Describes an element for a failure message.
NAMED = """e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
  (typeof e.className === 'string' && e.className
    ? '.' + e.className.trim().split(/\\s+/).join('.') : '') +
  ' "' + (e.innerText || '').trim().slice(0, 40) + '"'"""
# The outermost elements reaching past the right edge: what to fix when the page scrolls.
WIDER_THAN_THE_SCREEN = f"""() => {{
  const width = document.documentElement.clientWidth;
  const wide = [...document.body.querySelectorAll('*')].filter(
    e => e.getBoundingClientRect().right > width + 1);
  return wide.filter(e => !wide.includes(e.parentElement)).slice(0, 5).map({NAMED});
}}"""
# Buttons and links drawn as buttons that are shown but not wholly on the screen.
ACTIONS_OFF_SCREEN = f"""() => {{
  const width = document.documentElement.clientWidth;
  return [...document.querySelectorAll('main :is(button, a.ds-button, input[type=submit])')]
    .filter(e => e.getClientRects().length && e.getAttribute('aria-hidden') !== 'true')
    .filter(e => {{
      const box = e.getBoundingClientRect();
      return box.left < 0 || box.right > width + 1;
    }})
    .map({NAMED});
}}"""
# Tables wider than the box they sit in, outside a focusable, named region.
TABLES_CUT_OFF = f"""() => [...document.querySelectorAll('main table')]
  .filter(t => t.getClientRects().length && t.scrollWidth > t.parentElement.clientWidth + 1)
  .filter(t => !t.closest('[role=region][tabindex="0"]:is([aria-label], [aria-labelledby])'))
  .map({NAMED})"""

# "Swipe sideways" hints shown above a table that fits, or hidden above one that does not.
HINTS_THAT_MISLEAD = f"""() => [...document.querySelectorAll('main .table-scroll')]
  .filter(r => r.previousElementSibling?.classList.contains('table-scroll-hint'))
  .filter(r => r.getClientRects().length)
  .filter(r => (r.scrollWidth > r.clientWidth + 1)
    !== (r.previousElementSibling.getClientRects().length > 0))
  .map({NAMED})"""


@pytest.fixture(scope="module")
def journeys(django_db_setup, django_db_blocker, browser):
    with journeys_served(browser, django_db_blocker) as served:
        yield served


def cases():
    for journey_page in PAGES:
        for width in WIDTHS:
            yield pytest.param(journey_page, width, id=f"{journey_page.id}-{width}")


@pytest.mark.parametrize(("journey_page", "width"), list(cases()))
def test_the_page_fits_the_screen(journeys, journey_page, width):
    page = journeys.open(journey_page, "nb", width)

    assert not page.evaluate(PAGE_SCROLLS_SIDEWAYS), page.evaluate(WIDER_THAN_THE_SCREEN)
    assert page.evaluate(ACTIONS_OFF_SCREEN) == []
    assert page.evaluate(TABLES_CUT_OFF) == []
    assert page.evaluate(HINTS_THAT_MISLEAD) == []
