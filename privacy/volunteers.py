"""A volunteer's rights over their data: a copy of everything Kobling holds about them (the
right of access, as JSON) and erasure (on request, or by retention a while after they retire).

Erasure keeps the rows that statistics count (the volunteer's organisation, programmes, status
and dates, and their matches) and removes everything that says who they are, where they live
and what they wrote.
"""

from auditlog import get_logentry_model
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import devices_for_user

from accounts.services import user_deactivate
from matching.models import CheckIn, Match, NearMiss, RejectedPair
from matching.selectors import participant_view_for
from privacy.erasure import REMOVED, admin_history_forget
from privacy.participants import iso_or_none
from programmes.audit import referrals_log_read
from programmes.notifications import email_after_commit
from volunteers.models import ApplicationStep, Volunteer, VolunteerDeletionRequest

ERASED_USERNAME = "erased-{pk}"


def volunteer_data_export(volunteer: Volunteer, *, exported_by=None) -> dict:
    """Everything about the volunteer and their account, in plain JSON types. Of a participant
    it holds only what the volunteer may see (``participant_view_for``), and producing it is
    logged as a read of those referrals."""
    matches = Match.objects.filter(volunteers__volunteer=volunteer).distinct()
    referrals_log_read(exported_by or volunteer.user, [m.referral for m in matches], "export")
    user = volunteer.user
    return {
        "exported_at": timezone.now().isoformat(),
        "account": _account(user),
        "volunteer": _profile(volunteer),
        "vetting": [_vetting(record) for record in volunteer.vetting.all()],
        "proposals": [_proposal(pair) for pair in volunteer.proposal_pairs.all()],
        "rejected_pairs": _rejected_pairs(volunteer),
        "matches": [_match(match, volunteer) for match in matches],
        "deletion_requests": [_deletion_request(r) for r in volunteer.deletion_requests.all()],
        "application": _application(volunteer),
        "follow_ups": [_follow_up(entry) for entry in volunteer.follow_ups.all()],
        "two_factor_devices": _devices(user),
        "api_tokens": _api_tokens(user),
        "sign_ins": _sign_ins(user),
        "failed_sign_ins": _failed_sign_ins(user),
        "audit_log": _audit_entries(user),
    }


def _account(user) -> dict:
    return {
        "username": user.get_username(),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": user.is_active,
        "date_joined": iso_or_none(user.date_joined),
        "last_login": iso_or_none(user.last_login),
        "coordinates_sites": [str(site) for site in user.coordinated_sites.all()],
        "staff_of_crisis_centres": [str(centre) for centre in user.crisis_centres.all()],
    }


def _profile(volunteer: Volunteer) -> dict:
    return {
        "organisation": str(volunteer.organisation),
        "programmes": [str(programme) for programme in volunteer.programmes.all()],
        "home_postal_code": str(volunteer.home_postal_code or ""),
        "phone": volunteer.phone,
        "languages": volunteer.languages,
        "gender": volunteer.gender,
        "availability": volunteer.availability,
        "capacity": volunteer.capacity,
        "avoid_municipalities": [str(m) for m in volunteer.avoid_municipalities.all()],
        "open_matches": volunteer.commitments,
        "activities": [activity.code for activity in volunteer.activities.all()],
        "status": volunteer.status,
        "status_changed_at": iso_or_none(volunteer.status_changed_at),
        "joined_on": iso_or_none(volunteer.joined_on),
        "retired_at": iso_or_none(volunteer.retired_at),
    }


def _application(volunteer: Volunteer) -> dict | None:
    """How they came in: the steps with their days, not who took them nor the coordinators'
    notes (their words about the volunteer's intake)."""
    application = getattr(volunteer, "application", None)
    if application is None:
        return None
    return {
        "programme": str(application.programme),
        "submitted_at": iso_or_none(application.submitted_at),
        "consent_given_at": iso_or_none(application.consent_given_at),
        "confirmed_at": iso_or_none(application.confirmed_at),
        "steps": [
            {"stage": step.stage, "on": iso_or_none(step.on)} for step in application.steps.all()
        ],
    }


def _follow_up(entry) -> dict:
    return {"kind": entry.kind, "on": iso_or_none(entry.on), "note": entry.note}


def _vetting(record) -> dict:
    return {
        "kind": record.kind,
        "politiattest_type": record.politiattest_type,
        "issued_on": iso_or_none(record.issued_on),
        "expires_on": iso_or_none(record.expires_on),
        "recorded_at": iso_or_none(record.recorded_at),
    }


def _proposal(pair) -> dict:
    # Proposals a coordinator has not approved are never shown to the volunteer, and the
    # distance and shared languages would tell them about the participant: only the fact.
    return {"proposed_on": iso_or_none(pair.proposal.run.on_date), "status": pair.proposal.status}


