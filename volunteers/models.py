"""Volunteers and their vetting: who may meet a participant, where, when and in which language."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from programmes.models import (
    Activity,
    Gender,
    Municipality,
    Organisation,
    PolitiattestType,
    PostalCode,
    Programme,
    VettingKind,
)
from programmes.validators import (
    validate_languages_with_level,
    validate_weekly_availability,
)


class Volunteer(models.Model):
    """A volunteer (ressursvenn or fritidsvenn), linked to a user who keeps it up to date."""

    class Status(models.TextChoices):
        APPLICANT = "applicant", _("Applicant")
        VETTED = "vetted", _("Vetted")
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        RETIRED = "retired", _("Retired")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="volunteer",
        verbose_name=_("user"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="volunteers",
        verbose_name=_("organisation"),
    )
    programmes = models.ManyToManyField(
        Programme, related_name="volunteers", verbose_name=_("programmes")
    )
    # Empty only once the volunteer's personal data has been erased.
    home_postal_code = models.ForeignKey(
        PostalCode,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        verbose_name=_("home postal code"),
    )
    languages = models.JSONField(
        _("languages"),
        validators=[validate_languages_with_level],
        help_text=_('ISO 639 codes with a level, e.g. [{"code": "ar", "level": "native"}].'),
    )
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices)
    availability = models.JSONField(
        _("weekly availability"),
        default=list,
        blank=True,
        validators=[validate_weekly_availability],
    )
    capacity = models.PositiveSmallIntegerField(
        _("participants at once"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(3)],
    )
    avoid_municipalities = models.ManyToManyField(
        Municipality,
        related_name="+",
        blank=True,
        verbose_name=_("municipalities I prefer not to serve"),
        help_text=_('Small places where "everyone knows everyone".'),
    )
    commitments = models.PositiveSmallIntegerField(
        _("open matches"),
        default=0,
        editable=False,
        help_text=_("Matches approved and not yet ended; never more than the capacity."),
    )
    # Empty for volunteers registered before applications, and once the data is erased.
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    activities = models.ManyToManyField(
        Activity,
        related_name="volunteers",
        blank=True,
        verbose_name=_("activities"),
        help_text=_("What the volunteer likes to do and could do with a participant or children."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.APPLICANT
    )
    status_changed_at = models.DateTimeField(_("status changed at"), auto_now_add=True)
    joined_on = models.DateField(_("joined on"), auto_now_add=True)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True, editable=False)
    erased_at = models.DateTimeField(
        _("personal data erased at"), null=True, blank=True, editable=False
    )

    class Meta:
        ordering = ["user__username"]
        constraints = [
            # With the row lock taken on approval, this makes over-commitment impossible.
            models.CheckConstraint(
                name="commitments_within_capacity",
                condition=models.Q(commitments__lte=models.F("capacity")),
            )
        ]
        verbose_name = _("volunteer")
        verbose_name_plural = _("volunteers")

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.username

    @property
    def display_name(self) -> str:
        """Full name; the username only for an account without one. An erased volunteer's name
        is gone, and their placeholder username means nothing to a reader."""
        if self.erased_at is not None:
            return gettext("a volunteer whose data has been erased")
        return str(self)

    @property
    def municipality(self) -> Municipality:
        return self._home.municipality

    @property
    def point(self) -> tuple[float, float]:
        return self._home.lat, self._home.lon

    @property
    def _home(self) -> PostalCode:
        """An erased volunteer has no home: asking where it is raises AttributeError, as
        reading a field of None always did."""
        if self.home_postal_code is None:
            raise AttributeError("An erased volunteer has no home postal code.")
        return self.home_postal_code

    @property
    def language_codes(self) -> list[str]:
        return [entry["code"] for entry in self.languages]


class VettingRecord(models.Model):
    """One piece of vetting a volunteer holds: a politiattest (police certificate), training,
    a first-aid course, a signed confidentiality declaration or the ethics guidelines."""

    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.CASCADE, related_name="vetting", verbose_name=_("volunteer")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=VettingKind.choices)
    politiattest_type = models.CharField(
        _("politiattest type"), max_length=20, choices=PolitiattestType.choices, blank=True
    )
    issued_on = models.DateField(_("issued on"))
    expires_on = models.DateField(
        _("expires on"), null=True, blank=True, help_text=_("Empty when it does not expire.")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    expiry_warned_on = models.DateField(_("expiry warning sent on"), null=True, blank=True)

    class Meta:
        ordering = ["volunteer", "kind", "-issued_on"]
        # The coordinators' dashboard and the daily warnings look for the few records that run
        # out within weeks among all of them.
        indexes = [models.Index(fields=["expires_on"], name="vetting_expires_on_idx")]
        verbose_name = _("vetting record")
        verbose_name_plural = _("vetting records")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.issued_on})"

    def clean(self) -> None:
        errors = {}
        if self.expires_on and self.expires_on <= self.issued_on:
            errors["expires_on"] = _("The expiry date must be after the issue date.")
        if self.kind == VettingKind.POLITIATTEST and not self.politiattest_type:
            errors["politiattest_type"] = _("Say which kind of police certificate this is.")
        if self.kind != VettingKind.POLITIATTEST and self.politiattest_type:
            errors["politiattest_type"] = _("Only a politiattest has a type.")
        if errors:
            raise ValidationError(errors)

    def is_valid_on(self, day) -> bool:
        return self.issued_on <= day and (self.expires_on is None or day <= self.expires_on)


class VolunteerDeletionRequest(models.Model):
    """A volunteer's request to have their personal data erased, and how an admin answered it."""

    class Outcome(models.TextChoices):
        ERASED = "erased", _("Personal data erased")
        DECLINED = "declined", pgettext_lazy("deletion request", "Declined")

    volunteer = models.ForeignKey(
        Volunteer,
        on_delete=models.CASCADE,
        related_name="deletion_requests",
        verbose_name=_("volunteer"),
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled by"),
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("volunteer deletion request")
        verbose_name_plural = _("volunteer deletion requests")

    def __str__(self) -> str:
        return f"{self.volunteer} ({self.requested_at:%Y-%m-%d})"


class ApplicationStage(models.TextChoices):
    """Where an application is in the intake pipeline (docs/design.md, "Recruiting volunteers").
    From training on, the applicant has an account and a volunteer profile."""

    UNCONFIRMED = "unconfirmed", _("E-mail address not confirmed")
    APPLIED = "applied", _("Applied")
    CONTACTED = "contacted", _("Contacted")
    INTERVIEWED = "interviewed", _("Interview held")
    TRAINING = "training", _("In training")
    VETTED = "vetted", _("Vetting complete")
    ACTIVE = "active", _("Active volunteer")
    DECLINED = "declined", pgettext_lazy("application", "Declined")


class VolunteerApplication(models.Model):
    """Someone who asked, on the public page of a programme and a local organisation, to become a
    volunteer. Not a volunteer until a coordinator takes them in: then the account and the
    volunteer profile are made from it, and the application keeps only its history.

    Personal data is held here only until then; an application never taken in is erased by
    retention (``RETENTION_APPLICATION_MONTHS`` after its last step; unconfirmed ones after
    ``APPLICATION_CONFIRM_HOURS``)."""

    Stage = ApplicationStage

    class DeclineReason(models.TextChoices):
        WITHDREW = "withdrew", _("The applicant withdrew")
        NOT_REACHED = "not_reached", _("The applicant could not be reached")
        NOT_SUITABLE = "not_suitable", _("Not a good fit for the programme")
        VETTING = "vetting", _("Vetting was not completed")
        NO_NEED = "no_need", _("No need for volunteers where the applicant lives")
        OTHER = "other", _("Other")

    programme = models.ForeignKey(
        Programme,
        on_delete=models.PROTECT,
        related_name="volunteer_applications",
        verbose_name=_("programme"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="volunteer_applications",
        verbose_name=_("organisation"),
    )
    # The applicant's data: blank once they are taken in (it moved to the account and the
    # volunteer profile) and never kept longer than retention allows.
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail address"), blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    postal_code = models.ForeignKey(
        PostalCode,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("postal code"),
    )
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True)
    languages = models.JSONField(
        _("languages"), default=list, blank=True, validators=[validate_languages_with_level]
    )
    availability = models.JSONField(
        _("weekly availability"),
        default=list,
        blank=True,
        validators=[validate_weekly_availability],
    )
    activities = models.ManyToManyField(
        Activity, related_name="+", blank=True, verbose_name=_("activities")
    )
    motivation = models.TextField(_("why they want to help"), max_length=1000, blank=True)
    language = models.CharField(_("language of the application"), max_length=10, blank=True)
    consent_given_at = models.DateTimeField(_("consent given at"))
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("e-mail confirmed at"), null=True, blank=True)
    stage = models.CharField(
        _("stage"), max_length=20, choices=ApplicationStage.choices, default=Stage.UNCONFIRMED
    )
    # "Untouched for" counts from here: the last step anyone took.
    stage_changed_at = models.DateTimeField(_("last step at"), auto_now_add=True)
    reminded_at = models.DateTimeField(_("coordinators reminded at"), null=True, blank=True)
    decline_reason = models.CharField(
        _("why it was declined"), max_length=20, choices=DeclineReason.choices, blank=True
    )
    volunteer = models.OneToOneField(
        Volunteer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="application",
        verbose_name=_("volunteer"),
    )

    class Meta:
        ordering = ["stage_changed_at", "pk"]
        verbose_name = _("volunteer application")
        verbose_name_plural = _("volunteer applications")

    def __str__(self) -> str:
        # Never the name: admin history and logs may quote it after the data is gone.
        return f"{self.programme} #{self.pk}"

    @property
    def display_name(self) -> str:
        if self.volunteer is not None:
            return self.volunteer.display_name
        return f"{self.first_name} {self.last_name}".strip()


