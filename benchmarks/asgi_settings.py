"""The test settings without the two sync-only middleware (SocketIdMiddleware, the test's
request counter): what an async view costs once nothing forces a thread hop."""

from __future__ import annotations

from tests.settings import *  # noqa: F403
from tests.settings import MIDDLEWARE

MIDDLEWARE = [
    name
    for name in MIDDLEWARE
    if name
    not in ("pusher_django.middleware.SocketIdMiddleware", "tests.testapp.counting.RequestCounter")
]
