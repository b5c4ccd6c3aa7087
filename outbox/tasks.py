from celery import shared_task

from outbox.services import outbox_flush


@shared_task(name="outbox.flush")
def outbox_flush_task() -> int:
    return outbox_flush()
