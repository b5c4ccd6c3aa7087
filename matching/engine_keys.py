"""The keys the engine knows referrals and volunteers by ("r12", "v7"), and back to the
database ids. The engine keeps them apart by the letter; nothing else reads them."""

REFERRAL = "r"
VOLUNTEER = "v"


def referral_key(pk: int) -> str:
    return f"{REFERRAL}{pk}"


def volunteer_key(pk: int) -> str:
    return f"{VOLUNTEER}{pk}"


def referral_pk(key: str) -> int:
    return _pk(key, REFERRAL)


def volunteer_pk(key: str) -> int:
    return _pk(key, VOLUNTEER)


def _pk(key: str, letter: str) -> int:
    if not key.startswith(letter):
        raise ValueError(f"{key!r} is not a key of the kind {letter!r}")
    return int(key.removeprefix(letter))
