"""Settings of the demo site.

By default it talks to the local soketi that ``scripts/demo.sh`` starts. Set
``PUSHER_URL`` (or ``PUSHER_APP_ID``/``PUSHER_KEY``/``PUSHER_SECRET``/
``PUSHER_CLUSTER``) to use hosted Pusher instead.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url

from pusher_django.db import flushing_engine

BASE_DIR = Path(__file__).resolve().parent
ROOT_DIR = BASE_DIR.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "demo-only-insecure-key")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "pusher_django",
    "demo_project.chat",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Lets trigger()/broadcasts skip the browser tab that sent X-Socket-ID.
    "pusher_django.middleware.SocketIdMiddleware",
]
ROOT_URLCONF = "demo_project.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],  # the admin's look for the demo (base_site.html)
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
WSGI_APPLICATION = "demo_project.wsgi.application"
# DATABASE_URL (postgres://, mysql://, sqlite:///; query options kept) or a SQLite file.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL")
        or f"sqlite:///{os.environ.get('DEMO_DB', BASE_DIR / 'db.sqlite3')}"
    )
}
# The same database through pusher_django's backend: one outbox INSERT per transaction.
DATABASES["default"]["ENGINE"] = flushing_engine(DATABASES["default"]["ENGINE"])
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The web process, the Celery worker and the relay share the file: wait for locks.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
# Times in the pages and the admin; DEMO_TIME_ZONE picks another (e.g. Europe/Paris).
TIME_ZONE = os.environ.get("DEMO_TIME_ZONE", "UTC")
FORMAT_MODULE_PATH = ["demo_project.formats"]
STATIC_URL = "static/"
# pusher-js comes from npm at set-up time; it is served, never vendored.
STATICFILES_DIRS = [("pusher-js", ROOT_DIR / "node_modules" / "pusher-js" / "dist" / "web")]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

SOKETI_PORT = int(os.environ.get("SOKETI_PORT", "6001"))
PUSHER: dict[str, Any]
if os.environ.get("PUSHER_URL") or os.environ.get("PUSHER_APP_ID"):
    PUSHER = {
        key: value
        for key, value in {
            "APP_ID": os.environ.get("PUSHER_APP_ID"),
            "KEY": os.environ.get("PUSHER_KEY"),
            "SECRET": os.environ.get("PUSHER_SECRET"),
            "CLUSTER": os.environ.get("PUSHER_CLUSTER"),
        }.items()
        if value
    }
else:
    PUSHER = {
        "APP_ID": "100001",
        "KEY": "demo-key",
        "SECRET": "demo-secret",
        "HOST": "127.0.0.1",
        "PORT": SOKETI_PORT,
        "USE_TLS": False,
    }
PUSHER["ENCRYPTION_MASTER_KEY_BASE64"] = os.environ.get(
    "PUSHER_ENCRYPTION_MASTER_KEY_BASE64", "ZGVtby1vbmx5LW1hc3Rlci1rZXktMzItYnl0ZXMhISE="
)

# manage.py pusher_listen joins the seeded rooms' presence and announcement channels.
PUSHER["LISTENER"] = {
    "CHANNELS": [
        f"{kind}-room-{room}" for room in (1, 2) for kind in ("presence", "private-cache")
    ],
    "USER_INFO": {"name": "listener"},
}

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/5")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    # Django's own console handler would print each "Not Found" a second time.
    "loggers": {"django": {"handlers": [], "level": "INFO", "propagate": True}},
}
