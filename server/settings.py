"""Qiaomen settings: everything that differs between machines comes from the environment.

DATABASE_URL      spatialite:///var/qiaomen.sqlite3 (default) or postgis://user:pass@host/db
CELERY_BROKER_URL empty: tasks run inline (eager); redis://... sends them to workers
SECRET_KEY        required when DJANGO_DEBUG is off
QIAOMEN_PII_KEY   key for phone encryption and ID-number hashing (defaults to one derived from SECRET_KEY)
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("QIAOMEN_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError("SECRET_KEY must be set when DJANGO_DEBUG is off / 关闭调试模式时必须设置 SECRET_KEY")
    SECRET_KEY = "qiaomen-insecure-development-key-change-me"
PII_KEY = os.environ.get("QIAOMEN_PII_KEY", "") or SECRET_KEY

ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework_gis",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "leaflet",
    "server.common",
    "server.territory",
    "server.accounts",
    "server.registry",
    "server.campaigns",
    "server.visits",
    "server.planner",
    "server.sync",
    "server.coverage",
    "server.reports",
    "server.audit",
    "axes",
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Security headers (docs/security.md §6): Content-Security-Policy (django-csp), Permissions-Policy.
    "csp.middleware.CSPMiddleware",
    "server.common.middleware.PermissionsPolicyMiddleware",
    # A database that is down answers 503 database_unavailable with Retry-After, not 500 (docs/faults.md).
    "server.common.health.DatabaseUnavailableMiddleware",
    "server.common.middleware.ApiGZipMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "server.common.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "server.audit.context.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a lock-out of the login form into the lock-out page (status 429).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "server.urls"
LOGIN_URL = "/admin/login/"
WSGI_APPLICATION = "server.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "server" / "templates"],
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

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"spatialite:///{VAR_DIR / 'qiaomen.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"].endswith("spatialite"):
    # Concurrent readers while a worker writes: WAL; wait instead of failing on a busy file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ.get("QIAOMEN_TEST_DB") or None
elif DATABASES["default"]["ENGINE"].endswith("postgis"):
    # Planner costs for SSD storage (PostgreSQL's default 4.0 assumes spinning disks and, at city scale, hashes a
    # whole table where an index lookup of a few hundred rows is 5x faster: docs/benchmarks.md). Empty: the
    # server's own setting (e.g. behind PgBouncer, which refuses the `options` startup parameter).
    _page_cost = os.environ.get("QIAOMEN_PG_RANDOM_PAGE_COST", "1.1")
    if _page_cost:
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = f"-c random_page_cost={float(_page_cost)}"
SPATIALITE_LIBRARY_PATH = os.environ.get("SPATIALITE_LIBRARY_PATH", "mod_spatialite")
# GDAL 3.6 (Debian 12) cannot block file/network access from spatial references; we never parse untrusted
# SRS strings from the network (imports are run by admins on files they chose). See docs/security.md.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]
IS_POSTGIS = DATABASES["default"]["ENGINE"].endswith("postgis")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Accounts (docs/privacy.md "账号安全 accounts"): password policy, login throttling, session and token expiry.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "server.accounts.passwords.UserAttributeSimilarityValidator"},
    {"NAME": "server.accounts.passwords.MinimumLengthValidator",
     "OPTIONS": {"min_length": int(os.environ.get("QIAOMEN_PASSWORD_MIN_LENGTH", "10"))}},
    {"NAME": "server.accounts.passwords.CommonPasswordValidator"},
    {"NAME": "server.accounts.passwords.NumericPasswordValidator"},
    {"NAME": "server.accounts.passwords.CharacterKindsValidator"},
]
AUTHENTICATION_BACKENDS = [
    "server.accounts.throttling.LoginThrottleBackend",  # django-axes: refuses a locked-out username + address
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("QIAOMEN_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = dt.timedelta(minutes=int(os.environ.get("QIAOMEN_LOGIN_COOLOFF_MIN", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/lockout.html"
AXES_CLIENT_IP_CALLABLE = "server.audit.context.client_ip"  # one rule for the client address (audit and lock-out)
AXES_VERBOSE = False
# Behind a reverse proxy that overwrites it: the request header holding the client address (e.g. HTTP_X_REAL_IP).
QIAOMEN_AUDIT_IP_HEADER = os.environ.get("QIAOMEN_AUDIT_IP_HEADER", "")
# Page sessions (admin, planner, reports) end 8 hours after sign-in and when the browser closes.
SESSION_COOKIE_AGE = int(os.environ.get("QIAOMEN_SESSION_HOURS", "8")) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "server" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
WHITENOISE_USE_FINDERS = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "server.sync.auth.DeviceTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "server.common.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Qiaomen 敲门 API",
    "DESCRIPTION": (
        "反诈敲门行动：辖区、网格、住户、走访与同步。"
        "Door-knock campaigns against fraud: territory, grid cells, households, visits, sync."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the drf-spectacular-sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Security headers on every response (docs/security.md §6). Pages load scripts and styles from this server only;
# no inline script runs unless it carries the request's nonce (the admin's map widget, the API docs page).
from csp.constants import NONCE, NONE, SELF  # noqa: E402

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "server.common.csrf.csrf_failure"  # Chinese first; JSON under /api/


def _tile_origin(url: str) -> str:
    """The origin of a Leaflet tile URL template ("https://{s}.tile.example/{z}/{x}/{y}.png" → "https://*.tile.example")."""
    if "://" not in url:
        return ""
    scheme, rest = url.split("://", 1)
    host = rest.split("/", 1)[0]
    return f"{scheme}://" + host.replace("{s}", "*")


# Offline-first map widget: no web tiles unless QIAOMEN_TILE_URL is configured.
QIAOMEN_TILE_URL = os.environ.get("QIAOMEN_TILE_URL", "")
QIAOMEN_TILE_ATTRIBUTION = os.environ.get("QIAOMEN_TILE_ATTRIBUTION", "")
# The base map's datum: "wgs84", or "gcj02" for the Chinese web maps (AMap, Tencent, …); with gcj02 the coverage
# map shifts its WGS-84 cells onto it (docs/coverage-map.md).
QIAOMEN_TILE_CRS = os.environ.get("QIAOMEN_TILE_CRS", "wgs84").lower()
LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (32.30, 118.32),
    "DEFAULT_ZOOM": 9,
    "MIN_ZOOM": 3,
    "MAX_ZOOM": 19,
    "TILES": [(QIAOMEN_TILE_URL and "底图 Base map", QIAOMEN_TILE_URL, QIAOMEN_TILE_ATTRIBUTION)]
    if QIAOMEN_TILE_URL
    else [],
    "RESET_VIEW": False,
    "NO_GLOBALS": False,
}
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        # Leaflet's icons and the favicon are data: URLs; a configured base map adds its tile server.
        "img-src": [SELF, "data:", "blob:", *filter(None, [_tile_origin(QIAOMEN_TILE_URL)])],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "worker-src": [SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# Browser features no page of this server uses (the phones' GPS is the Kivy app's, not a web page's).
QIAOMEN_PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=()"
)

# Celery: eager (inline) unless a broker is configured.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
# The test suite keeps tasks inline even with a broker (CELERY_TASK_ALWAYS_EAGER=1); worker tests switch it off.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", CELERY_BROKER_URL or None)
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Reports (docs/reports.md): how long report files are kept (days) before the nightly prune drops them.
QIAOMEN_REPORTS_KEEP_DAYS = int(os.environ.get("QIAOMEN_REPORTS_KEEP_DAYS", "30"))
QIAOMEN_REPORTS_WEEKLY_KEEP_DAYS = int(os.environ.get("QIAOMEN_REPORTS_WEEKLY_KEEP_DAYS", "730"))

# Retention (docs/privacy.md): the precise GPS of a visit is kept this many days after receipt, then coarsened to a
# grid of QIAOMEN_GPS_COARSEN_DEG degrees (≈100 m) or purged (QIAOMEN_GPS_RETENTION_MODE=purge). 0 days: off.
QIAOMEN_GPS_RETENTION_DAYS = int(os.environ.get("QIAOMEN_GPS_RETENTION_DAYS", "180"))
QIAOMEN_GPS_RETENTION_MODE = os.environ.get("QIAOMEN_GPS_RETENTION_MODE", "coarsen")
QIAOMEN_GPS_COARSEN_DEG = float(os.environ.get("QIAOMEN_GPS_COARSEN_DEG", "0.001"))

# Territory of the deployment: coordinates outside this box are refused at import (lon_min, lat_min, lon_max, lat_max).
QIAOMEN_CITY_BBOX = tuple(
    float(v) for v in os.environ.get("QIAOMEN_CITY_BBOX", "117.0,31.8,119.3,33.3").split(",")
)
# Cells may overlap their neighbours by this much (square metres) before the importer reports it.
QIAOMEN_OVERLAP_TOLERANCE_M2 = float(os.environ.get("QIAOMEN_OVERLAP_TOLERANCE_M2", "25"))

# Sync (docs/sync-protocol.md): device tokens (a token ends QIAOMEN_TOKEN_DAYS after sign-in), request sizes, batches.
QIAOMEN_TOKEN_DAYS = int(os.environ.get("QIAOMEN_TOKEN_DAYS", "30"))
QIAOMEN_SYNC_MAX_BODY = int(os.environ.get("QIAOMEN_SYNC_MAX_BODY", str(10 * 1024 * 1024)))
QIAOMEN_SYNC_MAX_ITEMS = int(os.environ.get("QIAOMEN_SYNC_MAX_ITEMS", "1000"))
QIAOMEN_SYNC_PAGE_LIMIT = int(os.environ.get("QIAOMEN_SYNC_PAGE_LIMIT", "5000"))
QIAOMEN_SYNC_SNAPSHOTS_KEPT = int(os.environ.get("QIAOMEN_SYNC_SNAPSHOTS_KEPT", "5"))
# The push view answers 413 above QIAOMEN_SYNC_MAX_BODY; request.body reads elsewhere stop at the same size.
DATA_UPLOAD_MAX_MEMORY_SIZE = QIAOMEN_SYNC_MAX_BODY

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Periodic Celery tasks (celery beat: `celery -A server beat`). A plain dict: each app adds its own entries.
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE = {
    # Coverage: rebuild every figure from the raw visits at 03:15 Asia/Shanghai (docs/coverage.md).
    "coverage-recompute-nightly": {"task": "coverage.coverage_recompute", "schedule": crontab(hour=3, minute=15),
                                   "options": {"expires": 3600}},
}
# Visits and coverage: the safety nets for the queue drains that pushes schedule (a lost task is caught in a minute).
CELERY_BEAT_SCHEDULE["visits-states-drain"] = {"task": "visits.household_round_states_drain", "schedule": 60.0,
                                               "options": {"expires": 55}}
CELERY_BEAT_SCHEDULE["coverage-dirty-refresh"] = {"task": "coverage.coverage_dirty_refresh", "schedule": 60.0,
                                                  "options": {"expires": 55}}
# Reports (docs/reports.md): the weekly township reports on Monday mornings, expired report files dropped nightly.
CELERY_BEAT_SCHEDULE["reports-weekly"] = {
    "task": "reports.reports_weekly_create", "schedule": crontab(day_of_week="mon", hour=6, minute=0)}
CELERY_BEAT_SCHEDULE["reports-prune"] = {"task": "reports.reports_prune", "schedule": crontab(hour=3, minute=45)}
# Retention: old visits' GPS coarsened (or purged) nightly at 04:05 (server/visits/retention.py).
CELERY_BEAT_SCHEDULE["visits-gps-retention"] = {"task": "visits.visits_gps_retention",
                                                "schedule": crontab(hour=4, minute=5)}
