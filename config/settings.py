"""Kobling settings. Every environment variable is read here, once; .env.example documents them.

KOBLING_ENV picks the defaults, and must be set: without it Kobling refuses to start (only
scripts/demo, scripts/test and pytest set it themselves).
- ``demo``: SQLite under var/, Celery runs tasks eagerly in-process, DEBUG on.
- ``test`` (the default under pytest): like demo, but CI=true demands PostgreSQL and Redis
  (see tests/conftest.py).
- ``production``: a strong SECRET_KEY, DATABASE_URL and ALLOWED_HOSTS must be given; DEBUG is
  off and may not be turned on.
"""

import sys
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from core import env, observability

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
_parse = environ.Env()

# Never guessed: a server started without it must not come up in demo mode, with DEBUG on and a
# public SECRET_KEY. Under pytest the default is "test", so a bare `pytest` behaves like the
# README's test command.
if env.raw("KOBLING_ENV") is None and "pytest" not in sys.modules:
    raise ImproperlyConfigured(
        "KOBLING_ENV is not set: set it to production on a server, or to demo or test on your "
        "own machine (scripts/demo and scripts/test set it for you)."
    )
KOBLING_ENV = env.choice("KOBLING_ENV", "test", ("demo", "test", "production"))
IS_PRODUCTION = KOBLING_ENV == "production"
CI = env.boolean("CI", False)

DEBUG = env.boolean("DEBUG", default=KOBLING_ENV == "demo")
if IS_PRODUCTION and DEBUG:
    raise ImproperlyConfigured(
        "DEBUG must be off when KOBLING_ENV=production: its error pages show settings and data."
    )
DEMO_SECRET_KEY = "kobling-insecure-demo-key-never-use-in-production"
SECRET_KEY = env.raw("SECRET_KEY")
if IS_PRODUCTION and SECRET_KEY is None:
    raise ImproperlyConfigured("SECRET_KEY must be set when KOBLING_ENV=production.")
# As Django's own check (security.W009): at least 50 characters, 5 different ones, not generated
# by startproject for development.
if (
    IS_PRODUCTION
    and SECRET_KEY is not None  # always so in production: checked just above
    and (
        SECRET_KEY == DEMO_SECRET_KEY
        or SECRET_KEY.startswith("django-insecure-")
        or len(SECRET_KEY) < 50
        or len(set(SECRET_KEY)) < 5
    )
):
    raise ImproperlyConfigured(
        "SECRET_KEY is too weak for KOBLING_ENV=production: use at least 50 random characters, "
        "e.g. from python3 -c 'import secrets; print(secrets.token_urlsafe(50))'."
    )
SECRET_KEY = SECRET_KEY or DEMO_SECRET_KEY
ALLOWED_HOSTS = env.word_list("ALLOWED_HOSTS", [] if IS_PRODUCTION else ["127.0.0.1", "localhost"])
if IS_PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when KOBLING_ENV=production.")
# Where people reach Kobling: e-mails link to pages under it (programmes/notifications.py).
_site_url_given = env.url("SITE_URL", ("https", "http"))
if IS_PRODUCTION and (_site_url_given is None or not _site_url_given.startswith("https://")):
    raise ImproperlyConfigured("SITE_URL must be set to https://… when KOBLING_ENV=production.")
SITE_URL = (_site_url_given or "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    # django-otp's and django-axes's apps, named for the back office (accounts/apps.py).
    "accounts.apps.AuthenticatorAppsConfig",
    "accounts.apps.RecoveryCodesConfig",
    "accounts.apps.LoginAttemptsConfig",
    "auditlog",
    "csp",
    "accounts",
    "programmes",
    "volunteers",
    "matching",
    "casework",
    # After the apps whose records it erases: privacy/admin.py extends their admins.
    "privacy",
    "outbox",
    # Installed everywhere, production too: its commands refuse there with a clear message.
    "demo",
]

