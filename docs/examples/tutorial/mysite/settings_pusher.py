# --- pusher_django (appended to the settings.py that startproject wrote) ---
import os

INSTALLED_APPS += ["pusher_django", "board"]
MIDDLEWARE += ["pusher_django.middleware.SocketIdMiddleware"]

# Django's SQLite backend with pusher_django's outbox writing in front: a transaction's
# events are written in one INSERT, just before it commits (.postgresql and .mysql too).
DATABASES["default"]["ENGINE"] = "pusher_django.db.sqlite3"

# pusher-js, installed by npm, served as static files
STATICFILES_DIRS = [("pusher-js", BASE_DIR / "node_modules" / "pusher-js" / "dist" / "web")]

# The credentials come from the environment variable PUSHER_URL (step 3); this filter keeps
# its secret out of Django's error pages and mails (manage.py check asks for it).
DEFAULT_EXCEPTION_REPORTER_FILTER = "pusher_django.reporting.SafeExceptionReporterFilter"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
