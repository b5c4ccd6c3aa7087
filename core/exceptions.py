"""Exceptions that services raise and every surface (pages, admin, API) understands."""


class StateConflict(Exception):
    """The action lost a race or no longer fits (409 Conflict): someone else got there first."""