class ApplicationStep(models.Model):
    """One step of an application through the pipeline: the stage reached, the day it happened,
    who recorded it and a short note."""

    application = models.ForeignKey(
        VolunteerApplication,
        on_delete=models.CASCADE,
        related_name="steps",
        verbose_name=_("application"),
    )
    stage = models.CharField(_("stage"), max_length=20, choices=ApplicationStage.choices)
    on = models.DateField(_("date"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("recorded by"),
        help_text=_("Empty for the applicant's own steps."),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    note = models.CharField(_("short note"), max_length=200, blank=True)

    class Meta:
        ordering = ["recorded_at", "pk"]
        verbose_name = _("application step")
        verbose_name_plural = _("application steps")

    def __str__(self) -> str:
        return f"{self.get_stage_display()} ({self.on})"


class VolunteerFollowUp(models.Model):
    """What the organisation does to keep a volunteer going ("keeping the volunteers warm"):
    group meetings, supervision, courses and refresher training, recorded by a coordinator."""

    class Kind(models.TextChoices):
        GROUP_MEETING = "group_meeting", _("Group meeting")
        SUPERVISION = "supervision", _("Supervision")
        COURSE = "course", _("Course")
        REFRESHER = "refresher", _("Refresher training")
        OTHER = "other", _("Other")

    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.CASCADE, related_name="follow_ups", verbose_name=_("volunteer")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    on = models.DateField(_("date"))
    note = models.CharField(_("short note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["-on", "-pk"]
        verbose_name = _("volunteer follow-up")
        verbose_name_plural = _("volunteer follow-ups")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.on})"