MIDDLEWARE = [
    # First: every later log line of the request carries its id (core/observability.py).
    "core.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files, before anything that would touch the session or the database.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "core.security_headers.NoStoreMiddleware",
    # Before anything reads a body: an /api/ body over the limit is a JSON 413.
    "core.api_input.ApiBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.StaffIdleTimeoutMiddleware",
    "accounts.middleware.TwoFactorRequiredMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite under var/ unless DATABASE_URL names a real server
DATABASE_URL = env.url("DATABASE_URL", ("postgres", "postgresql", "sqlite"))
if DATABASE_URL is None:
    if IS_PRODUCTION:
        raise ImproperlyConfigured("DATABASE_URL must be set when KOBLING_ENV=production.")
    DATABASE_URL = f"sqlite:///{VAR_DIR / 'kobling.sqlite3'}"
DATABASES = {"default": _parse.db_url_config(DATABASE_URL)}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Keep a connection open between requests (seconds; 0 closes it after each), checked before
# reuse so a restarted database costs one failed check rather than an error page.
DATABASES["default"]["CONN_MAX_AGE"] = env.integer("DATABASE_CONN_MAX_AGE", 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.boolean("DATABASE_CONN_HEALTH_CHECKS", True)
DATABASE_IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
if not DATABASE_IS_POSTGRES:
    # The demo's SQLite, with several people at once: a write transaction takes the lock when
    # it begins and waits for another's to end instead of failing with "database is locked";
    # WAL lets readers go on meanwhile.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        transaction_mode="IMMEDIATE", timeout=20, init_command="PRAGMA journal_mode=WAL;"
    )
# Only for `manage.py migrate`, run as the owner role: the restricted role the service connects
# as, granted what it needs after every migrate (config/database_roles.py).
DATABASE_APP_ROLE = env.identifier("DATABASE_APP_ROLE")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: local memory unless CACHE_URL names Redis
CACHE_URL = env.url("CACHE_URL", ("redis", "rediss", "locmem"))
CACHES: dict[str, dict[str, Any]] = {
    "default": _parse.cache_url_config(CACHE_URL)
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # Redis down must not hang or fail a request: short timeouts, then per-process counts.
    CACHES["default"]["BACKEND"] = "core.cache.FallbackRedisCache"
    CACHES["default"].setdefault("OPTIONS", {}).update(
        socket_connect_timeout=0.5, socket_timeout=1.0
    )

# Celery: eager in-process unless CELERY_BROKER_URL names a broker
CELERY_BROKER_URL = env.url("CELERY_BROKER_URL", ("redis", "rediss", "amqp", "amqps"))
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env.url("CELERY_RESULT_BACKEND", ("redis", "rediss", "rpc"))
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A match run silent this long is taken for dead and marked failed (docs/design.md, "Runs that
# die"). The broker redelivers an unacknowledged task only after three times that, when the run
# is already marked failed, so a redelivery never races a coordinator's restart.
MATCH_RUN_STALE_MINUTES = env.integer("MATCH_RUN_STALE_MINUTES", 10, minimum=1)
# A working run tells the database it is alive this often, also in the middle of a long solve.
MATCH_RUN_HEARTBEAT_SECONDS = MATCH_RUN_STALE_MINUTES * 60 / 4
# A broker that is down must fail a publish within about a second (one quick retry, short socket
# timeouts), never hang a request: the task then waits in the outbox (outbox/) until it is back.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3 * 60 * MATCH_RUN_STALE_MINUTES,
    "socket_connect_timeout": 0.5,
    "socket_timeout": 2.0,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 1.0
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TIMEZONE = "Europe/Oslo"
# Three queues, so a long national match run never holds up an e-mail (a login link, a
# confirmation): `scripts/serve worker matching` and `scripts/serve worker email default` run
# them apart (docs/deploy.md). Every task is named here (tests/deploy/test_task_routes.py).
# Each queue on an exchange and routing key of its own: queues declared by name alone would all
# share Celery's default key, and every task would land in all three.
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name), routing_key=name) for name in ("matching", "email", "default")
]
CELERY_TASK_DEFAULT_EXCHANGE = CELERY_TASK_DEFAULT_ROUTING_KEY = "default"
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    **{name: {"queue": "matching"} for name in ("matching.run", "matching.recruitment_sweep")},
    "kobling.send_email": {"queue": "email"},
    **{
        name: {"queue": "default"}
        for name in (
            "matching.agreements_close_ended",
            "matching.vetting_warn_expiring",
            "matching.check_ins_flag_overdue",
            "matching.referrals_flag_long_waits",
            "matching.match_runs_fail_stale",
            "programmes.retention_apply",
            "volunteers.applications_remind_untouched",
            "outbox.flush",
            "kobling.ping",
        )
    },
}
# Processes each worker runs tasks in (`--concurrency` on the command line overrides it).
CELERY_WORKER_CONCURRENCY = env.integer("WORKER_CONCURRENCY", 2, minimum=1)
# The worker logs as the web server does (LOGGING below), JSON lines in production.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    name: {"task": f"matching.{name}", "schedule": crontab(hour=hour, minute=0)}
    for name, hour in (
        ("agreements_close_ended", 2),
        ("vetting_warn_expiring", 6),
        ("check_ins_flag_overdue", 7),
        ("referrals_flag_long_waits", 7),
    )
}
CELERY_BEAT_SCHEDULE["match_runs_fail_stale"] = {
    "task": "matching.match_runs_fail_stale",
    "schedule": crontab(minute="*/5"),
}
CELERY_BEAT_SCHEDULE["retention_apply"] = {
    "task": "programmes.retention_apply",
    "schedule": crontab(hour=3, minute=30),
}
CELERY_BEAT_SCHEDULE["applications_remind_untouched"] = {
    "task": "volunteers.applications_remind_untouched",
    "schedule": crontab(hour=7, minute=15),
}
CELERY_BEAT_SCHEDULE["outbox_flush"] = {"task": "outbox.flush", "schedule": crontab()}
CELERY_MODE_DESCRIPTION = (
    "eager: no broker configured, tasks run in-process in the web server"
    if CELERY_BROKER_URL is None  # CELERY_TASK_ALWAYS_EAGER, spelled out for mypy
    else f"broker at {CELERY_BROKER_URL.split('@')[-1]}"
)

