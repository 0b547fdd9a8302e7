"""Per-request wall and database time, one JSON line per request, for the load tests.

Installed only when ``TEST_REQUEST_LOG`` names the file (each server process appends
to it); the database time is the sum of the request's queries, measured with
Django's ``execute_wrapper``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse


class RequestTiming:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.path = os.environ["TEST_REQUEST_LOG"]

    def __call__(self, request: HttpRequest) -> HttpResponse:
        spent = [0.0, 0]

        def timed(execute: Callable[..., Any], *args: Any) -> Any:
            start = time.perf_counter()
            try:
                return execute(*args)
            finally:
                spent[0] += time.perf_counter() - start
                spent[1] += 1

        start = time.perf_counter()
        with connection.execute_wrapper(timed):
            response = self.get_response(request)
        line = {
            "path": request.path,
            "status": response.status_code,
            "ms": (time.perf_counter() - start) * 1000,
            "db_ms": spent[0] * 1000,
            "queries": spent[1],
        }
        with open(self.path, "a", encoding="utf-8") as log:
            log.write(json.dumps(line) + "\n")
        return response
