from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxTask(models.Model):
    """A Celery task the broker could not take when it was sent (outbox/services.py). It waits
    here until a flush hands it over; ``sent_at`` marks it sent, and sent rows are deleted after
    a day (their arguments may hold e-mail addresses)."""

    task = models.CharField(_("task name"), max_length=200)
    args = models.JSONField(_("arguments"), default=list)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=1)
    last_attempt_at = models.DateTimeField(_("last attempt at"), default=timezone.now)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("waiting task")
        verbose_name_plural = _("waiting tasks")
        indexes = [
            models.Index(
                fields=["id"], condition=models.Q(sent_at__isnull=True), name="outbox_waiting"
            ),
            models.Index(fields=["task", "sent_at"], name="outbox_task_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.task} #{self.pk}"
