"""Middleware that makes triggers during a request exclude the sender's socket."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .sender_exclusion import excluding_socket
from .validation import is_socket_id

logger = logging.getLogger(__name__)

HEADER = "X-Socket-ID"


class SocketIdMiddleware:
    """Reads ``X-Socket-ID`` (as sent by pusher-js pages) for the request's duration.

    Anything but a strict socket id (``[0-9]{1,20}.[0-9]{1,20}``) is ignored,
    logged at debug level only since any client can send it: the request
    and the saves it makes still work (an over-long id would otherwise fail
    the outbox insert and roll back the view's transaction); its author
    just receives their own echo.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        socket_id = request.headers.get(HEADER)
        if socket_id and not is_socket_id(socket_id):
            logger.debug("Ignoring malformed %s header on %s", HEADER, request.path)
            socket_id = None
        with excluding_socket(socket_id or None):
            return self.get_response(request)
