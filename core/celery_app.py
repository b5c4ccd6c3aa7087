import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("kobling")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="kobling.ping")
def ping() -> str:
    """Answers from whichever worker takes it; the health check and CI use it."""
    return "pong"
