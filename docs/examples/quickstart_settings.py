"""The settings of "add it to an existing project" (docs/how-to/existing-project.md)."""

from pusher_django.db import flushing_engine

INSTALLED_APPS = [..., "pusher_django"]
MIDDLEWARE = [..., "pusher_django.middleware.SocketIdMiddleware"]

# After DATABASES: the same database, its outbox written once per transaction.
# django.db.backends.postgresql becomes pusher_django.db.postgresql, and .sqlite3 and
# .mysql alike; any other backend is kept (see "Write the outbox once per transaction").
DATABASES["default"]["ENGINE"] = flushing_engine(DATABASES["default"]["ENGINE"])

PUSHER = {
    "APP_ID": "123456",
    "KEY": "your-key",
    "SECRET": "your-secret",
    "CLUSTER": "eu",
    # openssl rand -base64 32
    "ENCRYPTION_MASTER_KEY_BASE64": "ZGVtby1vbmx5LW1hc3Rlci1rZXktMzItYnl0ZXMhISE=",
}
# or, instead of the credentials, the environment variable
# PUSHER_URL=https://KEY:SECRET@api-eu.pusher.com/apps/123456
CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