def _rejected_pairs(volunteer: Volunteer) -> list[dict]:
    pairs = RejectedPair.objects.filter(volunteer=volunteer)
    return [{"rejected_at": iso_or_none(pair.rejected_at), "reason": pair.reason} for pair in pairs]


def _match(match, volunteer: Volunteer) -> dict:
    place = match.volunteers.get(volunteer=volunteer)
    agreement = getattr(match, "agreement", None)
    return {
        "status": match.status,
        "created_at": iso_or_none(match.created_at),
        "ended_at": iso_or_none(match.ended_at),
        # The category only: the coordinator's note on the ending may speak of the participant.
        "closure_reason": match.closure_reason,
        "participant": participant_view_for(match, volunteer),
        "you_accepted_at": iso_or_none(place.accepted_at),
        "you_left_at": iso_or_none(place.left_at),
        "why_you_left": place.left_reason,
        "your_note_on_leaving": place.left_note,
        "you_asked_to_end_at": iso_or_none(place.end_requested_at),
        "why_you_asked_to_end": place.end_request_reason,
        "your_note_asking_to_end": place.end_request_note,
        "agreement": _agreement(agreement) if agreement else None,
        "check_ins": [_check_in(check_in, volunteer) for check_in in match.check_ins.all()],
    }


def _agreement(agreement) -> dict:
    return {
        "terms": str(agreement.terms),
        "starts_on": iso_or_none(agreement.starts_on),
        "ends_on": iso_or_none(agreement.ends_on),
        "consent_recorded_at": iso_or_none(agreement.consent_recorded_at),
        "countersigned_at": iso_or_none(agreement.countersigned_at),
        "activated_at": iso_or_none(agreement.activated_at),
    }


def _check_in(check_in, volunteer: Volunteer) -> dict:
    return {
        "months_after_start": check_in.months_after_start,
        "due_on": iso_or_none(check_in.due_on),
        "answered_at": iso_or_none(check_in.answered_at),
        "meetings_held": check_in.meetings_held,
        "wellbeing": check_in.wellbeing,
        "wants_contact": check_in.wants_contact,
        # Only the volunteer's own words: the other volunteer of a pair may have answered.
        "your_note": check_in.note if check_in.answered_by_id == volunteer.pk else "",
    }


def _deletion_request(deletion_request: VolunteerDeletionRequest) -> dict:
    return {
        "requested_at": iso_or_none(deletion_request.requested_at),
        "handled_at": iso_or_none(deletion_request.handled_at),
        "outcome": deletion_request.outcome,
    }


def _devices(user) -> list[dict]:
    # Names and dates only: a device's key or recovery codes would let anyone sign in.
    return [
        {
            "kind": str(device._meta.verbose_name),
            "name": device.name,
            "confirmed": device.confirmed,
            "created_at": iso_or_none(getattr(device, "created_at", None)),
            "last_used_at": iso_or_none(getattr(device, "last_used_at", None)),
        }
        for device in devices_for_user(user, confirmed=None)
    ]


def _api_tokens(user) -> list[dict]:
    return [
        {
            "name": token.name,
            "crisis_centre": str(token.crisis_centre),
            "scope": token.scope,
            "created_at": iso_or_none(token.created_at),
            "last_used_at": iso_or_none(token.last_used_at),
            "revoked_at": iso_or_none(token.revoked_at),
            "expires_at": iso_or_none(token.expires_at),
        }
        for token in user.api_tokens.all()
    ]


def _sign_ins(user) -> list[dict]:
    records = AccessLog.objects.filter(username=user.get_username()).order_by("attempt_time")
    return [
        {
            "signed_in_at": iso_or_none(record.attempt_time),
            "signed_out_at": iso_or_none(record.logout_time),
            "network_address": record.ip_address,
            "browser": record.user_agent,
        }
        for record in records
    ]


def _failed_sign_ins(user) -> list[dict]:
    """Wrong passwords typed for the username lately (django-axes keeps them for the lockout):
    when and how many, not from where, because it may have been someone else."""
    attempts = AccessAttempt.objects.filter(username=user.get_username()).order_by("attempt_time")
    return [
        {"last_failed_at": iso_or_none(a.attempt_time), "failures": a.failures_since_start}
        for a in attempts
    ]


def _audit_entries(user) -> list[dict]:
    entries = get_logentry_model().objects.filter(actor=user).order_by("timestamp", "pk")
    return [
        {
            "timestamp": iso_or_none(entry.timestamp),
            "action": entry.get_action_display(),
            "channel": entry.channel,
            "object": entry.object_repr,
        }
        for entry in entries
    ]


