"""Hand the tasks waiting in the outbox to the broker now (beat does it every minute)."""

from django.core.management.base import BaseCommand

from outbox.models import OutboxTask
from outbox.services import outbox_flush


class Command(BaseCommand):
    help = "Send the tasks kept in the outbox while the broker was unreachable."

    def handle(self, *args, **options):
        sent = outbox_flush()
        waiting = OutboxTask.objects.filter(sent_at__isnull=True).count()
        self.stdout.write(f"Sent {sent} waiting tasks; {waiting} still waiting.")
        if waiting:
            self.stderr.write("The broker did not take them all; is it reachable?")
