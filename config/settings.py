"""Groupdesk settings: one module, driven by environment values (CONTRACT §2).

Production differs from development only by the environment. Secrets have no
default: with DEBUG off, start-up fails without them. Every variable read here
is listed in `.env.example`.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from config.beat import beat_schedule
from config.logging import logging_config
from config.schema import spectacular_settings
from config.security import content_security_policy

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=False):
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)


def _secret(name: str) -> str:
    """Return a secret from the environment; without DEBUG a missing one stops start-up."""
    value = env.str(name, default="")
    if not value and not DEBUG:
        raise ImproperlyConfigured(
            f"{name} is not set. Set it in the environment (see .env.example); "
            "only DEBUG=true runs without it."
        )
    return value


SECRET_KEY = _secret("SECRET_KEY") or "insecure-development-only-key"
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "desk.apps.DeskAdminConfig",  # django.contrib.admin with the desk's site (sections, order): desk/site.py
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "django_htmx",  # Serves htmx (static/django_htmx/htmx-2.min.js) from the pinned package: no CDN.
    "core",
    "outbox",
    "groups",
    "messaging",
    "webhooks",
    "integrations",
    "desk",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it turns a lockout into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

# --- Database -------------------------------------------------------------

DATABASES = {"default": env.db("DATABASE_URL", default="sqlite:///db.sqlite3")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
# Off by default: a check is one more round trip on every request (a tenth of a webhook's cost). Without it, the
# first request on a connection the database dropped (a restart) fails once, then reconnects; Meta retries it.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DATABASE_CONN_HEALTH_CHECKS", default=False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves the app, in-process tasks and sandbox webhooks at
    # once: WAL and IMMEDIATE transactions keep concurrent writers from failing.
    # One write-lock wait for every caller: readers never wait under WAL, writers hold the lock briefly (a drain's
    # batch at most), and a web request runs its tasks (the drain, a send) in-process, so a shorter wait for requests
    # would only turn waits that succeed into 503s. The 20 s elapse only behind a transaction left open.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    # A dead database must fail fast (readiness, webhook 5xx), not hang a worker.
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 3

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth, i18n, static -----------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Project-wide assets (the favicon); apps keep their own under <app>/static/.
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve app static files straight from the apps too, so a deployment that skipped
# collectstatic still has a working admin.
WHITENOISE_USE_FINDERS = True

# --- Production hardening (TLS terminates at the proxy in front of gunicorn; docs/deployment.md) ---

# Trust X-Forwarded-Proto only when a proxy we run sets it (and strips the client's own): otherwise any
# client could claim HTTPS.
USE_X_FORWARDED_PROTO = env.bool("USE_X_FORWARDED_PROTO", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if USE_X_FORWARDED_PROTO else None
# Without the proxy header Django cannot tell HTTPS from HTTP, so redirecting would loop.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=USE_X_FORWARDED_PROTO and not DEBUG)
# Probes from a load balancer or systemd may speak plain HTTP on the private side.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$", r"^readyz/$"]
# HSTS is sent on HTTPS responses only; a year is what browsers' preload lists expect.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = [
    # security.W005: whether every subdomain of the host serves HTTPS is the operator's knowledge, not
    # ours; a wrong includeSubDomains locks browsers out of them for a year. Opt in with
    # SECURE_HSTS_INCLUDE_SUBDOMAINS=true.
    "security.W005",
    # security.W021: preloading is near-irreversible (removal from browsers takes months) and needs
    # includeSubDomains; only the domain's owner can decide it. Opt in with SECURE_HSTS_PRELOAD=true.
    "security.W021",
]

# Content-Security-Policy (django-csp) on every response: config.security.content_security_policy says why.
CONTENT_SECURITY_POLICY = content_security_policy()

# --- Admin login lockout (django-axes) ----------------------------------------------

AUTHENTICATION_BACKENDS = [
    # First, so a locked-out user+IP is refused before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
# One attacker cannot lock a user out from everywhere, nor try many users from one address unseen.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_RESET_ON_SUCCESS = True
# Behind the proxy every REMOTE_ADDR is the proxy's own; see config.security.client_ip.
USE_X_FORWARDED_FOR = env.bool("USE_X_FORWARDED_FOR", default=False)
AXES_CLIENT_IP_CALLABLE = "config.security.client_ip"
# Failures are rows (shared by every web process, visible in the admin), not process memory.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"

# --- Cache (throttle counters): shared by every process once CACHE_URL points at Redis ---

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "config.cache.RedisCache"  # The same cache, cheaper per call.

# --- REST API ---------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["config.api.ModelPermissions"],
    "DEFAULT_PARSER_CLASSES": [
        "config.api.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "config.api.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_METADATA_CLASS": "config.api.Metadata",
    # Every user is throttled; views that make Groupdesk call Meta also spend the "meta_calls" budget.
    "DEFAULT_THROTTLE_CLASSES": ["config.throttling.UserThrottle", "config.throttling.MetaCallsThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_USER_RATE", default="3000/min"),
        "meta_calls": env.str("API_META_CALLS_RATE", default="120/min"),
    },
}

SPECTACULAR_SETTINGS = spectacular_settings(debug=DEBUG)

# --- Celery -----------------------------------------------------------------

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
# No broker: run every task in-process at once, so the embedded default needs no Redis.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# max_retries 0: a publish to a dead broker fails at once instead of retrying for seconds; the
# stored webhook event (or queued message) stays pending and its sweep queues it again later.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2, "max_retries": 0}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes every database connection before and after each task unless this is set: a send
# (a few milliseconds of work) then paid for a new PostgreSQL connection. It closes them only every this many
# tasks; config.celery closes them as Django does after a request (past DATABASE_CONN_MAX_AGE, or broken).
CELERY_DB_REUSE_MAX = 1000
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=180)
CELERY_TASK_DEFAULT_QUEUE = "outbound"
CELERY_TASK_ROUTES = {
    "webhooks.tasks.*": {"queue": "webhooks"},
    "groups.tasks.*": {"queue": "outbound"},
    "messaging.tasks.*": {"queue": "outbound"},
    "core.tasks.*": {"queue": "outbound"},
    "integrations.tasks.*": {"queue": "integrations"},
}
# --- WhatsApp Cloud API -------------------------------------------------------

WHATSAPP_SANDBOX = env.bool("WHATSAPP_SANDBOX", default=False)
if WHATSAPP_SANDBOX and not DEBUG:
    # The sandbox's token and app secret are published (here and in the sandbox): signed with them, anyone's webhook
    # would be accepted. It is for `make run` and demos, never a deployment.
    raise ImproperlyConfigured(
        "WHATSAPP_SANDBOX=true needs DEBUG=true: the sandbox signs with a public secret. "
        "Unset WHATSAPP_SANDBOX in production."
    )
# With the sandbox (python -m sandbox) playing Meta, its address, credentials and sample number are
# the defaults, so `make run` needs nothing else; explicit environment values still win.
_SANDBOX_DEFAULTS = (
    {
        "WHATSAPP_API_BASE_URL": env.str("WHATSAPP_SANDBOX_URL", default="http://127.0.0.1:8001"),
        "WHATSAPP_ACCESS_TOKEN": "sandbox-access-token",
        "WHATSAPP_APP_SECRET": "sandbox-app-secret",
        "WHATSAPP_VERIFY_TOKEN": "sandbox-verify-token",
        "WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
        "WHATSAPP_WABA_ID": "102290129340398",
        "WHATSAPP_DISPLAY_PHONE_NUMBER": "15550783881",
    }
    if WHATSAPP_SANDBOX
    else {}
)


def _whatsapp(name: str, default: str = "") -> str:
    return env.str(name, default=_SANDBOX_DEFAULTS.get(name, default))


# Webhook signatures and the handshake are only as strong as these: a short one can be guessed. Meta's app secrets
# are 32 characters; .env.example and the README state this minimum.
WHATSAPP_SECRET_MIN_LENGTH = 16


def _whatsapp_secret(name: str) -> str:
    value = _SANDBOX_DEFAULTS[name] if name in _SANDBOX_DEFAULTS and not env.str(name, "") else _secret(name)
    if value and name != "WHATSAPP_ACCESS_TOKEN":  # Meta issues the token; the other two are keys we hold.
        _require_length(name, value)
    return value


def _require_length(name: str, value: str) -> None:
    if len(value) < WHATSAPP_SECRET_MIN_LENGTH:
        raise ImproperlyConfigured(
            f"{name} is shorter than {WHATSAPP_SECRET_MIN_LENGTH} characters; use a long random value "
            "(see .env.example)."
        )


WHATSAPP_API_BASE_URL = _whatsapp("WHATSAPP_API_BASE_URL", "https://graph.facebook.com").rstrip("/")
WHATSAPP_API_VERSION = env.str("WHATSAPP_API_VERSION", default="v25.0")
WHATSAPP_ACCESS_TOKEN = _whatsapp_secret("WHATSAPP_ACCESS_TOKEN")
WHATSAPP_APP_SECRET = _whatsapp_secret("WHATSAPP_APP_SECRET")
# During a rotation Meta may still sign with the old secret; accept both until it ends.
WHATSAPP_APP_SECRET_PREVIOUS = env.str("WHATSAPP_APP_SECRET_PREVIOUS", default="")
if WHATSAPP_APP_SECRET_PREVIOUS:
    _require_length("WHATSAPP_APP_SECRET_PREVIOUS", WHATSAPP_APP_SECRET_PREVIOUS)
WHATSAPP_VERIFY_TOKEN = _whatsapp_secret("WHATSAPP_VERIFY_TOKEN")
WHATSAPP_PHONE_NUMBER_ID = _whatsapp("WHATSAPP_PHONE_NUMBER_ID")
WHATSAPP_WABA_ID = _whatsapp("WHATSAPP_WABA_ID")
WHATSAPP_DISPLAY_PHONE_NUMBER = _whatsapp("WHATSAPP_DISPLAY_PHONE_NUMBER")
WHATSAPP_CONNECT_TIMEOUT = env.float("WHATSAPP_CONNECT_TIMEOUT", default=3.0)
WHATSAPP_READ_TIMEOUT = env.float("WHATSAPP_READ_TIMEOUT", default=15.0)

# --- Outbound messages (README "Sending pace") ------------------------------------

# The one retry policy of Graph calls, sends and group operations alike (groups/cloud_api/retry.py): attempts
# before a temporary error fails, and the backoff. Their old MESSAGE_SEND_* names are read too.
META_RETRY_MAX_ATTEMPTS = env.int("META_RETRY_MAX_ATTEMPTS", default=env.int("MESSAGE_SEND_MAX_ATTEMPTS", default=5))
META_RETRY_BASE_SECONDS = env.float(
    "META_RETRY_BASE_SECONDS", default=env.float("MESSAGE_SEND_RETRY_BASE_SECONDS", default=2.0)
)
META_RETRY_MAX_SECONDS = env.float(
    "META_RETRY_MAX_SECONDS", default=env.float("MESSAGE_SEND_RETRY_MAX_SECONDS", default=300.0)
)
# A send whose call timed out stays `sending` this long waiting for a status, then fails `outcome_unknown`.
MESSAGE_OUTCOME_UNKNOWN_AFTER_MINUTES = env.int("MESSAGE_OUTCOME_UNKNOWN_AFTER_MINUTES", default=10)
# Work waiting on its row for a time (core/due.py): with a broker, a row still waiting this long past it is started
# again (a lost task); without one the periodic runner starts it when due. Old name: MESSAGE_QUEUED_SWEEP_AFTER_SECONDS.
DUE_WORK_LOST_AFTER_SECONDS = env.int(
    "DUE_WORK_LOST_AFTER_SECONDS", default=env.int("MESSAGE_QUEUED_SWEEP_AFTER_SECONDS", default=300)
)
# Ceiling of sends per second per phone number (Meta's default throughput is 80/s, spec §8).
MESSAGE_SEND_RATE_PER_SECOND = env.float("MESSAGE_SEND_RATE_PER_SECOND", default=80.0)
# A worker sleeps up to this long for its number's next slot; a later slot re-queues the send.
MESSAGE_PACE_MAX_WAIT_SECONDS = env.float("MESSAGE_PACE_MAX_WAIT_SECONDS", default=1.0)
# "auto": Redis when the broker is Redis, else the database; or force "redis" / "database".
MESSAGE_PACING_BACKEND = env.str("MESSAGE_PACING_BACKEND", default="auto")
MESSAGE_PACING_REDIS_URL = env.str("MESSAGE_PACING_REDIS_URL", default="") or env.str("CELERY_BROKER_URL", default="")

# --- Groups -------------------------------------------------------------------

# A group operation whose webhook has not come after this many minutes is settled by a sync from Meta.
GROUP_OPERATION_STALE_MINUTES = env.int("GROUP_OPERATION_STALE_MINUTES", default=10)

# Periodic tasks (Celery beat, or `manage.py run_periodic_tasks` in the embedded default).
CELERY_BEAT_SCHEDULE = beat_schedule(
    group_operation_stale_minutes=GROUP_OPERATION_STALE_MINUTES, tasks_in_process=CELERY_TASK_ALWAYS_EAGER
)

# --- Webhooks -----------------------------------------------------------------

# Meta sends up to 3 MB; accept 3 MiB and refuse anything past about 3.5 MiB with 413.
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", default=3_670_016)
WEBHOOK_EVENT_RETENTION_DAYS = env.int("WEBHOOK_EVENT_RETENTION_DAYS", default=30)
# Meta redelivers for up to 7 days; stored bodies are the first line of dedupe, so keep twice that.
if WEBHOOK_EVENT_RETENTION_DAYS < 14:
    raise ImproperlyConfigured("WEBHOOK_EVENT_RETENTION_DAYS must be at least 14 (Meta retries for 7 days).")
# Pending events older than this are re-enqueued by the sweep (the broker may have been down).
WEBHOOK_PENDING_SWEEP_AFTER_SECONDS = env.int("WEBHOOK_PENDING_SWEEP_AFTER_SECONDS", default=60)
# An item naming something not known yet (a group before its create webhook) is retried this long.
WEBHOOK_DEFER_MAX_HOURS = env.int("WEBHOOK_DEFER_MAX_HOURS", default=24)
# Drains that may apply a backlog at once (each a task on the `webhooks` queue); about the queue's processes.
WEBHOOK_DRAINS = max(1, env.int("WEBHOOK_DRAINS", default=2))

# --- Integrations: outbound webhooks (docs/events.md) -------------------------

# http:// and loopback/private/link-local endpoint URLs: local receivers only (sandbox, tests); never in production.
INTEGRATIONS_ALLOW_PRIVATE_URLS = env.bool("INTEGRATIONS_ALLOW_PRIVATE_URLS", default=WHATSAPP_SANDBOX)
INTEGRATIONS_CONNECT_TIMEOUT = env.float("INTEGRATIONS_CONNECT_TIMEOUT", default=5.0)
INTEGRATIONS_READ_TIMEOUT = env.float("INTEGRATIONS_READ_TIMEOUT", default=15.0)
# Retries (5 s ... then every 12 h) stop this long after the event; an endpoint failing this long is disabled.
INTEGRATIONS_RETRY_HOURS = env.int("INTEGRATIONS_RETRY_HOURS", default=72)
INTEGRATIONS_DISABLE_AFTER_HOURS = env.int("INTEGRATIONS_DISABLE_AFTER_HOURS", default=72)
INTEGRATIONS_BATCH_SIZE = env.int("INTEGRATIONS_BATCH_SIZE", default=200)
INTEGRATIONS_DELIVERY_CONCURRENCY = max(1, env.int("INTEGRATIONS_DELIVERY_CONCURRENCY", default=16))

# --- Logging: one JSON line per event, secrets redacted -----------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = logging_config(level=LOG_LEVEL, tasks_in_process=CELERY_TASK_ALWAYS_EAGER)
