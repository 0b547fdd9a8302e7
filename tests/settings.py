"""Django settings for the test suite (unit tests need no server)."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

from pusher_django.db import flushing_engine

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
USE_TZ = True
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "pusher_django",
    "tests.testapp",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "pusher_django.middleware.SocketIdMiddleware",
    "tests.testapp.counting.RequestCounter",
]
ROOT_URLCONF = "tests.urls"
# DATABASE_URL picks the database (postgres://, mysql://, sqlite:///, query options kept);
# by default a SQLite file, since the Celery worker of the integration tests must read
# the same outbox table as the tests.
_OUTPUT = Path(os.environ.get("TEST_OUTPUT_DIR") or Path(__file__).parents[1] / "test-output")
_OUTPUT.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{_OUTPUT / 'tests.sqlite3'}"
    )
}
# TEST_OUTBOX_FLUSH=1: the same database through pusher_django's backend, which writes a
# transaction's outbox rows just before it commits (pusher_django.db).
if os.environ.get("TEST_OUTBOX_FLUSH"):
    DATABASES["default"]["ENGINE"] = flushing_engine(DATABASES["default"]["ENGINE"])
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["OPTIONS"] = {"timeout": 20}
    DATABASES["default"]["TEST"] = {"NAME": str(_OUTPUT / f"test-{os.getpid()}.sqlite3")}
if os.environ.get("TEST_DATABASE_NAME"):  # the worker process joins the test database
    DATABASES["default"]["NAME"] = os.environ["TEST_DATABASE_NAME"]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
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
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
STATIC_URL = "static/"
# pusher-js from npm for the browser tests' pages (served by the live server).
STATICFILES_DIRS = [
    ("pusher-js", str(Path(__file__).parents[1] / "node_modules/pusher-js/dist/web"))
]
PUSHER = {
    "APP_ID": "123",
    "KEY": "unit-key",
    "SECRET": "unit-secret",
    "HOST": "127.0.0.1",
    "PORT": 9,
    "USE_TLS": False,
    "ENCRYPTION_MASTER_KEY_BASE64": "OHRXNUZRTG5pUTFzQlFGd3J3N3Q2VFZFc0paZDEweVk=",
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"pusher_django": {"level": "DEBUG", "handlers": [], "propagate": True}},
}
if os.environ.get("TEST_REQUEST_LOG"):  # the load tests' web server, its 5xx in its log
    MIDDLEWARE.insert(0, "tests.testapp.timing.RequestTiming")
    LOGGING["loggers"] = {
        **LOGGING["loggers"],  # type: ignore[dict-item]
        "django.request": {"level": "ERROR", "handlers": ["console"]},
    }

# Redis database 11 is this suite's broker unless TEST_CELERY_BROKER names another (the
# matrix runs the Celery tests on RabbitMQ too: amqp://guest:guest@127.0.0.1:5672//);
# a test worker reads its own queue.
CELERY_BROKER_URL = os.environ.get("TEST_CELERY_BROKER") or "redis://127.0.0.1:6379/11"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

if os.environ.get("TEST_CACHE_URL"):  # processes that share health counters with the test
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["TEST_CACHE_URL"],
            "KEY_PREFIX": os.environ.get("TEST_CACHE_PREFIX", ""),
        }
    }

if os.environ.get("TEST_PUSHER_URL"):  # inside the Celery worker started by the tests
    PUSHER_URL = os.environ["TEST_PUSHER_URL"]
    PUSHER = {
        "ENCRYPTION_MASTER_KEY_BASE64": PUSHER["ENCRYPTION_MASTER_KEY_BASE64"],
        "TIMEOUT": 2,
        "CELERY": {
            "QUEUE": os.environ.get("TEST_CELERY_QUEUE"),
            "MAX_RETRIES": int(os.environ.get("TEST_CELERY_MAX_RETRIES", "100")),
            "RETRY_BACKOFF": 0.2,
            "RETRY_BACKOFF_MAX": 1.0,
        },
        "OUTBOX": {"LEASE": 3.0, "CLAIM_SIZE": 10},
        "HEALTH": {"HEARTBEAT": float(os.environ.get("TEST_HEARTBEAT", "5"))},
        "LISTENER": {
            "LOCK_URL": os.environ.get("TEST_LOCK_URL"),
            "LOCK_TTL": float(os.environ.get("TEST_LOCK_TTL", "15")),
            "USER_ID": os.environ.get("TEST_LISTENER_ID", "pusher-django-listener"),
        },
    }
