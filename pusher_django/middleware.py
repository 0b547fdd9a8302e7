"""Middleware that makes triggers during a request exclude the sender's socket."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
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
    just receives their own echo. Sync and async capable, so that under ASGI
    an async view is reached without a hop to a thread and back.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        if self.is_async:
            return self._acall(request)
        with excluding_socket(_socket_id(request)):
            response: HttpResponse = self.get_response(request)
            return response

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        with excluding_socket(_socket_id(request)):
            response: HttpResponse = await self.get_response(request)
            return response


def _socket_id(request: HttpRequest) -> str | None:
    socket_id = request.headers.get(HEADER)
    if socket_id and not is_socket_id(socket_id):
        logger.debug("Ignoring malformed %s header on %s", HEADER, request.path)
        return None
    return socket_id or None
