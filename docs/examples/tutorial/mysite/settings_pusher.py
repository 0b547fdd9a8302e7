# --- pusher_django (appended to the settings.py that startproject wrote) ---
import os

INSTALLED_APPS += ["pusher_django", "board"]
MIDDLEWARE += ["pusher_django.middleware.SocketIdMiddleware"]

# pusher-js, installed by npm, served as static files
STATICFILES_DIRS = [("pusher-js", BASE_DIR / "node_modules" / "pusher-js" / "dist" / "web")]

# The credentials come from the environment variable PUSHER_URL (step 3); this filter keeps
# its secret out of Django's error pages and mails (manage.py check asks for it).
DEFAULT_EXCEPTION_REPORTER_FILTER = "pusher_django.reporting.SafeExceptionReporterFilter"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
