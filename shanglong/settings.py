"""Settings for the Shanglong portal: one module, read from the environment.

Development runs with no servers at all (SQLite under var/, Celery over kombu's filesystem
transport). Production sets DATABASE_URL, REDIS_URL, SECRET_KEY and DEBUG=0, and refuses to
start without a real secret key.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=True)
TESTING = "pytest" in sys.modules or os.environ.get("SHANGLONG_TESTING") == "1"

_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-shanglong-portal"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off the portal refuses to start: set SECRET_KEY "
            "to a long random value (for example: python -c 'import secrets; "
            "print(secrets.token_urlsafe(50))')."
        )
    SECRET_KEY = _DEV_SECRET_KEY

# Field encryption for identity numbers (SM4) and the keyed hash used to find them (HMAC-SM3).
# Both keys are separate from SECRET_KEY so that rotating sessions never loses personal data.
FIELD_ENCRYPTION_KEY = os.environ.get("FIELD_ENCRYPTION_KEY", "")
FIELD_HASH_KEY = os.environ.get("FIELD_HASH_KEY", "")
if not DEBUG and (not FIELD_ENCRYPTION_KEY or not FIELD_HASH_KEY):
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEY and FIELD_HASH_KEY must be set when DEBUG is off "
        "(32 hex characters for the SM4 key, any long random text for the hash key)."
    )
FIELD_ENCRYPTION_KEY = FIELD_ENCRYPTION_KEY or "00112233445566778899aabbccddeeff"
FIELD_HASH_KEY = FIELD_HASH_KEY or "dev-only-field-hash-key"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "shanglong",
    "grids",
    "shanglong.admin_config.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "leaflet",
    "simple_history",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "shanglong.refusals.RefusalMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]
# bench/page_cost.py: each response says how many queries it ran (shanglong.query_count).
if env_bool("SHANGLONG_QUERY_COUNT_HEADER", default=False):
    MIDDLEWARE.insert(0, "shanglong.query_count.QueryCountMiddleware")

ROOT_URLCONF = "shanglong.urls"
WSGI_APPLICATION = "shanglong.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shanglong.context_processors.portal",
                "shanglong.context_processors.form_token",
            ],
        },
    }
]

# --- Database ------------------------------------------------------------------------------
# Default: a SQLite file under var/, in WAL mode with immediate transactions and a busy
# timeout, so that the web process, the Celery worker and beat can share it.
DEFAULT_SQLITE_URL = f"sqlite:///{VAR_DIR / 'shanglong.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", DEFAULT_SQLITE_URL),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    # A file-backed test database, so a real Celery worker process can share it in tests.
    # One file per test process, so parallel test runs never share a database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test_shanglong_{os.getpid()}.sqlite3")}
else:
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 5
    # PostgreSQL's JIT compiler spends ~300 ms compiling any query its planner costs high (the
    # scoped queries with several subqueries are), which is far more than running them.
    # Web requests run short queries: JIT off (DB_JIT=1 turns it back on).
    if not env_bool("DB_JIT", default=False):
        DATABASES["default"]["OPTIONS"]["options"] = "-c jit=off"
    # The scoped queries are long (2,000 to 7,000 characters) and PostgreSQL spends 2 to 3 ms
    # planning each, more than running them. With server-side binding psycopg prepares a query
    # a connection has run twice, and PostgreSQL reuses its plan (bench/README.md, "Page cost").
    # Off (DB_SERVER_SIDE_BINDING=0) behind a transaction-pooling PgBouncer, which cannot keep
    # a connection's prepared statements.
    if env_bool("DB_SERVER_SIDE_BINDING", default=True):
        DATABASES["default"]["OPTIONS"].update(server_side_binding=True, prepare_threshold=2)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "shanglong.User"

# --- Redis, cache and Celery ---------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # Short: the cache only counts API requests, and fails open (shanglong.throttling).
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_ENABLE_UTC = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# A request that queues a task waits a fraction of a second for a broker that is down, not
# seconds; the task is then left to its periodic sweep (shanglong.queueing).
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {"socket_connect_timeout": 2, "visibility_timeout": 3600}
else:
    # Embedded default: kombu's filesystem transport, so a worker runs with no server at all.
    CELERY_BROKER_DIR = VAR_DIR / "celery"
    for sub in ("queue", "processed", "control"):
        (CELERY_BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }

# Seconds between beat's heartbeats (/healthz reads them); tests run beat with a short interval.
HEARTBEAT_INTERVAL = float(os.environ.get("HEARTBEAT_INTERVAL", "60"))

# The whole schedule, in code. Every job is a set-based sweep, safe to run twice.
CELERY_BEAT_SCHEDULE = {
    "scheduler-heartbeat": {
        "task": "shanglong.tasks.record_heartbeat_task",
        "schedule": HEARTBEAT_INTERVAL,
    },
    "deliver-notifications": {
        "task": "shanglong.tasks.deliver_notifications_task",
        "schedule": 60.0,
    },
    "purge-access-log": {
        "task": "shanglong.tasks.purge_access_log_task",
        "schedule": crontab(hour=3, minute=17),
    },
    "purge-form-tokens": {
        "task": "shanglong.tasks.purge_form_tokens_task",
        "schedule": crontab(hour=3, minute=27),
    },
    # The grid workers' visit reminders and the branch secretaries' overdue summaries.
    "visit-reminders": {
        "task": "grids.tasks.send_visit_reminders_task",
        "schedule": crontab(hour=7, minute=30),
    },
    # 帮教期满: released prisoners past their five years move to the lower level, before the
    # morning's reminders are computed.
    "end-aftercare-periods": {
        "task": "grids.tasks.end_aftercare_periods_task",
        "schedule": crontab(hour=2, minute=47),
    },
}

# --- Auth ----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# After this many failed logins for one account or one address within the window, wait.
LOGIN_FAILURE_LIMIT = 5
LOGIN_FAILURE_WINDOW_MINUTES = 15
ACCESS_LOG_RETENTION_DAYS = max(180, int(os.environ.get("ACCESS_LOG_RETENTION_DAYS", "180")))
# A create form's one-time token is remembered this long (shanglong.form_tokens.creates_once).
FORM_TOKEN_DAYS = 7

if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# --- Internationalisation ------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files and media ----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
WHITENOISE_USE_FINDERS = DEBUG or TESTING
if DEBUG or TESTING:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Media is never served from a public URL: see shanglong.views.serve_attachment.
MEDIA_URL = "/protected-media/"

_static_backend = (
    "django.contrib.staticfiles.storage.StaticFilesStorage"
    if DEBUG or TESTING
    else "whitenoise.storage.CompressedManifestStaticFilesStorage"
)
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": _static_backend},
}
if os.environ.get("MEDIA_S3_BUCKET"):
    # S3-compatible storage (django-storages must then be installed; see README, Production).
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["MEDIA_S3_BUCKET"],
            "endpoint_url": os.environ.get("MEDIA_S3_ENDPOINT_URL"),
            "access_key": os.environ.get("MEDIA_S3_ACCESS_KEY"),
            "secret_key": os.environ.get("MEDIA_S3_SECRET_KEY"),
            "default_acl": "private",
            "querystring_auth": True,
        },
    }

UPLOAD_MAX_BYTES = int(os.environ.get("UPLOAD_MAX_BYTES", str(10 * 1024 * 1024)))
UPLOAD_IMAGE_MAX_SIDE = 2048
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# A body over it (files not counted) is Django's 400 page, and on the API a JSON 413
# (shanglong.api_auth.oversized_request_response, documented by shanglong.openapi).
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Security ------------------------------------------------------------------------------
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:", *env_list("MAP_TILE_ORIGINS")],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 12
# Reverse proxies in front of the portal that append to X-Forwarded-For: the client address of
# the access log and of the login throttle is read that many entries from the right (0: REMOTE_ADDR).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # The preload flag only consents to the browsers' preload list (check --deploy asks for it);
    # listing still needs a manual submission of the registrable domain.
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- Email and errors ----------------------------------------------------------------------
_mail_backend = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
MAILERS = {
    "default": {
        "BACKEND": _mail_backend,
        "OPTIONS": (
            {
                "host": os.environ.get("EMAIL_HOST", "localhost"),
                "port": int(os.environ.get("EMAIL_PORT", "25")),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", default=False),
            }
            if _mail_backend.endswith("smtp.EmailBackend")
            else {}
        ),
    }
}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "portal@shanglong.example")
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
ADMINS = [tuple(item.split(":", 1)) for item in env_list("ADMINS")]  # "Name:mail@x,Other:b@y"

# Notification channels: dotted paths to shanglong.notifications.Channel subclasses.
NOTIFICATION_CHANNELS = env_list(
    "NOTIFICATION_CHANNELS",
    "shanglong.notifications.EmailChannel,shanglong.notifications.LoggingSmsChannel",
)

# --- Logging: JSON lines on stdout in production, errors mailed to ADMINS ------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "shanglong.logs.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "filters": {"require_debug_false": {"()": "django.utils.log.RequireDebugFalse"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "plain" if DEBUG else "json",
        },
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false"],
        },
    },
    "root": {"handlers": ["stdout"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"handlers": ["stdout", "mail_admins"], "level": "ERROR", "propagate": False},
        "django.security": {"handlers": ["stdout", "mail_admins"], "level": "ERROR", "propagate": False},
    },
}

# --- API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "shanglong.api_auth.BearerTokenAuthentication",
    ],
    # Missing or refused credentials are 401 with a Bearer challenge (DRF would say 403).
    "EXCEPTION_HANDLER": "shanglong.api_auth.api_exception_handler",
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # drf-spectacular plus the error answers of every operation (shanglong.openapi).
    "DEFAULT_SCHEMA_CLASS": "shanglong.openapi.ShanglongAutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        # DRF's own, failing open when the cache is unreachable (shanglong.throttling).
        "shanglong.throttling.AnonRateThrottle",
        "shanglong.throttling.UserRateThrottle",
    ],
    # api_token_create: POST /api/v1/tokens/ (shanglong.api.ApiTokenCreateThrottle).
    "DEFAULT_THROTTLE_RATES": {"anon": "60/min", "user": "600/min", "api_token_create": "10/hour"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Shanglong community governance portal API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Tags and operation ids from the resource (departments_list), not from "v1".
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Separate request and response components, so read-only fields are not asked for.
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets whose field names (kind, level...) other models use too.
    "ENUM_NAME_OVERRIDES": {
        "GroupKindEnum": "grids.models.groups.GroupKind",
        "LevelEnum": "grids.models.groups.Level",
        "RegistrationStatusEnum": "grids.models.people.RegistrationStatus",
        "RelationEnum": "grids.models.people.Relation",
        "IdentityDocumentTypeEnum": "shanglong.validators.IdentityDocumentType",
        "GenderEnum": "shanglong.validators.Gender",
        "PartyMemberStatusEnum": "grids.models.party.MemberStatus",
        "MobileDirectionEnum": "grids.models.party.MobileDirection",
        "OrganisationalLifeKindEnum": "grids.models.party.LifeKind",
        "AttendanceWayEnum": "grids.models.party.AttendanceWay",
        "ClaimedTaskStatusEnum": "grids.models.party.TaskStatus",
        # The ledger's visit `way` shares its field name with the organisational life's.
        "VisitWayEnum": "grids.models.ledger.VisitWay",
        "LedgerSubjectKindEnum": "grids.models.ledger.SubjectKind",
        "MonthEnum": "grids.models.patrols.MONTH_CHOICES",
        "SiteTypeEnum": "grids.models.patrols.SiteType",
        "PatrolStatusEnum": "grids.models.patrols.PatrolStatus",
        "PatrolOutcomeEnum": "grids.models.patrols.Outcome",
        "FindingStatusEnum": "grids.models.patrols.FindingStatus",
        "UnitItemStatusEnum": "grids.models.cobuilding.ItemStatus",
    },
}

# --- Maps ----------------------------------------------------------------------------------
# The tile layer is a setting: 天地图 with a key in production, none in tests.
MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "")
MAP_TILE_ATTRIBUTION = os.environ.get("MAP_TILE_ATTRIBUTION", "")
LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (37.463, 118.495),
    "DEFAULT_ZOOM": 15,
    # MAP_TILE_URL may name several layers separated by spaces (天地图: vec_w, then its cva_w labels).
    "TILES": [(MAP_TILE_ATTRIBUTION or "tiles", url, {}) for url in MAP_TILE_URL.split()],
    "RESET_VIEW": False,
}
