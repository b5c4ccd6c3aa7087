"""The two programmes Kobling serves, with their rules as data, and the leisure activities
people choose from. ``manage.py seed_demo`` and the tests create them from here; in production
an admin keeps them in the back office (migration 0016 wrote the first list of activities)."""

from typing import Any

from programmes.models import Activity, PolitiattestType, VettingKind

RESSURSVENN: dict[str, Any] = {
    "slug": "ressursvenn",
    "name": "Ressursvenn",
    "description": (
        "Norske Kvinners Sanitetsforening: one vetted volunteer gives one woman regular, "
        "long-term support in the re-establishment phase after the crisis centre."
    ),
    "volunteers_per_referral": 1,
    "min_commitment_months": 6,
    "required_vetting": [
        VettingKind.POLITIATTEST,
        VettingKind.TRAINING,
        VettingKind.CONFIDENTIALITY,
        VettingKind.ETHICS,
    ],
    "required_politiattest_type": PolitiattestType.ORDINARY,
    "default_max_distance_km": 40,
    "requires_children": False,
    "min_language_level": "conversational",
    "who_may_be_referred": (
        "Women who have stayed at or been followed up by a crisis centre and are re-establishing "
        "themselves in a new home."
    ),
}

FRITIDSVENN: dict[str, Any] = {
    "slug": "fritidsvenn",
    "name": "Fritidsvenn",
    "description": (
        "Redd Barna: two volunteers per family help a parent get the children into ordinary "
        "leisure activities."
    ),
    "volunteers_per_referral": 2,
    "min_commitment_months": 12,
    "required_vetting": [
        VettingKind.POLITIATTEST,
        VettingKind.TRAINING,
        VettingKind.FIRST_AID,
        VettingKind.CONFIDENTIALITY,
        VettingKind.ETHICS,
    ],
    "required_politiattest_type": PolitiattestType.CHILDREN,
    "default_max_distance_km": 40,
    "requires_children": True,
    # Most children are of small-school age; Redd Barna also takes teenagers.
    "child_min_age": 6,
    "child_max_age": 17,
    "min_language_level": "conversational",
    "who_may_be_referred": (
        "Parents with children under 18 who have stayed at or been followed up by a crisis centre."
    ),
}

PROGRAMMES = (RESSURSVENN, FRITIDSVENN)

# (code, bokmål, English), in the order people see them. Names as running text writes them.
ACTIVITIES = (
    ("football", "fotball", "football"),
    ("swimming", "svømming", "swimming"),
    ("outdoor-life", "friluftsliv", "outdoor life"),
    ("skiing", "ski", "skiing"),
    ("cycling", "sykling", "cycling"),
    ("handball", "håndball", "handball"),
    ("climbing", "klatring", "climbing"),
    ("dance", "dans", "dance"),
    ("music", "musikk", "music"),
    ("art", "kunst og forming", "art and crafts"),
    ("scouting", "speideren", "scouting"),
    ("library", "bibliotek", "library"),
    ("homework-reading", "leksehjelp og lesing", "homework help and reading"),
    ("gaming", "spill og gaming", "games and gaming"),
)


def activities_ensure() -> None:
    """The maintained list of activities, for a database that lacks it (the tests after a
    flush, the demo). Existing rows, and an admin's changes to them, stay as they are."""
    for position, (code, name_nb, name_en) in enumerate(ACTIVITIES):
        Activity.objects.get_or_create(
            code=code, defaults={"name_nb": name_nb, "name_en": name_en, "position": position}
        )


# The first version of each programme's agreement, in bokmål and in English; later versions are
# published in the admin.
INITIAL_TERMS = {
    "ressursvenn": {
        "text": (
            "Ressursvennen og deltakeren møtes jevnlig, vanligvis annenhver uke, i minst seks "
            "måneder. Ressursvennen gir praktisk og sosial støtte i reetableringen etter "
            "krisesenteret, og er ikke behandler, advokat eller saksbehandler."
        ),
        "contact_rules": (
            "Kontakt skjer på avtalte tider og steder. Ressursvennen oppsøker aldri deltakerens "
            "bolig uten avtale og deler aldri deltakerens adresse eller telefonnummer."
        ),
        "confidentiality": (
            "Ressursvennen har taushetsplikt om alt hun får vite om deltakeren, også etter at "
            "avtalen er slutt. Bekymring for vold meldes til koordinatoren eller politiet."
        ),
        "text_en": (
            "The volunteer and the participant meet regularly, usually every other week, for at "
            "least six months. The volunteer gives practical and social support while the "
            "participant settles into a new life after the crisis centre, and is not a therapist, "
            "lawyer or caseworker."
        ),
        "contact_rules_en": (
            "Contact takes place at agreed times and places. The volunteer never visits the "
            "participant's home without an agreement and never shares the participant's address "
            "or phone number."
        ),
        "confidentiality_en": (
            "The volunteer must keep everything she learns about the participant confidential, "
            "also after the agreement has ended. Concerns about violence are reported to the "
            "coordinator or the police."
        ),
    },
    "fritidsvenn": {
        "text": (
            "To fritidsvenner hjelper familien i minst tolv måneder med å finne og delta i "
            "vanlige fritidsaktiviteter for barna, og følger forelderen og barna i starten."
        ),
        "contact_rules": (
            "Fritidsvennene møter familien sammen eller etter avtale med koordinatoren. "
            "Ingen deler familiens adresse, skole eller aktiviteter med andre."
        ),
        "confidentiality": (
            "Fritidsvennene har taushetsplikt om familien, også etter at avtalen er slutt. "
            "Bekymring for barnas omsorg meldes til koordinatoren, og ved fare til politiet."
        ),
        "text_en": (
            "For at least twelve months, two volunteers help the family find and take part in "
            "ordinary leisure activities for the children, and go along with the parent and the "
            "children at first."
        ),
        "contact_rules_en": (
            "The volunteers meet the family together or as agreed with the coordinator. No one "
            "shares the family's address, school or activities with others."
        ),
        "confidentiality_en": (
            "The volunteers must keep everything about the family confidential, also after the "
            "agreement has ended. Concerns about the children's care are reported to the "
            "coordinator, and to the police if anyone is in danger."
        ),
    },
}
