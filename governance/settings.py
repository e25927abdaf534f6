"""One settings module, read from environment variables (DESIGN.md section 3).

With no variables set this is the *embedded default*: SQLite in ``var/``, Celery tasks run eagerly,
DEBUG on, a generated development secret. Setting ``DATABASE_URL`` and ``REDIS_URL`` switches to
PostgreSQL and Redis for real. ``DEBUG=0`` is production and refuses to start without ``SECRET_KEY``,
``FIELD_ENCRYPTION_KEY`` and ``ALLOWED_HOSTS``. A value that cannot be read stops the start with a
ConfigError naming the variable and the form it takes (governance/env.py).
"""

from __future__ import annotations

import importlib.util
import os
import secrets
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils.translation import gettext_lazy as _

from governance.env import (
    ConfigError,
    check_redis_url,
    env_bool,
    env_choice,
    env_clock_range,
    env_int,
    env_list,
    env_month_start,
    env_networks,
    env_optional_int,
    env_origins,
    env_pattern,
    env_pg_memory,
    env_str,
    parse_database_url,
    tile_origins,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", True)


def _dev_secret() -> str:
    """A secret generated once per checkout and kept in var/, so dev sessions survive restarts."""
    path = VAR_DIR / "dev_secret_key"
    if not path.exists():
        # Processes starting at once (``pytest -n``, web and worker) keep whichever key was written
        # first, whole: written aside, then linked in place, which fails if another got there first.
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        aside = VAR_DIR / f".dev_secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        aside.write_text(secrets.token_urlsafe(50))
        try:
            os.link(aside, path)
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links: a plain rename, last one wins
            aside.replace(path)
        finally:
            aside.unlink(missing_ok=True)
    return path.read_text().strip()


SECRET_KEY = env_str("SECRET_KEY")
FIELD_ENCRYPTION_KEY = env_str("FIELD_ENCRYPTION_KEY")
if not DEBUG:
    if not SECRET_KEY:
        raise ConfigError("SECRET_KEY must be set when DEBUG is off")
    if not FIELD_ENCRYPTION_KEY:
        raise ConfigError("FIELD_ENCRYPTION_KEY must be set when DEBUG is off")
SECRET_KEY = SECRET_KEY or _dev_secret()
# Development only: personal data in a dev database is encrypted with a fixed, publicly known key.
DEV_FIELD_ENCRYPTION_KEY = (
    "development-only-field-key-do-not-use-in-production"  # manage.py check --deploy refuses it
)
FIELD_ENCRYPTION_KEY = FIELD_ENCRYPTION_KEY or DEV_FIELD_ENCRYPTION_KEY
# The secret of the keyed hashes of ID numbers and phones (repeat-petition matching). Optional: unset,
# it is derived from the LAST key of FIELD_ENCRYPTION_KEY, which rotation (prepending new keys) never
# changes. It must never change once hashes are stored, so set it (to that last key) before retiring it.
FIELD_HASH_KEY = env_str("FIELD_HASH_KEY", "")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
if not ALLOWED_HOSTS:
    # Django would start and answer every request but /healthz with 400 Bad Request.
    raise ConfigError(
        "ALLOWED_HOSTS must be set when DEBUG is off: the comma-separated host names the site is "
        "reached by, such as grid.example.gov.cn"
    )
CSRF_TRUSTED_ORIGINS = env_origins("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "governance.apps.AdminConfig",  # Django's admin, its change log named apart from the index
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "governance.apps.AxesConfig",
    "csp",
    # By path: governance/apps.py has other AppConfigs too, and the bare label fell back to a plain
    # one, so the admin said "Governance" in every language.
    "governance.apps.GovernanceConfig",
    # After governance: its drf_create_token (tokens stored as digests) replaces DRF's command.
    "rest_framework.authtoken",
    "grids",
    "mediation",
    "petitions",
    "dashboards",
    # Django's own widget templates, for the form renderer below.
    "django.forms",
]

MIDDLEWARE = [
    # First: probes of /healthz use the container's address over plain HTTP (see the class).
    "governance.middleware.HealthCheckMiddleware",
    # Second: every log line of the request, its "Internal Server Error" included, is written inside it.
    "governance.middleware.PersonalDataLogScopeMiddleware",
    # Before SecurityMiddleware: HTTPS or not by the proxy's word, from the proxy only (see the class).
    "governance.middleware.TrustedProxySchemeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files straight from gunicorn (compressed, far-future cached): no extra web server
    # is needed on an intranet host, and the compose file stays db/redis/web/worker/beat.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "governance.middleware.RejectNullCharactersMiddleware",
    "governance.middleware.RequestSizeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Django's, but an API path without its final slash is a 308 (method and body kept), in JSON.
    "governance.middleware.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A temporary password from an administrator: its user changes it before anything else.
    "governance.middleware.PasswordChangeRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "governance.middleware.PermissionsPolicyMiddleware",
    "governance.middleware.NoStoreMiddleware",
    # Axes last, as its documentation asks: it inspects the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "governance.urls"
WSGI_APPLICATION = "governance.wsgi.application"
ASGI_APPLICATION = "governance.asgi.application"
AUTH_USER_MODEL = "governance.User"

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
                "governance.context_processors.navigation",
            ],
        },
    },
]

