"""Follow-up once matches exist: notices to the people involved, check-ins, vetting expiry,
agreements that end, and referrals that wait too long. The periodic ones run daily from celery
beat (config/settings.py: CELERY_BEAT_SCHEDULE); each is safe to run twice on the same day."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from matching.lifecycle import match_complete
from matching.models import CheckIn, Match
from programmes.audit import queryset_update_logged
from programmes.models import ProgrammeSite, Referral
from programmes.notifications import email_after_commit
from volunteers.selectors import vetting_expiring_soon

LONG_WAIT_DAYS = 30


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
    """Remind volunteers, once per record, when a vetting item comes within the warning window
    (volunteers.selectors.VETTING_WARNING_DAYS) of expiring, to renew it."""
    records = (
        vetting_expiring_soon(today)
        .filter(expiry_warned_on__isnull=True)
        .select_related("volunteer__user")
    )
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
    """Close active matches whose agreement period is over, as completed."""
    ended = Match.objects.filter(status=Match.Status.ACTIVE, agreement__ends_on__lt=today)
    for match in ended:
        match_complete(match)
    return len(ended)


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
