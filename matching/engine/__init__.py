"""Kobling's pure matching core: no Django, only numpy and scipy.

instance = parse_instance(json.load(file))   # raises MatchingInputError
result = solve(instance)                      # exact lexicographic optimum, explained
json.dumps(result_to_dict(result))
"""

from .api import canonical_order, solve
from .errors import MatchingInputError
from .instance import Instance, Referral, Rules, Slot, Volunteer
from .result import Assignment, MatchResult, Pair, Summary, Unmatched, result_to_dict
from .validation import parse_instance

__all__ = [
    "Assignment",
    "Instance",
    "MatchResult",
    "MatchingInputError",
    "Pair",
    "Referral",
    "Rules",
    "Slot",
    "Summary",
    "Unmatched",
    "Volunteer",
    "canonical_order",
    "parse_instance",
    "result_to_dict",
    "solve",
]
