"""Yimi's one settings module: everything a deployment changes comes from the environment.

Every variable is listed, with its default, in ``.env.example`` and in the README.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent

env = environ.Env()
if Path(".env").is_file() and not os.environ.get("YIMI_IGNORE_DOTENV"):
    environ.Env.read_env(".env")

# --- where data lives ------------------------------------------------------------------------
_xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
DATA_DIR = Path(env.str("YIMI_DATA_DIR", default=str(Path(_xdg) / "yimi"))).expanduser().resolve()
CACHE_DIR = DATA_DIR / "cache"
MEDIA_ROOT = DATA_DIR / "media"
STATIC_ROOT = DATA_DIR / "static"
for _d in (DATA_DIR, CACHE_DIR, MEDIA_ROOT, STATIC_ROOT):
    _d.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept (0600) in DATA_DIR."""
    key = env.str("SECRET_KEY", default="")
    if key:
        return key
    path = DATA_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(50)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


SECRET_KEY = _secret_key()
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "yimi.core",
    "yimi.places",
    "yimi.access",
    "yimi.care",
    "yimi.voice",
    "yimi.practices",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "yimi.core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "yimi.urls"
WSGI_APPLICATION = "yimi.wsgi.application"

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
                "yimi.core.context_processors.yimi",
                "yimi.care.context_processors.care",
            ],
        },
    },
]

# --- database: an SQLite file in DATA_DIR (WAL mode) unless DATABASE_URL says otherwise -------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'yimi.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # WAL lets the map keep reading while an import writes; IMMEDIATE avoids
            # "database is locked" upgrades from read to write transactions.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "places:map"
LOGOUT_REDIRECT_URL = "places:map"

# Login lockout (django-axes): after YIMI_LOGIN_FAILURE_LIMIT failures for one user name from
# one address, that pair is locked out for YIMI_LOGIN_LOCKOUT_MINUTES.
AXES_FAILURE_LIMIT = env.int("YIMI_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("YIMI_LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "core/locked_out.html"
AXES_VERBOSE = False

# --- language: Chinese first, English second ---------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- static and media: served by Yimi itself, nothing from a CDN --------------------------------
STATIC_URL = "static/"
MEDIA_URL = "media/"


def _leaflet_static() -> Path:
    # django-leaflet ships Leaflet's own files; putting "leaflet" in INSTALLED_APPS would make
    # django.setup() import GeoDjango and fail without GDAL, so only its static folder is used.
    import leaflet

    return Path(leaflet.__file__).resolve().parent / "static"


STATICFILES_DIRS = [BASE_DIR / "static", _leaflet_static()]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- background work (imports, analyses, reports): Django's tasks framework (django-tasks) --------
# "database" keeps the queue in Yimi's own database; `yimi serve` runs a worker beside the web
# server (`yimi db_worker` runs one alone). "immediate" runs tasks in the request (tests, debugging).
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[env.str("YIMI_TASKS", default="database")]}}

# --- the map's basemap ---------------------------------------------------------------------------
# "none": draw the city's own imported streets, parks and water (works offline, on an intranet);
# "osm": OpenStreetMap's tile server; "tianditu": 天地图 (needs YIMI_TIANDITU_KEY);
# "custom": YIMI_BASEMAP_URL, an XYZ template such as a city's own tile server.
YIMI_BASEMAP = env.str("YIMI_BASEMAP", default="none")
YIMI_BASEMAP_URL = env.str("YIMI_BASEMAP_URL", default="")
YIMI_BASEMAP_ATTRIBUTION = env.str("YIMI_BASEMAP_ATTRIBUTION", default="")
YIMI_TIANDITU_KEY = env.str("YIMI_TIANDITU_KEY", default="")
YIMI_MAP_CENTER = env.list("YIMI_MAP_CENTER", cast=float, default=[])  # lon, lat
YIMI_WALK_SPEED_M_PER_MIN = env.float("YIMI_WALK_SPEED_M_PER_MIN", default=60.0)
YIMI_NEARBY_MAX_RADIUS_M = env.int("YIMI_NEARBY_MAX_RADIUS_M", default=5000)

# --- children's personal data (care) ---------------------------------------------------------------
# Field-encryption keys (Fernet, newest first, comma-separated) and the matching (keyed-hash) key.
# When unset, keys are read from (or generated once into) YIMI_KEY_DIR, which must not be inside
# YIMI_DATA_DIR: a backup of the data must not carry the key that protects it.
_xdg_config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
YIMI_KEY_DIR = Path(env.str("YIMI_KEY_DIR", default=str(Path(_xdg_config) / "yimi"))).expanduser()
YIMI_FIELD_KEYS = env.str("YIMI_FIELD_KEYS", default="")
YIMI_HASH_KEY = env.str("YIMI_HASH_KEY", default="")
# Days between visits by risk level (GB/T-free local practice: high risk monthly).
YIMI_CARE_VISIT_DAYS = env.dict(
    "YIMI_CARE_VISIT_DAYS", cast={"value": int}, default={"high": 30, "medium": 60, "low": 90}
)
# Closed (结案/转出) records are anonymised this many days after closing (`yimi care-retention`).
YIMI_CARE_RETENTION_DAYS = env.int("YIMI_CARE_RETENTION_DAYS", default=5 * 365)

# --- children's voice (the mailbox and its handling) ----------------------------------------------
# A folder with a city's own copies of the text rules (pii.yaml, screening.yaml, triage.yaml,
# routing.yaml; each missing file falls back to the shipped one), or one file per rule set.
YIMI_VOICE_RULES_DIR = env.str("YIMI_VOICE_RULES_DIR", default="")
YIMI_VOICE_PII_RULES = env.str("YIMI_VOICE_PII_RULES", default="")
YIMI_VOICE_SCREENING_RULES = env.str("YIMI_VOICE_SCREENING_RULES", default="")
YIMI_VOICE_TRIAGE_RULES = env.str("YIMI_VOICE_TRIAGE_RULES", default="")
YIMI_VOICE_ROUTING_RULES = env.str("YIMI_VOICE_ROUTING_RULES", default="")
# Days past the handling deadline after which a letter is supervised (督办; 催办 comes after one).
YIMI_VOICE_SUPERVISE_DAYS = env.int("YIMI_VOICE_SUPERVISE_DAYS", default=7)

# --- the practice library's printable report ----------------------------------------------------
# A TrueType/OpenType font with Chinese glyphs for the PDF report ("path" or "path#index" for a
# font collection); empty: the first of Noto Sans CJK SC, WenQuanYi, AR PL found on the system.
YIMI_PDF_FONT = env.str("YIMI_PDF_FONT", default="")

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}
