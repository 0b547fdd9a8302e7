"""Middleware that makes triggers during a request exclude the sender's socket."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .exceptions import PusherValidationError
from .sender_exclusion import excluding_socket
from .validation import validate_socket_id

logger = logging.getLogger(__name__)

HEADER = "X-Socket-ID"


class SocketIdMiddleware:
    """Reads ``X-Socket-ID`` (as sent by pusher-js pages) for the request's duration.

    A malformed header is ignored with a warning rather than failing the
    request: the page still works, its author just receives their own echo.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        socket_id = request.headers.get(HEADER)
        if socket_id:
            try:
                validate_socket_id(socket_id)
            except PusherValidationError:
                logger.warning("Ignoring malformed %s header on %s", HEADER, request.path)
                socket_id = None
        with excluding_socket(socket_id or None):
            return self.get_response(request)
