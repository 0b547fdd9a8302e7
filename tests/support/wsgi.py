"""The test project as a WSGI application, for a multi-process server (gunicorn).

The URLconf (and so every view module) is imported here, so that with
``--preload`` the workers fork ready instead of each importing on its first
request of a storm.
"""

from __future__ import annotations

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

application = get_wsgi_application()
get_resolver().url_patterns  # noqa: B018 - imported for its side effect
