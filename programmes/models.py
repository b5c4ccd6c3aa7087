"""The programmes' world: where people live (municipalities, postal codes), who runs what
(organisations, crisis centres, programmes and the sites that offer them) and who is referred.

Locations are coarse on purpose: a postal code or municipality point, never an address.
"""

import json
import re
import secrets
from collections.abc import Iterable

from auditlog.cid import get_cid
from auditlog.models import AbstractLogEntry, LogEntryManager
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import connections, models
from django.db.models.signals import pre_save
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.audit import MASK, object_label
from programmes.languages import LANGUAGE_LEVELS
from programmes.validators import (
    children_age_range_problem,
    validate_children_birth_years,
    validate_language_codes,
    validate_no_identifying_data,
    validate_not_future,
    validate_weekly_availability,
)


class County(models.Model):
    """Fylke. Numbers follow the structure in force since 1 January 2024."""

    number = models.CharField(_("county number"), max_length=2, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["number"]
        verbose_name = _("county")
        verbose_name_plural = _("counties")

    def __str__(self) -> str:
        return f"{self.name} ({self.number})"


class Municipality(models.Model):
    """Kommune, with a representative point (its administrative centre where known)."""

    number = models.CharField(
        _("municipality number"),
        max_length=4,
        unique=True,
        validators=[RegexValidator(r"^\d{4}$", _("A municipality number has four digits."))],
    )
    name = models.CharField(_("name"), max_length=100)
    name_official = models.CharField(_("official name"), max_length=150)
    county = models.ForeignKey(
        County, on_delete=models.PROTECT, related_name="municipalities", verbose_name=_("county")
    )
    admin_centre = models.CharField(_("administrative centre"), max_length=100, blank=True)
    population = models.PositiveIntegerField(_("population"))
    area_km2 = models.DecimalField(_("area (km²)"), max_digits=9, decimal_places=2)
    language_form = models.CharField(_("official written form"), max_length=20)
    sami_language_area = models.BooleanField(_("in the Sami language area"), default=False)
    lat = models.FloatField(_("latitude"))
    lon = models.FloatField(_("longitude"))

    class Meta:
        ordering = ["number"]
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")

    def __str__(self) -> str:
        return f"{self.name} ({self.number})"


class PostalCode(models.Model):
    """Postnummer, with a coarse point: the centroid of the postal code's area for street-address
    codes, else the named locality or the municipality's point. Never an address."""

    code = models.CharField(
        _("postal code"),
        max_length=4,
        unique=True,
        validators=[RegexValidator(r"^\d{4}$", _("A postal code has four digits."))],
    )
    place = models.CharField(_("place"), max_length=100)
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="postal_codes",
        verbose_name=_("municipality"),
    )
    lat = models.FloatField(_("latitude"))
    lon = models.FloatField(_("longitude"))

    class Meta:
        ordering = ["code"]
        verbose_name = _("postal code")
        verbose_name_plural = _("postal codes")

    def __str__(self) -> str:
        return f"{self.code} {self.place}"


