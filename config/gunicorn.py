"""gunicorn's settings for ``scripts/serve web`` (docs/deploy.md). Processes, threads and the
address come from the environment, read in config/settings.py: WEB_WORKERS, WEB_THREADS,
WEB_BIND."""

from config import settings
from core.warm_up import warm_up

wsgi_app = "config.wsgi:application"
bind = settings.WEB_BIND
worker_class = "gthread"
workers = settings.WEB_WORKERS
threads = settings.WEB_THREADS
proc_name = "kobling-web"

# Match runs and e-mails happen in the Celery worker, so a request this slow is a fault; the
# process is replaced rather than left hanging.
timeout = 60
graceful_timeout = 30
# Longer than the reverse proxy keeps an idle connection to gunicorn open (Caddy: 2 minutes), so
# gunicorn never closes one just as the proxy sends a request on it: the person would get an
# error page for nothing (the load test saw "connection reset" this way with 5 s).
keepalive = 150
# Each process is replaced after about this many requests, which bounds any slow leak.
max_requests = 2000
max_requests_jitter = 200
# No access log with addresses: Kobling logs one line per request itself, with the route, the
# status and the request id (core/observability.py).
accesslog = None
errorlog = "-"
loglevel = "info"
# gunicorn's own lines (starting, a worker replaced or timed out) in the same format as
# Kobling's.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": settings.LOGGING["formatters"],
    "filters": settings.LOGGING["filters"],
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": settings.LOG_FORMAT,
            "filters": ["request_id"],
        },
        "error_console": {
            "class": "logging.StreamHandler",
            "formatter": settings.LOG_FORMAT,
            "filters": ["request_id"],
        },
    },
    "root": {"level": "WARNING", "handlers": ["console"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False},
    },
}


def post_worker_init(worker) -> None:
    """Each process readies its URLs, translations and templates before its first request."""
    warm_up()
