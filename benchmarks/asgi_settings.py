"""The test settings plus one sync-only middleware, which is what SocketIdMiddleware was
before it became async capable: every request to an async view then hops to a thread and
back (benchmarks/async_client.py measures the difference)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from tests.settings import *  # noqa: F403
from tests.settings import MIDDLEWARE


class SyncOnlyMiddleware:
    """Does nothing, synchronously."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)


MIDDLEWARE = [*MIDDLEWARE, "benchmarks.asgi_settings.SyncOnlyMiddleware"]
