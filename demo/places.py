"""Where the demo's crisis centres are, and which municipalities each of them serves."""

from collections.abc import Sequence
from dataclasses import dataclass

from geopy.distance import great_circle

from programmes.models import Municipality

NORWEGIAN_LETTERS = str.maketrans({"æ": "ae", "ø": "o", "å": "a"})


def ascii_slug(text: str) -> str:
    return text.lower().translate(NORWEGIAN_LETTERS).replace(" ", "-")


@dataclass(frozen=True)
class CentrePlace:
    """Where a demo crisis centre is hosted. The region is named after the town only."""

    host_number: str
    place: str

    @property
    def slug(self) -> str:
        return ascii_slug(self.place)

    @property
    def centre_name(self) -> str:
        return f"Krisesenteret i {self.place}-regionen"

    @property
    def sanitetsforening_name(self) -> str:
        return f"{self.place} Sanitetsforening"

    @property
    def redd_barna_name(self) -> str:
        return f"Redd Barna {self.place}"


# Sixteen hosts, not fourteen: with fewer, plain nearest-host catchments in Innlandet,
# Trøndelag and Vestland grow past 40 municipalities. With these each serves 15–31.
CENTRE_PLACES = (
    CentrePlace("0301", "Oslo"),
    CentrePlace("3107", "Fredrikstad"),
    CentrePlace("3301", "Drammen"),
    CentrePlace("4003", "Skien"),
    CentrePlace("4204", "Kristiansand"),
    CentrePlace("1103", "Stavanger"),
    CentrePlace("4601", "Bergen"),
    CentrePlace("4647", "Førde"),
    CentrePlace("1508", "Ålesund"),
    CentrePlace("5001", "Trondheim"),
    CentrePlace("5006", "Steinkjer"),
    CentrePlace("3403", "Hamar"),
    CentrePlace("3405", "Lillehammer"),
    CentrePlace("1804", "Bodø"),
    CentrePlace("5501", "Tromsø"),
    CentrePlace("5601", "Alta"),
)


def nearest_host_catchments(
    municipalities: Sequence[Municipality], hosts: Sequence[Municipality]
) -> list[list[Municipality]]:
    """Each municipality is served by exactly one centre: the one hosted nearest to it."""
    catchments: list[list[Municipality]] = [[] for _ in hosts]
    for municipality in municipalities:
        point = (municipality.lat, municipality.lon)
        distances = [great_circle(point, (host.lat, host.lon)).km for host in hosts]
        catchments[distances.index(min(distances))].append(municipality)
    return catchments
