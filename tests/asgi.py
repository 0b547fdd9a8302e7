"""ASGI entry point of the test project (uvicorn in the ASGI tests and the async benchmark)."""

from __future__ import annotations

import os

from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
application = ASGIStaticFilesHandler(get_asgi_application())

from tests import celery_app  # noqa: E402, F401 - as a project's __init__ loads its Celery app
