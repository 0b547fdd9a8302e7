"""Counts the requests the test server answers, by path, for tests that promise a number."""

from __future__ import annotations

import threading
from collections import Counter

from django.http import HttpRequest
from django.utils.deprecation import MiddlewareMixin

_lock = threading.Lock()
requests: Counter[str] = Counter()


def count(path: str) -> int:
    with _lock:
        return requests[path]


class RequestCounter(MiddlewareMixin):
    """Sync and async capable (``MiddlewareMixin``), so it adds no thread hop under ASGI."""

    def process_request(self, request: HttpRequest) -> None:
        with _lock:
            requests[request.path] += 1