class Organisation(models.Model):
    """A local body that runs a programme: a Sanitetsforening branch, a Redd Barna office."""

    class Kind(models.TextChoices):
        SANITETSFORENING = "sanitetsforening", _("Norske Kvinners Sanitetsforening branch")
        REDD_BARNA = "redd_barna", _("Redd Barna office")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="organisations",
        verbose_name=_("municipality"),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class CrisisCentre(models.Model):
    """Krisesenter. Its street address is secret and is never stored here; only the host
    municipality and the municipalities it serves (often a dozen)."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    host_municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="hosted_crisis_centres",
        verbose_name=_("host municipality"),
    )
    municipalities_served = models.ManyToManyField(
        Municipality, related_name="crisis_centres_serving", verbose_name=_("municipalities served")
    )
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="crisis_centres",
        blank=True,
        verbose_name=_("staff"),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("crisis centre")
        verbose_name_plural = _("crisis centres")

    def __str__(self) -> str:
        return self.name


class Activity(models.Model):
    """A leisure activity from the maintained list: what a volunteer can do with a participant or
    children, and what a family (Fritidsvenn) or a woman (Ressursvenn) wishes for. Admins keep the
    list; one in use is deactivated rather than deleted (programmes/admin.py)."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name_nb = models.CharField(_("name in bokmål"), max_length=100)
    name_en = models.CharField(_("name in English"), max_length=100)
    is_active = models.BooleanField(
        _("offered"), default=True, help_text=_("Only offered activities can be chosen.")
    )
    position = models.PositiveSmallIntegerField(
        _("position"), default=0, help_text=_("Lower numbers are listed first.")
    )

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The name in the reader's language: bokmål as running text writes it ("fotball"),
        else English."""
        return self.name_nb if (get_language() or "").startswith("nb") else self.name_en


class VettingKind(models.TextChoices):
    """What a volunteer must have in order before meeting a participant."""

    POLITIATTEST = "politiattest", _("Police certificate (politiattest)")
    TRAINING = "training", _("Volunteer training")
    FIRST_AID = "first_aid", _("First-aid course")
    CONFIDENTIALITY = "confidentiality", _("Signed confidentiality declaration")
    ETHICS = "ethics", _("Ethics guidelines and training")


class PolitiattestType(models.TextChoices):
    ORDINARY = "ordinary", _("Ordinary police certificate")
    CHILDREN = "children", _("Police certificate for work with children (barneomsorgsattest)")


class Programme(models.Model):
    """A befriending programme, with its rules as data.

    Ressursvenn (Norske Kvinners Sanitetsforening): one volunteer supports one woman in the
    re-establishment phase after a crisis-centre stay. Fritidsvenn (Redd Barna): two volunteers
    per family help a parent get the children into ordinary leisure activities.
    """

    slug = models.SlugField(_("slug"), unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    volunteers_per_referral = models.PositiveSmallIntegerField(
        _("volunteers per referral"), validators=[MinValueValidator(1), MaxValueValidator(2)]
    )
    min_commitment_months = models.PositiveSmallIntegerField(_("minimum commitment (months)"))
    required_vetting = models.JSONField(
        _("required vetting"), default=list, help_text=_("Vetting kinds a volunteer must hold.")
    )
    required_politiattest_type = models.CharField(
        _("required politiattest type"),
        max_length=20,
        choices=PolitiattestType.choices,
        default=PolitiattestType.ORDINARY,
        help_text=_("A certificate for work with children also satisfies the ordinary kind."),
    )
    default_max_distance_km = models.PositiveSmallIntegerField(
        _("default maximum travel distance (km)"),
        validators=[MinValueValidator(1), MaxValueValidator(500)],
    )
    requires_children = models.BooleanField(
        _("referrals must include children"),
        default=False,
        help_text=_("Fritidsvenn is for families with children."),
    )
    who_may_be_referred = models.TextField(_("who may be referred"))
    child_min_age = models.PositiveSmallIntegerField(
        _("youngest child's age"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(17)],
        help_text=_("A referral needs at least one child of this age or older. Empty: any age."),
    )
    child_max_age = models.PositiveSmallIntegerField(
        _("oldest child's age"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(17)],
        help_text=_("A referral needs at least one child of this age or younger. Empty: any age."),
    )
    min_language_level = models.CharField(
        _("lowest language level that counts"),
        max_length=20,
        choices=LANGUAGE_LEVELS,
        default="conversational",
        help_text=_(
            "A volunteer shares a language with the participant only when they speak it at "
            "least this well."
        ),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        unknown = set(self.required_vetting) - set(VettingKind.values)
        if unknown:
            raise ValidationError(
                {"required_vetting": _("Unknown vetting kinds: %s") % ", ".join(sorted(unknown))}
            )
        youngest, oldest = self.child_min_age, self.child_max_age
        if youngest is not None and oldest is not None and youngest > oldest:
            raise ValidationError(
                {"child_max_age": _("The oldest age must not be below the youngest age.")}
            )


class ProgrammeSite(models.Model):
    """A programme offered at a crisis centre by a local organisation, with its coordinators."""

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="sites", verbose_name=_("programme")
    )
    crisis_centre = models.ForeignKey(
        CrisisCentre,
        on_delete=models.PROTECT,
        related_name="programme_sites",
        verbose_name=_("crisis centre"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="programme_sites",
        verbose_name=_("organisation"),
    )
    coordinators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="coordinated_sites",
        blank=True,
        verbose_name=_("coordinators"),
    )

    class Meta:
        ordering = ["programme__name", "crisis_centre__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "crisis_centre"], name="one_site_per_programme_and_centre"
            )
        ]
        verbose_name = _("programme site")
        verbose_name_plural = _("programme sites")

    def __str__(self) -> str:
        return f"{self.programme} – {self.crisis_centre}"


ALIAS_FORBIDDEN = re.compile(r"\d{6,}|@")


def validate_alias(value: str) -> None:
    """An alias must not carry a national ID number, phone number or email address. Kobling
    makes every new alias (``new_alias``); this still guards the ones staff typed before."""
    if ALIAS_FORBIDDEN.search(value.replace(" ", "")):
        raise ValidationError(
            _("Use an alias without long digit sequences or e-mail addresses, never an ID number.")
        )


# No vowels, so the letters never spell a word or a name; no I, O or Q, which read as digits.
ALIAS_LETTERS = "BCDFGHJKLMNPRSTVWXZ"


def new_alias() -> str:
    """Like ``P-KRT482``: random letters and digits that say nothing about the person and never
    form a long digit sequence. Unique only when saved (``programmes.services``)."""
    letters = "".join(secrets.choice(ALIAS_LETTERS) for _ in range(3))
    return f"P-{letters}{secrets.randbelow(1000):03d}"


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")


class Referral(models.Model):
    """A participant referred by a crisis centre to a programme.

    Holds no name, national ID number or address: the crisis centre keeps the link between the
    alias and the person in its own records.
    """

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        WAITING = "waiting", _("Waiting for a volunteer")
        PROPOSED = "proposed", _("Match proposed")
        MATCHED = "matched", _("Matched")
        ACTIVE = "active", _("Active")
        CLOSED = "closed", _("Closed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class ClosureReason(models.TextChoices):
        COMPLETED = "completed", _("Agreement period completed")
        PARTICIPANT_ENDED = "participant_ended", _("Participant ended it")
        VOLUNTEER_ENDED = "volunteer_ended", _("Volunteer ended it")
        MOVED = "moved", _("Participant moved")
        SAFETY = "safety", _("Ended for safety reasons")
        OTHER = "other", _("Other")

    class WithdrawalReason(models.TextChoices):
        PARTICIPANT_DECLINED = "participant_declined", _("The participant no longer wants it")
        MOVED = "moved", _("The participant moved")
        SAFETY = "safety", _("Safety reasons")
        HELP_ELSEWHERE = "help_elsewhere", _("The participant gets help elsewhere")
        MISTAKE = "mistake", _("Referred by mistake")
        OTHER = "other", _("Other")

    site = models.ForeignKey(
        ProgrammeSite, on_delete=models.PROTECT, related_name="referrals", verbose_name=_("site")
    )
    alias = models.CharField(
        _("participant alias"),
        max_length=30,
        unique=True,
        default=new_alias,
        validators=[validate_alias],
        help_text=_("Made by Kobling: it says nothing about the person."),
    )
    adults = models.PositiveSmallIntegerField(
        _("adults in household"), default=1, validators=[MinValueValidator(1), MaxValueValidator(4)]
    )
    children_birth_years = models.JSONField(
        _("children's birth years"),
        default=list,
        blank=True,
        validators=[validate_children_birth_years],
    )
    postal_code = models.ForeignKey(
        PostalCode,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("postal code of the new home"),
    )
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="referrals",
        verbose_name=_("municipality of the new home"),
    )
    languages = models.JSONField(
        _("languages"), validators=[validate_language_codes], help_text=_("ISO 639 codes.")
    )
    availability = models.JSONField(
        _("weekly availability"), default=list, validators=[validate_weekly_availability]
    )
    volunteer_gender = models.CharField(
        _("preferred volunteer gender"), max_length=10, choices=Gender.choices, blank=True
    )
    max_distance_km = models.PositiveSmallIntegerField(
        _("maximum travel distance (km)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(500)],
        help_text=_("Leave empty to use the programme's default."),
    )
    avoid_municipalities = models.ManyToManyField(
        Municipality,
        related_name="+",
        blank=True,
        verbose_name=_("municipalities to avoid for safety"),
        help_text=_("For example where the abuser lives. No volunteer from these is proposed."),
    )
    # Fritidsvenn: what the family wishes the children could do; Ressursvenn: the woman's own.
    wished_activities = models.ManyToManyField(
        Activity,
        related_name="+",
        blank=True,
        verbose_name=_("activities the participant or the children wish for"),
    )
    notes = models.CharField(
        _("short note for the coordinator"),
        max_length=280,
        blank=True,
        validators=[validate_no_identifying_data],
        help_text=_(
            "Optional. Never names, addresses or ID numbers. Not sent by e-mail or kept in the "
            "access log, and deleted with the rest of the referral."
        ),
    )
    consent_given_on = models.DateField(_("consent given on"), validators=[validate_not_future])
    consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("consent recorded by"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.SUBMITTED
    )
    closure_reason = models.CharField(
        _("closure reason"), max_length=30, choices=ClosureReason.choices, blank=True
    )
    withdrawal_reason = models.CharField(
        _("why it was withdrawn"), max_length=30, choices=WithdrawalReason.choices, blank=True
    )
    withdrawal_note = models.CharField(
        _("note on the withdrawal"),
        max_length=280,
        blank=True,
        validators=[validate_no_identifying_data],
        help_text=_("Optional. Never names, addresses or ID numbers."),
    )
    any_gender_consent_on = models.DateField(
        _("participant accepts a volunteer of another gender, from"),
        null=True,
        blank=True,
        help_text=_(
            "Recorded by the crisis centre when the participant agrees that a coordinator may "
            "propose a volunteer of another gender than the one wished for."
        ),
    )
    any_gender_consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("consent to another gender recorded by"),
    )
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    status_changed_at = models.DateTimeField(_("status changed at"), auto_now_add=True)
    waiting_since = models.DateTimeField(_("waiting since"), null=True, blank=True)
    long_wait_flagged_on = models.DateField(_("flagged for a long wait on"), null=True, blank=True)
    anonymised_at = models.DateTimeField(
        _("personal data removed at"), null=True, blank=True, editable=False
    )
    # A repeated submission (the same portal form, or the API's Idempotency-Key) finds this
    # referral instead of making a second one (programmes.services.referral_submit).
    submission_key = models.CharField(
        _("submission key"), max_length=100, blank=True, editable=False
    )
    submission_fingerprint = models.CharField(
        _("keyed hash of what was submitted"), max_length=64, blank=True, editable=False
    )

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="closed") | ~models.Q(closure_reason=""),
                name="closed_referral_has_reason",
            ),
            models.UniqueConstraint(
                fields=["consent_recorded_by", "submission_key"],
                condition=~models.Q(submission_key=""),
                name="referral_submitted_once_per_key",
            ),
        ]

    def __str__(self) -> str:
        return self.alias

    @property
    def programme(self) -> Programme:
        return self.site.programme

    @property
    def point(self) -> tuple[float, float]:
        """(lat, lon) of the new home: the postal code's point, else the municipality's."""
        place = self.postal_code or self.municipality
        return place.lat, place.lon

    def clean(self) -> None:
        errors = {}
        if (
            self.postal_code_id
            and self.municipality_id
            and self.postal_code is not None
            and self.postal_code.municipality_id != self.municipality_id
        ):
            errors["postal_code"] = _("Postal code %(code)s is not in %(municipality)s.") % {
                "code": self.postal_code.code,
                "municipality": self.municipality,
            }
        programme = self.site.programme if self.site_id else None
        if programme is not None and programme.requires_children and not self.children_birth_years:
            errors["children_birth_years"] = _(
                "%(programme)s is for families: give the children's birth years."
            ) % {"programme": programme}
        elif programme is not None and isinstance(self.children_birth_years, list):
            problem = children_age_range_problem(self.children_birth_years, programme)
            if problem:
                errors["children_birth_years"] = problem
        if errors:
            raise ValidationError(errors)


# Rows per INSERT statement when the access log is written in bulk: a page of referrals is one
# statement, a national run's thousands of proposals a few (PostgreSQL takes at most 65,535
# parameters in a statement, a row has 13).
BULK_BATCH = 2000
# What a read row holds, in the order AuditLogEntryManager.log_reads writes it.
READ_COLUMNS = [
    "content_type_id",
    "object_pk",
    "object_id",
    "object_repr",
    "action",
    "changes_text",
    "cid",
    "timestamp",
    "channel",
    "actor_id",
]


class AuditLogEntryManager(LogEntryManager):
    """Names objects by model and id, and masks the objects of a masked many-to-many field (the
    library would list them, such as the municipalities a participant must avoid)."""

    def log_create(self, instance, force_log=False, **kwargs):
        kwargs.setdefault("object_repr", object_label(type(instance), instance.pk))
        return super().log_create(instance, force_log, **kwargs)

    def log_reads(self, model, ids: list[int], actor_id: int | None, channel: str) -> None:
        """One access row per object read, all written by one INSERT ... SELECT that expands
        the list of ids in the database: no model instance per row, and a statement of the
        same size for one referral or thousands."""
        connection = connections[self.db]
        listed: list[int] | str
        if connection.vendor == "postgresql":
            each_id, listed = "unnest(%s::bigint[]) AS ids(id)", list(ids)
        else:  # SQLite, for the demo and the tests
            each_id, listed = "(SELECT value AS id FROM json_each(%s)) AS ids", json.dumps(ids)
        quote = connection.ops.quote_name
        columns = ", ".join(map(quote, READ_COLUMNS))
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        label = object_label(model, "")  # "Referral #", the id follows
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {quote(self.model._meta.db_table)} ({columns})"
                " SELECT %s, CAST(ids.id AS VARCHAR(255)), ids.id,"
                " %s || CAST(ids.id AS VARCHAR(255)), %s, '', %s, %s, %s, %s"
                f" FROM {each_id}",
                [
                    ContentType.objects.db_manager(self.db).get_for_model(model).pk,
                    label,
                    int(self.model.Action.ACCESS),
                    get_cid(),
                    now,
                    str(channel),
                    actor_id,
                    listed,
                ],
            )

    def log_create_many(self, logged: Iterable[tuple[models.Model, int, dict | None]]) -> list:
        """``log_create`` for many objects in one insert statement (per ``BULK_BATCH`` rows):
        ``(instance, action, changes)`` each; one without changes is not logged. A bulk insert
        sends no ``pre_save``, through which auditlog gives a row the actor and channel of the
        request or task under way (core.audit.AuditMiddleware), so it is sent here per row."""
        cid, entries = get_cid(), []
        for instance, action, changes in logged:
            if not changes:
                continue
            pk = self._get_pk_value(instance)
            entry = self.model(
                content_type=ContentType.objects.get_for_model(instance),
                object_pk=pk,
                object_id=pk if isinstance(pk, int) else None,
                object_repr=object_label(type(instance), pk),
                serialized_data=self._get_serialized_data_or_none(instance),
                action=action,
                changes=changes,
                cid=cid,
            )
            pre_save.send(sender=self.model, instance=entry, raw=False, using=self.db)
            entries.append(entry)
        return self.bulk_create(entries, batch_size=BULK_BATCH)

    def log_m2m_changes(self, changed_queryset, instance, operation, field_name, **kwargs):
        from auditlog.registry import auditlog

        kwargs.setdefault("object_repr", object_label(type(instance), instance.pk))
        if field_name in auditlog.get_model_fields(type(instance))["mask_fields"]:
            changed_queryset = [MASK] if changed_queryset else []
        return super().log_m2m_changes(changed_queryset, instance, operation, field_name, **kwargs)


class AuditLogEntry(AbstractLogEntry):
    """One row of the append-only access log: who read or changed which object, when, and
    through which channel (programmes/audit.py).

    django-auditlog's entry without the actor's e-mail and network address. Rows are never
    updated or deleted (a database trigger refuses it), so the actor and content type are
    protected rather than set to null or cascaded: users are anonymised, never deleted.

    Every page that shows referrals writes a row per referral, so the table takes many rows
    and every index costs each of them. Four indexes, one per question asked of the log:
    the primary key, the time (the admin's newest-first pages and date filters), the object
    (who read or changed referral 12, by id and model: a participant's history, the admin's
    search) and the actor (what one user read, newest first: a volunteer's export, the admin's
    search by username). The library's single-column indexes on the object's id as text, the
    action, the correlation id and the channel, and the plain foreign-key indexes, are dropped.
    """

    class Channel(models.TextChoices):
        PORTAL = "portal", _("Portal")
        API = "api", _("API")
        ADMIN = "admin", _("Admin")
        EXPORT = "export", _("Export")
        TASK = "task", _("Background task")

    content_type = models.ForeignKey(
        "contenttypes.ContentType",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("content type"),
        db_index=False,  # second column of the object index
    )
    object_pk = models.CharField(_("object pk"), max_length=255)
    object_id = models.BigIntegerField(_("object id"), blank=True, null=True)
    action = models.PositiveSmallIntegerField(_("action"), choices=AbstractLogEntry.Action.choices)
    # The library's correlation id, nullable as there.
    cid = models.CharField(  # noqa: DJ001
        _("Correlation ID"), max_length=255, null=True, blank=True
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
        db_index=False,  # first column of the actor index
    )
    channel = models.CharField(
        _("channel"), max_length=10, choices=Channel.choices, default=Channel.TASK
    )
    actor_email = None
    remote_addr = None
    remote_port = None

    objects = AuditLogEntryManager()

    class Meta(AbstractLogEntry.Meta):
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        indexes = [
            models.Index(fields=["object_id", "content_type"], name="auditlog_object"),
            models.Index(fields=["actor", "timestamp"], name="auditlog_actor_timestamp"),
        ]
