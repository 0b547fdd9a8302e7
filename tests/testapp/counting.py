"""Counts the requests the test server answers, by path, for tests that promise a number."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

_lock = threading.Lock()
requests: Counter[str] = Counter()


def count(path: str) -> int:
    with _lock:
        return requests[path]


class RequestCounter:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with _lock:
            requests[request.path] += 1
        return self.get_response(request)