# Widgets are drawn through TEMPLATES, so templates/django/forms/ overrides Django's: option labels
# start with a capital there (templates/django/forms/widgets/select_option.html).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": parse_database_url(DATABASE_URL)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(VAR_DIR / "db.sqlite3")}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A covering index's INCLUDE columns (mediation.DisputeCase) are PostgreSQL's speed-up; SQLite
    # builds the index on its key columns, which is all the demo needs. Its warning (models.W040) was
    # the first thing `make run` printed, with nothing for a newcomer to do about it.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend, but the username regardless of case (import_users matches it so): governance.backends.
    "governance.backends.CaseInsensitiveModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "governance-login"
LOGIN_REDIRECT_URL = "governance-home"
LOGOUT_REDIRECT_URL = "governance-login"

# Lockout after repeated failed logins (pages and the token endpoint alike).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Failures counted by the username lower-cased, as the login matches it regardless of case.
AXES_USERNAME_CALLABLE = "governance.backends.axes_username"
# The client's address as the access log takes it: behind the TLS proxy REMOTE_ADDR is the proxy's
# for everyone, and five wrong passwords from anywhere locked the account for every one of its users.
AXES_CLIENT_IP_CALLABLE = "governance.services.client_ip"
AXES_RESET_ON_SUCCESS = True
# Every failed login kept (admin: sign-in lockouts, access failures), not only the lockout's counters,
# which a successful login deletes: guessing that ended in the right password left no trace. Up to
# axes' 1000 rows a username, the oldest dropped first.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# API tokens: after this many failed token authentications from one client address within the
# window, its token requests are answered 429 until the window ends (governance.rest; counted in
# the cache, so Redis in the full stack).
TOKEN_AUTH_FAILURE_LIMIT = env_int("TOKEN_AUTH_FAILURE_LIMIT", 20, minimum=1)
TOKEN_AUTH_FAILURE_WINDOW = timedelta(minutes=env_int("TOKEN_AUTH_FAILURE_MINUTES", 15, minimum=1))

