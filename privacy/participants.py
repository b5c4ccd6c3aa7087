"""A participant's right of access, answered through the crisis centre: everything Kobling holds
about one referral, with its history from the audit log. Erasure is
``privacy.retention.referral_anonymise``.

Volunteers appear only as counts: they are other people, and the crisis centre tells the
participant who their volunteer is.
"""

from django.utils import timezone

from matching.models import RejectedPair, UnmatchedReferral
from programmes.audit import referral_history, referrals_log_read
from programmes.models import Referral


def participant_access_report(referral: Referral, *, requested_by) -> dict:
    referrals_log_read(requested_by, [referral], "export")
    return {
        "exported_at": timezone.now().isoformat(),
        "referral": _referral(referral),
        "proposals": _proposals(referral),
        "unmatched": _unmatched(referral),
        "rejected_pairs": _rejected_pairs(referral),
        "matches": [_match(match) for match in referral.matches.order_by("created_at")],
        "history": referral_history(referral),
    }


def _referral(referral: Referral) -> dict:
    return {
        "alias": referral.alias,
        "programme": str(referral.site.programme),
        "crisis_centre": str(referral.site.crisis_centre),
        "adults": referral.adults,
        "children_birth_years": referral.children_birth_years,
        "postal_code": referral.postal_code.code if referral.postal_code else None,
        "municipality": str(referral.municipality),
        "languages": referral.languages,
        "availability": referral.availability,
        "preferred_volunteer_gender": referral.volunteer_gender,
        "max_distance_km": referral.max_distance_km,
        "avoid_municipalities": [str(m) for m in referral.avoid_municipalities.all()],
        "wished_activities": [activity.code for activity in referral.wished_activities.all()],
        "notes": referral.notes,
        "consent_given_on": iso_or_none(referral.consent_given_on),
        "status": referral.status,
        "closure_reason": referral.closure_reason,
        "submitted_at": iso_or_none(referral.submitted_at),
        "status_changed_at": iso_or_none(referral.status_changed_at),
        "waiting_since": iso_or_none(referral.waiting_since),
        "anonymised_at": iso_or_none(referral.anonymised_at),
    }


def _proposals(referral: Referral) -> list[dict]:
    return [
        {
            "proposed_on": iso_or_none(proposal.run.on_date),
            "status": proposal.status,
            "volunteers": proposal.pairs.count(),
            "reviewed_at": iso_or_none(proposal.reviewed_at),
            "rejection_reason": proposal.rejection_reason,
        }
        for proposal in referral.proposals.select_related("run").order_by("run__created_at")
    ]


def _unmatched(referral: Referral) -> list[dict]:
    rows = UnmatchedReferral.objects.filter(referral=referral).select_related("run")
    return [
        {"run_on": iso_or_none(row.run.on_date), "reason": row.reason, "detail": row.detail}
        for row in rows
    ]


def _rejected_pairs(referral: Referral) -> list[dict]:
    return [
        {"rejected_at": iso_or_none(pair.rejected_at), "reason": pair.reason}
        for pair in RejectedPair.objects.filter(referral=referral)
    ]


def _match(match) -> dict:
    agreement = getattr(match, "agreement", None)
    return {
        "status": match.status,
        "volunteers": match.volunteers.count(),
        "created_at": iso_or_none(match.created_at),
        "ended_at": iso_or_none(match.ended_at),
        "end_reason": match.end_reason,
        "agreement": None
        if agreement is None
        else {
            "starts_on": iso_or_none(agreement.starts_on),
            "ends_on": iso_or_none(agreement.ends_on),
            "consent_recorded_at": iso_or_none(agreement.consent_recorded_at),
            "activated_at": iso_or_none(agreement.activated_at),
        },
        "check_ins": [
            {
                "due_on": iso_or_none(check_in.due_on),
                "answered_at": iso_or_none(check_in.answered_at),
                "meetings_held": check_in.meetings_held,
                "wellbeing": check_in.wellbeing,
            }
            for check_in in match.check_ins.all()
        ],
    }


def iso_or_none(value):
    """A date or time for a JSON export; None stays None."""
    return value.isoformat() if value else None
