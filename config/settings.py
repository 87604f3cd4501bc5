"""CommonGround settings.

Every value that differs between machines is read from the environment here and
nowhere else. The defaults are the *embedded* mode (`make run`): a SQLite file and
a file-system Celery broker under ``var/``, email to the console. Set
``DATABASE_URL`` / ``CELERY_BROKER_URL`` for the *full* mode (PostgreSQL, Redis),
and ``ENVIRONMENT=production`` for a deployment, which refuses to start without
``SECRET_KEY`` and turns on every security setting ``check --deploy`` asks for.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.security import tile_source

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=None):
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def env_int(name, default):
    return int(env(name, str(default)))


ENVIRONMENT = env("ENVIRONMENT", "development")
PRODUCTION = ENVIRONMENT == "production"

VAR_DIR = Path(env("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when ENVIRONMENT=production.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-6c1f0e5a"  # noqa: S105 (development only)

# Off unless asked for, `make run` included: that is what a department tries first, often
# reachable by colleagues, and Django's debug pages show settings, tracebacks and every URL
# of the staff and admin pages. DEBUG=1 for tracebacks while developing (even then a 404
# shows the project's page, see config.errors.ErrorPagesMiddleware).
DEBUG = env_bool("DEBUG", default=False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
# The resident's form comes back filled in; other forms get a page that explains.
CSRF_FAILURE_VIEW = "config.errors.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "accounts",
    "partners",
    "cases",
    "outreach",
    "insights",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outermost after Django's own: every answer, a 503 or a static file included, carries them.
    "csp.middleware.CSPMiddleware",
    "config.security.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "core.site.SiteAddressMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The staff pages in the staff member's language (after the session and LocaleMiddleware).
    "core.language.StaffLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last (innermost): its 503 and 404 pages still pass through every middleware above.
    "config.errors.ErrorPagesMiddleware",
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
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.site",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'commonground.sqlite3'}")
# Health checks: a kept connection the server or a firewall dropped is noticed (and replaced)
# before a request uses it, instead of failing that request.
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The planner's price of a random page read: PostgreSQL's default (4) assumes spinning disks
    # and steers it away from the list indexes (a page read from one officer's or one category's
    # index) towards walking a larger index in order. SSD-backed servers: 1.1.
    _page_cost = env("DB_RANDOM_PAGE_COST", "1.1")
    if _page_cost:
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = f"-c random_page_cost={float(_page_cost)}"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Embedded mode: the web server, worker and beat share one file; WAL and a
    # busy timeout let them write without "database is locked" errors.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -------------------------------------------------------------------
# Django's ModelBackend, with a user's permissions and role names read in one statement.
AUTHENTICATION_BACKENDS = ["accounts.backends.PermissionsBackend"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
DEMO_PASSWORD = env("DEMO_PASSWORD", "commonground")

# --- Internationalisation ---------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", "America/Chicago")
USE_I18N = True
USE_TZ = True
# One date and number format per language (core/formats/<language>/formats.py); templates name them.
FORMAT_MODULE_PATH = ["core.formats"]

# --- Static and media -------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request otherwise
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Outside production whitenoise serves static files straight from the source folders (no
# collectstatic), whatever DEBUG says: `make run` runs with DEBUG off.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

# --- Email ------------------------------------------------------------------
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if env("EMAIL_HOST")
    else "config.mail.MaskedConsoleEmailBackend",  # the console is a log: recipients masked
)
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Seconds per SMTP operation; bounded so an outbox claim's lease outlasts every send.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 60)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "CommonGround <noreply@commonground.local>")

# --- Celery -----------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    (BROKER_DIR / "control").mkdir(parents=True, exist_ok=True)
    # One folder in and out: the web server, worker and beat all read and write it.
    # Remote control (inspect, ping) keeps its own folder, by default ``control/`` in the
    # current directory — the repository root under ``make run``.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR),
        "data_folder_out": str(BROKER_DIR),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the message for another
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
ESCALATION_SWEEP_SECONDS = env_int("ESCALATION_SWEEP_SECONDS", 60)
# An unfinished sweep that has committed nothing for this long is shown as interrupted
# (/healthz, admin). 5 minutes = 5 sweep intervals at the default, beyond the 3 after which a
# queued sweep expires; and hundreds of times the longest wait between two commits of a live
# sweep: a batch of 5 000 issues takes about 1 s (README: 100 000 overdue issues in 20 batches,
# 20 s), and the scans before the first batch less (a whole sweep with nothing to do over
# 1 000 000 issues: 0.2 s).
SWEEP_STALE_SECONDS = env_int("SWEEP_STALE_SECONDS", 300)
# /healthz checks the broker at most this often per process; calls in between repeat the last answer.
HEALTHZ_BROKER_SECONDS = env_int("HEALTHZ_BROKER_SECONDS", 5)
OUTBOX_DRAIN_SECONDS = env_int("OUTBOX_DRAIN_SECONDS", 30)
# Residents' names, emails and phone numbers are erased this many days after their issue is
# finished (cases.services.retention, run daily by beat at 03:30 in TIME_ZONE).
_retention_days = env("CONTACT_RETENTION_DAYS", "90")
try:
    CONTACT_RETENTION_DAYS = int(_retention_days.strip())
except ValueError:
    CONTACT_RETENTION_DAYS = 0
if CONTACT_RETENTION_DAYS < 1:
    raise ImproperlyConfigured(
        f"CONTACT_RETENTION_DAYS must be a whole number of days, 1 or more (it is {_retention_days!r})."
    )
# The dashboard's summary tables (insights.rollups): the change log is folded in this often, and
# each night (02:30 in TIME_ZONE) this many days are recomputed from the raw rows and repaired.
ROLLUP_APPLY_SECONDS = env_int("ROLLUP_APPLY_SECONDS", 10)
ROLLUP_REPAIR_DAYS = env_int("ROLLUP_REPAIR_DAYS", 400)
# Whether changes log their days for the summary tables (cases.figure_changes). Off only to
# measure what the log costs the write paths (benchmarks.form_load, benchmarks.escalation): the
# tables then follow changes only at the nightly check (ROLLUP_REPAIR_DAYS) or a rebuild.
ROLLUP_CHANGE_LOG = env_bool("ROLLUP_CHANGE_LOG", True)
CELERY_BEAT_SCHEDULE = {
    "rollups-apply": {
        "task": "insights.tasks.rollups_apply_task",
        "schedule": timedelta(seconds=ROLLUP_APPLY_SECONDS),
    },
    "rollups-repair": {
        "task": "insights.tasks.rollups_repair_task",
        "schedule": crontab(hour=2, minute=30),
    },
    "contact-retention": {
        "task": "cases.tasks.contact_details_erase_task",
        "schedule": crontab(hour=3, minute=30),
    },
    "housekeeping": {
        "task": "cases.tasks.housekeeping_task",
        "schedule": crontab(hour=3, minute=45),
    },
    "escalation-sweep": {
        "task": "cases.tasks.escalation_sweep_task",
        "schedule": timedelta(seconds=ESCALATION_SWEEP_SECONDS),
    },
    "outbox-drain": {
        "task": "cases.tasks.outbox_drain_task",
        "schedule": timedelta(seconds=OUTBOX_DRAIN_SECONDS),
    },
    # Neighborhood alerts: one digest a day per subscriber (07:00 in TIME_ZONE).
    "alert-digests": {
        "task": "cases.tasks.alert_digests_send_task",
        "schedule": crontab(hour=7, minute=0),
    },
    # "Is it fixed?" to reporters some days after their issue was resolved (hourly).
    "fixed-checks": {
        "task": "cases.tasks.fixed_checks_send_task",
        "schedule": crontab(minute=15),
    },
}

# --- Caches (rate limits, sign-in lockout, throttling) ------------------------
# Full mode: Redis, falling back to the database table core.CacheEntry whenever Redis
# does not answer, so the limits keep holding during an outage (core/cache.py).
# Embedded mode: that table alone (one SQLite file, atomic counters across processes).
REDIS_CACHE_URL = env("REDIS_CACHE_URL", CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else "")
if REDIS_CACHE_URL:
    CACHES = {"default": {"BACKEND": "core.cache.FailoverCache", "LOCATION": REDIS_CACHE_URL}}
else:
    CACHES = {"default": {"BACKEND": "core.cache.DatabaseCache"}}

# --- Application settings ---------------------------------------------------
# Map tiles for Leaflet. Empty: no tiles, the map still draws neighborhood outlines.
MAP_TILE_URL = env("MAP_TILE_URL", "")
MAP_TILE_ATTRIBUTION = env("MAP_TILE_ATTRIBUTION", "")
MAP_CENTER = [float(x) for x in env_list("MAP_CENTER", "39.0997,-94.5786")]
# Dotted path of a callable(address: str) -> (lat, lng) | None. Off by default.
GEOCODER = env("GEOCODER", "")
REPORT_RATE_LIMIT = env("REPORT_RATE_LIMIT", "10/h")
# Address suggestions (/addresses/suggest/) per client address: a resident typing sends a few dozen.
ADDRESS_SUGGEST_RATE_LIMIT = env("ADDRESS_SUGGEST_RATE_LIMIT", "600/h")
# Anonymous messages (cases.services.messages): tries of a private message key per client
# address (hashed, never stored), tries by every client together, and messages sent under one key.
MESSAGE_KEY_RATE_LIMIT = env("MESSAGE_KEY_RATE_LIMIT", "10/h")
MESSAGE_KEY_GLOBAL_RATE_LIMIT = env("MESSAGE_KEY_GLOBAL_RATE_LIMIT", "300/h")
MESSAGE_SEND_RATE_LIMIT = env("MESSAGE_SEND_RATE_LIMIT", "20/d")
# How long an unlocked conversation stays open in the resident's browser.
MESSAGE_UNLOCK_SECONDS = env_int("MESSAGE_UNLOCK_SECONDS", 30 * 60)
PUBLIC_LOCATION_DECIMALS = env_int("PUBLIC_LOCATION_DECIMALS", 3)
# Public URL of the site, for links in emails (e.g. https://cg.example.org). Required in
# production — a system check (``core.site``) stops ``check``, ``migrate`` and ``runserver``
# without it, while build steps such as ``collectstatic`` need none; in development, empty means
# the address of the request that queued the email.
SITE_URL = env("SITE_URL", "").rstrip("/")
# Reverse proxies in front of the app whose X-Forwarded-For hop is trusted for rate limits.
RATE_LIMIT_TRUSTED_PROXIES = env_int("RATE_LIMIT_TRUSTED_PROXIES", 0)
# Staff sign-in lockout: failures per username+address within the window lock that pair.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 15 * 60)
LOGIN_IP_FAILURE_LIMIT = env_int("LOGIN_IP_FAILURE_LIMIT", 50)
# Escalation sweep batch (issues per transaction) and notification retries.
ESCALATION_BATCH_SIZE = env_int("ESCALATION_BATCH_SIZE", 5000)
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 8)
# How long a claimed email is left to its drain before another may take it (>> EMAIL_TIMEOUT).
OUTBOX_CLAIM_LEASE_SECONDS = env_int("OUTBOX_CLAIM_LEASE_SECONDS", 600)
# Open-issue markers drawn on the dashboard map (the oldest first).
DASHBOARD_MARKER_LIMIT = env_int("DASHBOARD_MARKER_LIMIT", 500)

# --- REST framework ---------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: its "WWW-Authenticate: Token" header makes refused requests 401, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "core.api.common.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.common.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "core.api.errors.api_exception_handler",
    "DEFAULT_METADATA_CLASS": "core.api.common.SchemaMetadata",
    "DEFAULT_THROTTLE_CLASSES": [
        "core.api.common.AnonThrottle",
        "core.api.common.UserThrottle",
        "core.api.common.ScopedThrottle",
        "core.api.common.WriteThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", "120/min"),
        "user": env("API_THROTTLE_USER", "1200/min"),
        # Scoped budgets: every change, residents' contact details, dashboard statistics.
        "write": env("API_THROTTLE_WRITE", "240/min"),
        "contacts": env("API_THROTTLE_CONTACTS", "120/min"),
        "stats": env("API_THROTTLE_STATS", "120/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CommonGround API",
    "DESCRIPTION": (
        "Community-policing case management: issues, outreach, partners, problems.\n\n"
        "Authenticate with a session (browser) or a per-user token an administrator issues in the admin: "
        "`Authorization: Token <key>`. A client sees and may do exactly what its user sees and does in the "
        'pages. Every error has the shape `{"error": {"code", "message", "fields"}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    # No call-outs: Swagger UI's default schema validator badge would fetch from validator.swagger.io.
    # No deep links: Swagger UI puts each one inside its operation's button (a link nested in a button).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False, "validatorUrl": None},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "IssueStatusEnum": "cases.models.Issue.Status",
        "IssueOutcomeEnum": "cases.models.Issue.Outcome",
        "PriorityEnum": "cases.models.Priority",
        "ApproachEnum": "cases.models.Approach",
        "ReportChannelEnum": "cases.models.Report.Channel",
        "EventKindEnum": "cases.models.Event.Kind",
        "EscalationActionEnum": "cases.models.EscalationRule.Action",
        "ProblemStageEnum": "cases.models.Problem.Stage",
        "ProblemSourceEnum": "cases.models.Problem.Source",
        "ProblemOutcomeEnum": "cases.models.Problem.Outcome",
        "PartnerKindEnum": "partners.models.Partner.Kind",
        "CopsTypeEnum": "partners.models.Partner.CopsType",
        "ActivityKindEnum": "outreach.models.Activity.Kind",
        "LanguageEnum": "partners.models.LANGUAGE_CHOICES",
    },
}

# --- Logging ----------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Request lines lose their query strings (searches may hold a resident's name or phone).
    "filters": {"no_query_strings": {"()": "config.logging.StripQueryStrings"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.server": {"handlers": ["console"], "filters": ["no_query_strings"], "propagate": False},
    },
}

# --- Content-Security-Policy (django-csp) -----------------------------------
# One policy in every mode. No inline script anywhere (data reaches scripts through
# json_script, which the browser does not execute), no eval, no inline style (htmx's
# injected indicator style is turned off in base.html; bars are <meter> elements).
# Map tiles are the one outside source, and only when MAP_TILE_URL is set. (With DEBUG on,
# django-csp leaves 404 and 500 answers without the header: Django's debug pages are inline code.)
_TILE_SOURCE = tile_source(MAP_TILE_URL)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:", *([_TILE_SOURCE] if _TILE_SOURCE else [])],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        # The offline service worker (/sw.js) and the staff pages' web app manifest.
        "worker-src": ["'self'"],
        "manifest-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- Production security ----------------------------------------------------
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"
