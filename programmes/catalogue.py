"""The two programmes Kobling serves, with their rules as data. ``manage.py seed_demo`` and the
tests create them from here; in production an admin keeps them in the back office."""

from programmes.models import PolitiattestType, VettingKind

RESSURSVENN = {
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
    "who_may_be_referred": (
        "Women who have stayed at or been followed up by a crisis centre and are re-establishing "
        "themselves in a new home."
    ),
}

FRITIDSVENN = {
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
    "who_may_be_referred": (
        "Parents with children under 18 who have stayed at or been followed up by a crisis centre."
    ),
}

PROGRAMMES = (RESSURSVENN, FRITIDSVENN)

# The first version of each programme's agreement; later versions are published in the admin.
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
    },
}