def volunteer_deletion_request(volunteer: Volunteer) -> VolunteerDeletionRequest:
    """Record the request once (asking again while one is open changes nothing) and tell the
    admins, by username only."""
    with transaction.atomic():
        Volunteer.objects.select_for_update().get(pk=volunteer.pk)
        open_request = volunteer.deletion_requests.filter(handled_at__isnull=True).first()
        if open_request:
            return open_request
        deletion_request = VolunteerDeletionRequest.objects.create(volunteer=volunteer)
        email_after_commit(
            _deletion_handlers(volunteer),
            _("A volunteer asks for their data to be deleted"),
            _("%(username)s asks for deletion. Handle it under Volunteer deletion requests.")
            % {"username": volunteer.user.get_username()},
        )
    return deletion_request


def _deletion_handlers(volunteer: Volunteer):
    """Admins, who erase, and the coordinators of the volunteer's organisation, who lose them."""
    handles = Q(is_superuser=True) | Q(coordinated_sites__organisation=volunteer.organisation)
    return get_user_model().objects.filter(handles, is_active=True).distinct()


def volunteer_erase(volunteer: Volunteer, *, by=None) -> Volunteer:
    """Erase a volunteer's personal data and close their account. A volunteer still in an open
    match cannot be erased: the participant and the coordinator rely on them until it ends."""
    with transaction.atomic():
        locked = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
        if locked.erased_at:
            return locked
        if locked.matches.filter(match__status__in=Match.OPEN_STATUSES).exists():
            raise ValidationError(_("End or hand over the volunteer's open matches first."))
        now = timezone.now()
        _profile_erase(locked, now)
        _free_text_erase(locked)
        _account_erase(locked.user, by=by)
        admin_history_forget(locked)
        admin_history_forget(locked.user)
        locked.deletion_requests.filter(handled_at__isnull=True).update(
            handled_at=now, handled_by=by, outcome=VolunteerDeletionRequest.Outcome.ERASED
        )
    return locked


def _profile_erase(volunteer: Volunteer, now) -> None:
    # Organisation, programmes, capacity, status and dates stay: statistics count them.
    volunteer.home_postal_code = None
    volunteer.phone = ""
    volunteer.languages, volunteer.availability = [], []
    volunteer.gender = ""
    volunteer.status = Volunteer.Status.RETIRED
    volunteer.retired_at = volunteer.retired_at or now
    volunteer.erased_at = now
    volunteer.save()
    volunteer.avoid_municipalities.clear()
    volunteer.activities.clear()
    volunteer.vetting.all().delete()
    # A near miss is only a suggestion for a waiting referral; an erased volunteer is no one's.
    NearMiss.objects.filter(volunteer=volunteer).delete()


def _free_text_erase(volunteer: Volunteer) -> None:
    """What coordinators and the volunteer wrote may describe the volunteer."""
    RejectedPair.objects.filter(volunteer=volunteer).update(reason=REMOVED)
    CheckIn.objects.filter(answered_by=volunteer).exclude(note="").update(note=REMOVED)
    Match.objects.filter(volunteers__volunteer=volunteer).exclude(end_reason="").update(
        end_reason=REMOVED
    )
    ApplicationStep.objects.filter(application__volunteer=volunteer).exclude(note="").update(
        note=REMOVED
    )
    volunteer.follow_ups.exclude(note="").update(note=REMOVED)


def _account_erase(user, *, by) -> None:
    """Sessions, API tokens, 2FA devices and login records go; the row stays, anonymous, because
    the audit log and the statistics point to it."""
    user_deactivate(user, by=by)
    username = user.get_username()
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        model.objects.filter(username=username).delete()
    for device in devices_for_user(user, confirmed=None):
        device.delete()
    user.api_tokens.all().delete()
    user.groups.clear()
    user.user_permissions.clear()
    user.coordinated_sites.clear()
    user.crisis_centres.clear()
    user.username = ERASED_USERNAME.format(pk=user.pk)
    user.first_name = user.last_name = user.email = ""
    user.set_unusable_password()
    user.is_active = user.is_staff = user.is_superuser = False
    user.last_login = None
    user.save()


def volunteer_deletion_decline(deletion_request: VolunteerDeletionRequest, *, by) -> None:
    """For a request Kobling may not grant yet, such as one from a volunteer in an open match."""
    deletion_request.handled_at, deletion_request.handled_by = timezone.now(), by
    deletion_request.outcome = VolunteerDeletionRequest.Outcome.DECLINED
    deletion_request.save(update_fields=["handled_at", "handled_by", "outcome"])