# Sessions expire after a working day of inactivity and when the browser closes.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# No script reads the cookie: app.js and report.js send the token from the page (body data-csrf),
# the API docs from their template. Out of reach of scripts, it is one thing fewer to steal.
CSRF_COOKIE_HTTPONLY = True
SECURE_COOKIES = env_bool("SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
LANGUAGE_COOKIE_SECURE = SECURE_COOKIES
# The language switch is a form that posts (templates/base.html); no script reads the cookie. Lax:
# another site's page cannot choose the language of the next page a visitor opens here.
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# The browser features a page may use (governance.middleware.PermissionsPolicyMiddleware): the
# location for the report's GPS pin and the camera for its photos, from this origin only; none other.
PERMISSIONS_POLICY = {
    "camera": ["self"],
    "geolocation": ["self"],
    **{
        feature: []
        for feature in [
            "accelerometer", "autoplay", "display-capture", "gyroscope", "magnetometer",
            "microphone", "midi", "payment", "usb",
        ]
    },
}  # fmt: skip
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto and appends to X-Forwarded-For (the
# access log of personal data records the client's address from it: governance.services.client_ip).
# Both headers are believed from FORWARDED_ALLOW_IPS only: X-Forwarded-Proto by
# governance.middleware.TrustedProxySchemeMiddleware, not SECURE_PROXY_SSL_HEADER (left unset), which
# Django believes from any peer.
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
# The proxy's addresses (or networks): X-Forwarded-For is believed only from these peers, by the
# application (client_ip: the access log of personal data, the login lockout) and by gunicorn's
# access log, which reads the same variable. gunicorn's own default; docker-compose sets the gateway
# of its network, where a proxy on the host comes from.
FORWARDED_ALLOW_IPS = env_networks("FORWARDED_ALLOW_IPS", ["127.0.0.1", "::1"])

# Content Security Policy: no inline script anywhere; every asset is served from this origin.
# MAP_TILE_URL (below) is the one configurable external source, for map tiles on an intranet server.
MAP_TILE_URL = env_str("MAP_TILE_URL", "")
MAP_TILE_ATTRIBUTION = env_str("MAP_TILE_ATTRIBUTION", "")
_tile_origin = tile_origins(MAP_TILE_URL)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:", *_tile_origin],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

LANGUAGE_CODE = env_choice("LANGUAGE_CODE", "zh-hans", ["zh-hans", "en"])
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
# The project catalogue first (makemessages rewrites it), then the hand-kept translations of the
# third-party apps that ship no Chinese (how it is kept: the header of its .po file).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale" / "vendor"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
try:
    ZoneInfo(TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError):
    raise ConfigError(
        f"TIME_ZONE must be an IANA time zone such as Asia/Shanghai, got {TIME_ZONE!r}"
    ) from None
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
NODE_MODULES = BASE_DIR / "node_modules"
# Front-end packages come from npm (package.json + lockfile) and are served from this origin.
# Leaflet comes from the django-leaflet package. Its static files are served directly rather than by
# listing "leaflet" in INSTALLED_APPS: its admin module imports django.contrib.gis, which needs the
# GDAL C library, and our maps need neither GeoDjango nor its template tags (they emit inline script,
# which the Content Security Policy forbids). Our own static/js/map.js drives Leaflet.
_LEAFLET_STATIC = Path(importlib.util.find_spec("leaflet").origin).parent / "static"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    _LEAFLET_STATIC,
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/echarts", NODE_MODULES / "echarts" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG  # development: serve straight from the app and package folders
WHITENOISE_AUTOREFRESH = DEBUG
# Uploaded photos are never served from MEDIA_URL directly: views check scope and stream them.
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# The largest request body (six 10 MB photos in one multipart request fit): Django's own check leaves
# out the files of a multipart body, so governance.middleware.RequestSizeMiddleware holds every
# request to it by its Content-Length, before the body is read.
DATA_UPLOAD_MAX_MEMORY_SIZE = 80 * 1024 * 1024

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    REDIS_URL = check_redis_url(REDIS_URL)
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: Redis as broker; with no REDIS_URL tasks run eagerly in-process (embedded default).
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The soft limit leaves a task a minute to give up cleanly (a rollup rolls back): at least two minutes.
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 3 * 3600, minimum=120)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
# Days a sent outbox message is kept (read in the admin) before the relay deletes it.
OUTBOX_KEEP_DAYS = env_int("OUTBOX_KEEP_DAYS", 30, minimum=1)
# Days after a dispute case or petition closed for good that ``manage.py erase_personal_data`` erases
# its people's personal details (docs/architecture.md, "Personal data"). None: never (archive rules
# differ by city); the command erases only when run, and only with --commit.
PERSONAL_DATA_RETENTION_DAYS = env_optional_int("PERSONAL_DATA_RETENTION_DAYS", minimum=1)
# How many people's details one user may reveal (a reveal asked for with a reason, page or API)
# within the window: past it the reveal is refused (429) until the oldest in the window leaves it.
# Every access-log row of the user counts (the printed agreement and repeat matches too, which are
# never refused): an officer may reveal every person of their area, one logged reveal at a time, and
# without a limit could copy out the whole registry (docs/architecture.md, "Personal data").
PERSONAL_DATA_REVEAL_LIMIT = env_int("PERSONAL_DATA_REVEAL_LIMIT", 30, minimum=1)
PERSONAL_DATA_REVEAL_WINDOW = timedelta(minutes=env_int("PERSONAL_DATA_REVEAL_MINUTES", 60, minimum=1))
# A late-acked task is redelivered after the visibility timeout: keep it above the longest run.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_TASK_TIME_LIMIT + 3600,
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
    "max_retries": 1,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

REST_FRAMEWORK = {
    # Token first: an unauthenticated request then gets 401 with "WWW-Authenticate: Token".
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "governance.rest.HashedTokenAuthentication",
        # DRF's, its CSRF refusal translated and the reason logged (governance.rest).
        "governance.rest.CsrfSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "governance.rest.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "governance.schema.AutoSchema",
    "EXCEPTION_HANDLER": "governance.rest.exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "governance.rest.ContentNegotiation",
    # DRF's three, the JSON one answering a body nested too deeply with 400 (governance.rest.JSONParser).
    "DEFAULT_PARSER_CLASSES": [
        "governance.rest.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    # Lazy: worded in the language of the schema's request, as the rest of the schema is.
    "TITLE": _("Grid governance API"),
    "DESCRIPTION": _(
        "Areas, incidents, disputes, petitions and statistics. Authenticate with a token from "
        "POST /api/v1/auth/token/ (header `Authorization: Token <key>`); every list shows only the caller's "
        "area. The guide with examples is docs/api.md in the source tree."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets that share a field name across apps get explicit, stable component names.
    "ENUM_NAME_OVERRIDES": {
        "IncidentStatusEnum": "grids.models.Incident.Status",
        "IncidentKindEnum": "grids.models.Incident.Kind",
        "IncidentLevelEnum": "grids.models.Level",
        "DisputeStatusEnum": "mediation.models.DisputeCase.Status",
        "AreaLevelEnum": "governance.models.Area.Level",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "governance.schema.add_error_responses",
    ],
}

# Whoever dispatched an incident or fed back its handling does not close it (grids.models.duty_conflict).
INCIDENT_SEPARATE_DUTIES = env_bool("INCIDENT_SEPARATE_DUTIES", True)

# Mediation's time limit (人民调解工作若干规定: generally concluded within one month), in calendar
# months from acceptance; an extension with both parties' consent adds as many again.
MEDIATION_TIME_LIMIT_MONTHS = env_int("MEDIATION_TIME_LIMIT_MONTHS", 1, minimum=1)

# A group petition (集体访) is brought by this many people or more (DOMAIN.md: a setting, default 5);
# stored on each petition when it is registered, so a change applies to petitions registered after it.
PETITION_GROUP_MIN_PERSONS = env_int("PETITION_GROUP_MIN_PERSONS", 5, minimum=2)

# Office hours on working days, which the working-hour limits of incidents and petitions count.
WORKING_HOURS = env_clock_range("WORKING_HOURS", ("08:30", "17:30"))

# Surveys (DOMAIN.md "Safety sense and satisfaction"). Which answers count as "safe" / "satisfied"
# (codes, checked by every rollup and import: dashboards.models); the five labels of each scale, top
# to bottom, that a questionnaire export may use instead of the codes (some cities ask 安全 / 比较安全 /
# 一般 / 不太安全 / 不安全: the n-th label is the n-th answer); the minimum sample of a published rate.
SURVEY_SAFE_ANSWERS = tuple(env_list("SURVEY_SAFE_ANSWERS", ["very_safe", "safe", "basically_safe"]))
SURVEY_SATISFIED_ANSWERS = tuple(
    env_list("SURVEY_SATISFIED_ANSWERS", ["satisfied", "fairly_satisfied", "basically_satisfied"])
)
SURVEY_SAFETY_LABELS = tuple(
    env_list("SURVEY_SAFETY_LABELS", ["很安全", "安全", "基本安全", "不太安全", "不安全"])
)
SURVEY_SATISFACTION_LABELS = tuple(
    env_list("SURVEY_SATISFACTION_LABELS", ["满意", "比较满意", "基本满意", "不太满意", "不满意"])
)
SURVEY_MIN_SAMPLE = env_int("SURVEY_MIN_SAMPLE", 30, minimum=1)
# Police preventable-case kinds (可防性案件), codes as the police files name them.
PREVENTABLE_CASE_KINDS = tuple(
    env_list("PREVENTABLE_CASE_KINDS", ["burglary", "home_robbery", "motor_vehicle_theft", "ebike_theft"])
)
# Their Chinese names, code=name, which a case-count import reads as the code (a police export names
# the kinds so); a name of a kind not in PREVENTABLE_CASE_KINDS is not read.
PREVENTABLE_CASE_KIND_LABELS = tuple(
    env_list(
        "PREVENTABLE_CASE_KIND_LABELS",
        [
            "burglary=入室盗窃",
            "home_robbery=入户抢劫",
            "motor_vehicle_theft=盗窃机动车",
            "ebike_theft=盗窃电动自行车",
        ],
    )
)

# Assessment grades: lower bounds of excellent, good and pass (checked as read: dashboards.assessment),
# and what a one-vote veto does: "fail" or "no_excellent".
ASSESSMENT_GRADE_THRESHOLDS = tuple(env_list("ASSESSMENT_GRADE_THRESHOLDS", ["90", "80", "60"]))
ASSESSMENT_VETO_EFFECT = env_str("ASSESSMENT_VETO_EFFECT", "fail")
if ASSESSMENT_VETO_EFFECT not in {"fail", "no_excellent"}:
    raise ConfigError(f"ASSESSMENT_VETO_EFFECT must be fail or no_excellent, got {ASSESSMENT_VETO_EFFECT!r}")

# The rollup's tuning (docs/statistics.md, "Settings that tune the rollup") and the largest import.
# The months the nightly run refreshes; the weekday (0 = Monday .. 6 = Sunday, or "none") its run is a
# full rebuild; the first month with statistics.
ROLLUP_RECENT_MONTHS = env_int("ROLLUP_RECENT_MONTHS", 2, minimum=1)
_full_weekday = env_pattern(
    "ROLLUP_FULL_WEEKDAY", "6", r"[0-6]|(?i:none)", "0 (Monday) to 6 (Sunday) or none"
)
ROLLUP_FULL_WEEKDAY = None if _full_weekday.lower() == "none" else int(_full_weekday)
ROLLUP_FIRST_MONTH = env_month_start("ROLLUP_FIRST_MONTH", "2000-01-01")
# PostgreSQL only: memory for the run's sorts and hashes, index builds and temporary tables, and how
# long a full run waits for the lock that swaps the new table in. Checked here, as PostgreSQL would
# refuse them only at 02:00.
# (The minimums are PostgreSQL's: work_mem 64kB, maintenance_work_mem 1MB, temp_buffers 100 pages.)
ROLLUP_WORK_MEM = env_pg_memory("ROLLUP_WORK_MEM", "256MB", minimum_kb=64)
ROLLUP_MAINTENANCE_WORK_MEM = env_pg_memory("ROLLUP_MAINTENANCE_WORK_MEM", "512MB", minimum_kb=1024)
ROLLUP_TEMP_BUFFERS = env_pg_memory("ROLLUP_TEMP_BUFFERS", "512MB", minimum_kb=800)
ROLLUP_SWAP_LOCK_TIMEOUT = env_pattern(
    "ROLLUP_SWAP_LOCK_TIMEOUT", "5s", r"[0-9]+ ?(ms|s|min)", "a PostgreSQL duration such as 500ms, 5s or 1min"
)
# Rows in one survey or police case-count import (docs/statistics.md, "Data intake").
INTAKE_MAX_ROWS = env_int("INTAKE_MAX_ROWS", 200_000, minimum=1)
# The longest JSON request body parsed (governance.rest.JSONParser; 413 over it): 1 MB, except the
# imports' rows above, 256 bytes a row (a survey row is about 150, pretty-printed about 200).
API_JSON_MAX_BYTES = env_int("API_JSON_MAX_BYTES", 1024 * 1024, minimum=1024)
IMPORT_JSON_MAX_BYTES = env_int("IMPORT_JSON_MAX_BYTES", INTAKE_MAX_ROWS * 256, minimum=1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_personal_data": {"()": "governance.logging.MaskPersonalDataFilter"}},
    "formatters": {
        # gunicorn's shape ("[time] [pid] [LEVEL]") and the logger's name: the bare message left
        # `docker compose logs web` with no way to find the errors, or to tell what wrote a line.
        # With the offset: gunicorn's master writes UTC, the application TIME_ZONE's local time.
        "app": {
            "format": "[{asctime}] [{process}] [{levelname}] {name}: {message}",
            "datefmt": "%Y-%m-%d %H:%M:%S %z",
            "style": "{",
        },
        "server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "app", "filters": ["mask_personal_data"]},
        "server": {
            "class": "logging.StreamHandler",
            "formatter": "server",
            "filters": ["mask_personal_data"],
        },
    },
    # Checked here: logging.config's own "Unable to configure root logger" named no variable.
    "root": {
        "handlers": ["console"],
        "level": env_choice("LOG_LEVEL", "INFO", ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]),
    },
    "loggers": {
        # INFO even under LOG_LEVEL=DEBUG: at DEBUG, django.db.backends logs every statement with its
        # parameters (keyed hashes of ID numbers) and django.template every variable it fails to
        # resolve with the whole context (a reveal's decrypted name and address) in the traceback.
        "django.db.backends": {"level": "INFO"},
        # Django's own defaults give "django" a console handler (when DEBUG) and an AdminEmailHandler,
        # and "django.server" (runserver's request lines) another: none has the mask filter, and the
        # first sees an "Internal Server Error" before the root's filtered handler masks it. Replaced:
        # every record reaches a handler that masks. No e-mailed reports (ADMINS is never set: a
        # report would carry the request and the frames' variables); errors are in the masked log.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["server"], "level": "INFO", "propagate": False},
    },
}
