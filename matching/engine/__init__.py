"""Kobling's pure matching core: no Django, only numpy, scipy and highspy (HiGHS).

instance = parse_instance(json.load(file))   # raises MatchingInputError
result = solve(instance)                      # exact lexicographic optimum, explained
json.dumps(result_to_dict(result))
"""

from .errors import MatchingInputError, SolverFailure
from .instance import LANGUAGE_LEVELS, Instance, Referral, Rules, Slot, Volunteer
from .pipeline import canonical_order, solve
from .result import (
    Assignment,
    MatchResult,
    NearMiss,
    Pair,
    Summary,
    Unmatched,
    result_to_dict,
)
from .validation import parse_instance
from .what_if import WhatIfAnswer, what_if

__all__ = [
    "LANGUAGE_LEVELS",
    "Assignment",
    "Instance",
    "MatchResult",
    "MatchingInputError",
    "NearMiss",
    "Pair",
    "Referral",
    "Rules",
    "Slot",
    "SolverFailure",
    "Summary",
    "Unmatched",
    "Volunteer",
    "WhatIfAnswer",
    "canonical_order",
    "parse_instance",
    "result_to_dict",
    "solve",
    "what_if",
]
