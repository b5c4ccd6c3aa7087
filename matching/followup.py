"""Follow-up once matches exist: notices to the people involved, check-ins, vetting expiry,
agreements that end, and referrals that wait too long. The periodic ones run daily from celery
beat (config/settings.py: CELERY_BEAT_SCHEDULE); each is safe to run twice on the same day."""

import datetime

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from matching.models import CheckIn, Match
from programmes.audit import objects_log_created, queryset_update_logged
from programmes.models import ProgrammeSite, Referral
from programmes.notifications import email_after_commit
from programmes.services import referral_transition
from volunteers.models import VettingRecord

VETTING_WARNING_DAYS = 30
LONG_WAIT_DAYS = 30


def notify_match_approved(match: Match) -> None:
    """Volunteers get an agreement to accept; the crisis centre hears its referral is matched."""
    referral = match.referral
    volunteers = [
        place.volunteer.user for place in match.volunteers.select_related("volunteer__user")
    ]
    email_after_commit(
        volunteers,
        _("You have been matched in %s") % referral.site.programme,
        _(
            "A coordinator has matched you with a participant in %(municipality)s. "
            "Log in to Kobling to read and accept the agreement."
        )
        % {"municipality": referral.municipality.name},
    )
    email_after_commit(
        referral.site.crisis_centre.staff.all(),
        _("Referral %s is matched") % referral.alias,
        _(
            "Referral %(alias)s has been matched in %(programme)s. Please record the "
            "participant's consent to the agreement in Kobling."
        )
        % {"alias": referral.alias, "programme": referral.site.programme},
    )


def check_ins_schedule(match: Match, starts_on: datetime.date) -> None:
    existing = list(match.check_ins.values_list("pk", flat=True))
    CheckIn.objects.bulk_create(
        [
            CheckIn(match=match, months_after_start=m, due_on=starts_on + relativedelta(months=m))
            for m in CheckIn.MONTHS
        ],
        ignore_conflicts=True,
    )
    objects_log_created(match.check_ins.exclude(pk__in=existing))


def check_ins_flag_overdue(today: datetime.date) -> int:
    """Tell each site's coordinators, once, about check-ins left unanswered past their due date."""
    overdue = CheckIn.objects.filter(
        due_on__lt=today,
        answered_at__isnull=True,
        overdue_notified_on__isnull=True,
        match__status=Match.Status.ACTIVE,
    ).select_related("match__referral__site")
    by_site: dict[int, list[CheckIn]] = {}
    for check_in in overdue:
        by_site.setdefault(check_in.match.referral.site_id, []).append(check_in)
    with transaction.atomic():
        for site_id, check_ins in by_site.items():
            aliases = ", ".join(sorted(c.match.referral.alias for c in check_ins))
            email_after_commit(
                ProgrammeSite.objects.get(pk=site_id).coordinators.all(),
                _("Overdue check-ins"),
                _("Check-ins are overdue for: %s") % aliases,
            )
        flagged = CheckIn.objects.filter(pk__in=[c.pk for c in overdue])
        queryset_update_logged(flagged, overdue_notified_on=today)
    return sum(len(c) for c in by_site.values())


def vetting_warn_expiring(today: datetime.date) -> int:
    """Warn volunteers, once per record, 30 days before a vetting item expires."""
    soon = today + datetime.timedelta(days=VETTING_WARNING_DAYS)
    records = VettingRecord.objects.filter(
        expires_on__gte=today, expires_on__lte=soon, expiry_warned_on__isnull=True
    ).select_related("volunteer__user")
    with transaction.atomic():
        for record in records:
            email_after_commit(
                [record.volunteer.user],
                _("Your %s expires soon") % record.get_kind_display(),
                _(
                    "Your %(kind)s expires on %(date)s. Renew it in time to stay available "
                    "for matching."
                )
                % {"kind": record.get_kind_display(), "date": record.expires_on},
            )
        return queryset_update_logged(records, expiry_warned_on=today)


def agreements_close_ended(today: datetime.date) -> int:
    """Close active matches whose agreement period is over, with the closure reason recorded."""
    from matching.services import capacity_release

    ended = Match.objects.filter(status=Match.Status.ACTIVE, agreement__ends_on__lt=today)
    closed = 0
    for match in ended:
        with transaction.atomic():
            match.status, match.ended_at = Match.Status.CLOSED, timezone.now()
            match.end_reason = _("The agreement period ended.")
            match.save(update_fields=["status", "ended_at", "end_reason"])
            capacity_release(list(match.volunteers.values_list("volunteer_id", flat=True)))
            referral_transition(
                match.referral,
                Referral.Status.CLOSED,
                closure_reason=Referral.ClosureReason.COMPLETED,
            )
        closed += 1
    return closed


def referrals_flag_long_waits(today: datetime.date) -> int:
    """Flag, once, every referral waiting more than 30 days, and tell its coordinators."""
    limit = timezone.make_aware(
        datetime.datetime.combine(today - datetime.timedelta(days=LONG_WAIT_DAYS), datetime.time())
    )
    waiting = Referral.objects.filter(
        status=Referral.Status.WAITING, waiting_since__lt=limit, long_wait_flagged_on__isnull=True
    ).select_related("site")
    by_site: dict[ProgrammeSite, list[str]] = {}
    for referral in waiting:
        by_site.setdefault(referral.site, []).append(referral.alias)
    with transaction.atomic():
        for site, aliases in by_site.items():
            email_after_commit(
                site.coordinators.all(),
                _("Referrals waiting more than %d days") % LONG_WAIT_DAYS,
                _("%(site)s: %(aliases)s") % {"site": site, "aliases": ", ".join(sorted(aliases))},
            )
        return queryset_update_logged(waiting, long_wait_flagged_on=today)
