"""Optional OpenTelemetry spans around REST calls and outbox deliveries.

With ``opentelemetry-api`` installed (``pip install pusher-django[tracing]``)
the decorated calls open spans through the global tracer provider: an
application that configures the OpenTelemetry SDK sees them nested under its
own request or task spans; one that does not gets the API's no-op tracer.
Without the package a decorated call costs one extra Python call (measured
in ``benchmarks/tracing.py``). Spans carry the HTTP method and the API path
(channel names, user ids), never the signed query, the body or event data.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])


@functools.cache
def _tracer() -> Any:
    try:
        from opentelemetry import trace
    except ImportError:
        return None
    return trace.get_tracer("pusher_django")


def traced_request(func: _F) -> _F:
    """A span ``pusher.rest`` around ``send(self, method, path, ...)`` of a transport."""

    @functools.wraps(func)
    def send(self: Any, method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        tracer = _tracer()
        if tracer is None:
            return func(self, method, path, *args, **kwargs)
        attributes = {"http.request.method": method, "url.path": path}
        with tracer.start_as_current_span("pusher.rest", attributes=attributes):
            return func(self, method, path, *args, **kwargs)

    return send  # type: ignore[return-value]


def traced(name: str) -> Callable[[_F], _F]:
    """A span ``name`` around each call of the decorated function."""

    def decorate(func: _F) -> _F:
        @functools.wraps(func)
        def call(*args: Any, **kwargs: Any) -> Any:
            tracer = _tracer()
            if tracer is None:
                return func(*args, **kwargs)
            with tracer.start_as_current_span(name):
                return func(*args, **kwargs)

        return call  # type: ignore[return-value]

    return decorate
