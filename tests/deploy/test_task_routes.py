"""Three queues, so a long national match run never holds up an e-mail: every task Kobling
registers is routed by name (a new task without a route fails here), and a worker on the e-mail
queue alone delivers mail while a run waits on the matching queue."""

import uuid

import pytest
from django.conf import settings

from core.celery_app import app, ping
from matching.tasks import match_run_task
from programmes.tasks import send_email_task
from tests.worker import celery_worker, mails, wait_for

QUEUES = {queue.name for queue in settings.CELERY_TASK_QUEUES}


def kobling_tasks() -> list[str]:
    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if not name.startswith("celery."))


def queue_of(name: str) -> str:
    return app.amqp.router.route({}, name)["queue"].name


def test_every_registered_task_is_routed_to_a_queue_a_worker_listens_on():
    names = kobling_tasks()
    assert "matching.run" in names and "kobling.send_email" in names
    unrouted = [name for name in names if name not in settings.CELERY_TASK_ROUTES]
    assert unrouted == [], "add these to CELERY_TASK_ROUTES in config/settings.py"
    assert {queue_of(name) for name in names} <= QUEUES


def test_match_runs_and_recruitment_go_apart_from_e_mails():
    assert queue_of("matching.run") == queue_of("matching.recruitment_sweep") == "matching"
    assert queue_of("kobling.send_email") == "email"
    daily = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {queue_of(name) for name in daily} == {"default"}


def test_routes_name_no_task_that_does_not_exist():
    """A renamed task would otherwise leave a route behind and go to the default queue."""
    assert set(settings.CELERY_TASK_ROUTES) <= set(kobling_tasks())


@pytest.fixture
def queues_emptied():
    def purge():
        with app.connection_for_write() as connection:
            for name in QUEUES:
                connection.default_channel.queue_purge(name)

    purge()
    yield
    purge()


def waiting(name: str) -> int:
    with app.connection_for_write() as connection:
        return connection.default_channel.queue_declare(name, passive=True).message_count


@pytest.mark.broker
def test_each_task_lands_in_its_own_queue_and_no_other(queues_emptied):
    match_run_task.apply_async(args=[0])
    send_email_task.apply_async(args=[["a@example.no"], "Emne", "Tekst"])
    ping.apply_async()
    ping.apply_async()
    assert {name: waiting(name) for name in QUEUES} == {"matching": 1, "email": 1, "default": 2}


@pytest.mark.broker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_on_the_email_queue_sends_mail_while_a_run_waits_for_the_matching_worker(
    tmp_path, queues_emptied
):
    """The run is published to a matching queue nobody serves; the e-mail still goes out."""
    with celery_worker(queues="email", EMAIL_URL=f"filemail://{tmp_path}"):
        match_run_task.apply_async(args=[0])
        address = f"frivillig-{uuid.uuid4().hex[:6]}@example.no"
        send_email_task.delay([address], "Bekreft e-postadressen", "Lenke: …")
        wait_for(lambda: any(address in message for message in mails(tmp_path)))
    assert waiting("matching") == 1