# Auth
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Argon2 for every password set or changed: memory-hard, and at Django's settings about half
# the CPU of PBKDF2's million rounds (0.25 s against 0.39-0.54 s here), which a login spends
# while others wait; in one lane, on one core (accounts/hashers.py). Hashes made before still
# verify, and are made again at the next login.
PASSWORD_HASHERS = [
    "accounts.hashers.OneLaneArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
if KOBLING_ENV == "test":
    # Fast hashing keeps the suite quick; real hashing is exercised outside tests.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# django-axes must come first: it refuses a locked-out login before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Strong login (accounts/)
# Coordinators, crisis-centre staff and admins must pass a second factor (TOTP or a recovery
# code) before any referral data is reachable; volunteers may turn it on.
OTP_TOTP_ISSUER = "Kobling"
# Not even superusers see another user's authenticator secret or QR code in the back office.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
RECOVERY_CODE_COUNT = 10
# Staff are signed out after this many idle minutes; everyone after SESSION_COOKIE_AGE.
STAFF_SESSION_IDLE_MINUTES = env.integer("STAFF_SESSION_IDLE_MINUTES", 15, minimum=1)
SESSION_COOKIE_AGE = 12 * 60 * 60
# Lockout after repeated failed logins (accounts/lockout.py; django-axes), by username
# *and* address, so a stranger elsewhere cannot lock anyone out; the right password is refused
# while locked. An address is also locked after LOGIN_ADDRESS_FAILURE_LIMIT failures for any
# usernames, each username counting at most LOGIN_FAILURE_LIMIT: one person's typos never lock
# a crisis centre whose staff share an address.
AXES_FAILURE_LIMIT = env.integer("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_ADDRESS_FAILURE_LIMIT = env.integer("LOGIN_ADDRESS_FAILURE_LIMIT", 30, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env.integer("LOGIN_LOCKOUT_MINUTES", 30, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "accounts.lockout.KoblingAxesHandler"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
# The client's address: behind TRUSTED_PROXY_COUNT reverse proxies (production: the one that
# ends TLS) it is taken from X-Forwarded-For, counting from the right, never from what the
# client itself wrote there.
TRUSTED_PROXY_COUNT = env.integer("TRUSTED_PROXY_COUNT", 1 if IS_PRODUCTION else 0)
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_address"
# Password-reset e-mails: at most this many an hour to one e-mail address, and requests from
# one network address; the page answers the same either way.
PASSWORD_RESET_PER_EMAIL_HOURLY = env.integer("PASSWORD_RESET_PER_EMAIL_HOURLY", 3, minimum=1)
PASSWORD_RESET_PER_ADDRESS_HOURLY = env.integer("PASSWORD_RESET_PER_ADDRESS_HOURLY", 20, minimum=1)
# Volunteer applications (volunteers/applications.py): each network address may send this many
# an hour, and confirmation e-mails go at most this often an hour to one e-mail address; the
# confirmation link works this many hours, and an unconfirmed application goes at the next
# daily retention run after that.
APPLICATIONS_PER_ADDRESS_HOURLY = env.integer("APPLICATIONS_PER_ADDRESS_HOURLY", 10, minimum=1)
APPLICATIONS_PER_EMAIL_HOURLY = env.integer("APPLICATIONS_PER_EMAIL_HOURLY", 3, minimum=1)
APPLICATION_CONFIRM_HOURS = env.integer("APPLICATION_CONFIRM_HOURS", 24, minimum=1)
# Sign-in records (django-axes: time, address, browser) go after this many days (retention).
LOGIN_RECORD_DAYS = env.integer("LOGIN_RECORD_DAYS", 90, minimum=1)
# API tokens stop working this many days after they are made.
API_TOKEN_DAYS = env.integer("API_TOKEN_DAYS", 90, minimum=1)

# Audit log (programmes/audit.py)
AUDITLOG_INCLUDE_ALL_MODELS = False
# Rows without the actor's e-mail or address, with the channel (portal, api, admin, export, task).
AUDITLOG_LOGENTRY_MODEL = "programmes.AuditLogEntry"
AUDITLOG_MASK_CALLABLE = "core.audit.mask_value"
DATABASE_ROUTERS = ["core.audit.SwappedAuditlogRouter"]
# Auditlog's middleware would store the caller's IP address and miss users who sign in to the
# API with a token; core.audit.AuditMiddleware takes its place in MIDDLEWARE.
MIDDLEWARE = [
    "core.audit.AuditMiddleware" if name == "auditlog.middleware.AuditlogMiddleware" else name
    for name in MIDDLEWARE
]

# Retention (privacy/retention.py); months after which personal data goes
RETENTION_CLOSED_REFERRAL_MONTHS = env.integer("RETENTION_CLOSED_REFERRAL_MONTHS", 12, minimum=1)
RETENTION_WITHDRAWN_REFERRAL_MONTHS = env.integer(
    "RETENTION_WITHDRAWN_REFERRAL_MONTHS", 3, minimum=0
)
RETENTION_RETIRED_VOLUNTEER_MONTHS = env.integer(
    "RETENTION_RETIRED_VOLUNTEER_MONTHS", 12, minimum=1
)
# An application never taken in goes this many months after its last step.
RETENTION_APPLICATION_MONTHS = env.integer("RETENTION_APPLICATION_MONTHS", 6, minimum=1)

# REST API (/api/v1/; core/api.py, accounts/api_access.py)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # The token scheme first, so an anonymous call is told how to authenticate (401).
        "accounts.api_tokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.api_access.RolePermission",
    ],
    "DEFAULT_PARSER_CLASSES": ["accounts.api_access.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": [
        "accounts.api_access.AnonThrottle",
        "accounts.api_access.UserThrottle",
        "accounts.api_access.TokenThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {"anon": "60/minute", "user": "600/minute", "token": "300/minute"},
    "EXCEPTION_HANDLER": "core.api.api_exception_handler",
    # The anonymous throttle keys on the client's address, not on what it writes in
    # X-Forwarded-For (see TRUSTED_PROXY_COUNT).
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_SCHEMA_CLASS": "core.api_schema.KoblingAutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kobling API",
    "DESCRIPTION": "Referrals, volunteers' self-service and matching for Ressursvenn and "
    "Fritidsvenn. Portal users authenticate with their session, integrations with a token.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Swagger UI from the sidecar package's static files: no external CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ReferralStatusEnum": "programmes.models.Referral.Status",
        "VolunteerStatusEnum": "volunteers.models.Volunteer.Status",
        "MatchRunStatusEnum": "matching.models.MatchRun.Status",
        "ProposalStatusEnum": "matching.models.Proposal.Status",
        "MatchStatusEnum": "matching.models.Match.Status",
        "GenderEnum": "programmes.models.Gender",
        "PolitiattestTypeEnum": "programmes.models.PolitiattestType",
        "MatchEndReasonEnum": "matching.models.Match.EndReason",
        "EndReasonEnum": "matching.api.END_REASON_CHOICES",
        "ReferralClosureReasonEnum": "programmes.models.Referral.ClosureReason",
        "WithdrawalReasonEnum": "programmes.models.Referral.WithdrawalReason",
    },
}

# Language and time: bokmål first, English second
LANGUAGE_CODE = "nb"
LANGUAGES = [("nb", "Norsk bokmål"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates and times as read in Norway, in both languages (config/formats): "29. nov. 2026" and
# "29 Nov 2026", a 24-hour clock, never the American order or "p.m.".
FORMAT_MODULE_PATH = "config.formats"
TIME_ZONE = "Europe/Oslo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# collectstatic writes here (scripts/serve release); whitenoise serves it.
STATIC_ROOT = Path(env.raw("STATIC_ROOT") or VAR_DIR / "static")
# In production, names carry a hash of the content and come compressed, so browsers may keep
# them for a year (whitenoise's far-future Cache-Control); demo and tests serve the sources.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if IS_PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# The portal's look: Designsystemet (vendored, scripts/refresh_designsystemet) and kobling.css.
STATICFILES_DIRS = [BASE_DIR / "config" / "static"]

# Security
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = IS_PRODUCTION
CSRF_COOKIE_SECURE = IS_PRODUCTION
SECURE_SSL_REDIRECT = env.boolean("SECURE_SSL_REDIRECT", default=IS_PRODUCTION)
# A load balancer may probe the health check over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^health/((live|ready)/)?$"]
SECURE_HSTS_SECONDS = 31536000 if IS_PRODUCTION else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = IS_PRODUCTION
SECURE_HSTS_PRELOAD = IS_PRODUCTION
# In production Kobling runs behind a TLS-terminating proxy that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if IS_PRODUCTION else None
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "core.errors.csrf_failure"
CSRF_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SECURE = IS_PRODUCTION
LANGUAGE_COOKIE_SAMESITE = "Lax"
# Content Security Policy (django-csp 4): only our own origin, no inline scripts or styles
# (tests/e2e/test_content_security_policy.py visits every role's pages under it).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# Email: console in demo/test
EMAIL_URL = env.url("EMAIL_URL", ("smtp", "smtps", "consolemail", "filemail"))
if EMAIL_URL and EMAIL_URL.startswith("filemail://"):
    # filemail:///var/mail/kobling writes each message to a file there (tests read them).
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = urlsplit(EMAIL_URL).path
elif EMAIL_URL:
    globals().update(_parse.email_url_config(EMAIL_URL))  # EMAIL_HOST, EMAIL_PORT, …
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.raw("DEFAULT_FROM_EMAIL") or "kobling@localhost"

LOG_LEVEL = env.choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))
# json: one JSON object per line (the default in production), for a log collector; plain: one
# line of text, for reading in a terminal. Both carry the request id (core/observability.py).
LOG_FORMAT = env.choice("LOG_FORMAT", "json" if IS_PRODUCTION else "plain", ("json", "plain"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"},
        "json": {"()": "core.observability.JsonFormatter"},
    },
    "filters": {"request_id": {"()": "core.observability.RequestIdFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "kobling": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        # A worker's own lines: ready, task received, succeeded or failed (with the task's id).
        "celery": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# Error reports (optional): to Sentry or a compatible service when SENTRY_DSN is set, without
# request bodies, cookies, query strings or who was signed in (core/observability.py).
SENTRY_DSN = env.url("SENTRY_DSN", ("https", "http"))
if SENTRY_DSN:
    observability.error_reports_start(SENTRY_DSN, KOBLING_ENV)

# The web server (scripts/serve web; config/gunicorn.py): processes, and threads in each. The
# defaults suit a machine with two cores and 2 GB; a page waiting on the database holds a
# thread, not a process.
WEB_WORKERS = env.integer("WEB_WORKERS", 2, minimum=1)
WEB_THREADS = env.integer("WEB_THREADS", 4, minimum=1)
# Where gunicorn listens: the reverse proxy in front forwards here.
WEB_BIND = env.raw("WEB_BIND") or "127.0.0.1:8000"
