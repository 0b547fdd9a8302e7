"""The outbox written once per transaction (docs/how-to/database-backend.md)."""

import dj_database_url

DATABASES = {
    "default": {
        "ENGINE": "pusher_django.db.postgresql",  # or pusher_django.db.sqlite3, .mysql
        "NAME": "app",
        "USER": "app",
        "HOST": "127.0.0.1",
    }
}

# From a URL: parse it, then reach the same database through pusher_django's backend.
DATABASES = {"default": dj_database_url.parse("postgres://app@127.0.0.1:5432/app")}
DATABASES["default"]["ENGINE"] = "pusher_django.db.postgresql"
