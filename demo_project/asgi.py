"""ASGI entry point of the demo (``scripts/demo.sh --asgi`` serves it with uvicorn).

Static files (pusher-js, the app's helpers) are served by Django's
``ASGIStaticFilesHandler`` while ``DEBUG`` is on, as ``runserver`` does.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo_project.settings")
django_application = get_asgi_application()
application = ASGIStaticFilesHandler(django_application) if settings.DEBUG else django_application
