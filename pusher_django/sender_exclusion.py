"""The socket id to exclude from events triggered while serving a request.

:class:`~pusher_django.middleware.SocketIdMiddleware` stores the request's
``X-Socket-ID`` here; the client and the broadcasts read it so the sender of
a change does not receive its own echo. A context variable keeps concurrent
requests (threads or asyncio tasks) apart.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

_current: ContextVar[str | None] = ContextVar("pusher_socket_id", default=None)


def current_socket_id() -> str | None:
    """The socket id to exclude now, or ``None``."""
    return _current.get()


def excluded_socket(socket_id: str | None) -> str | None:
    """The socket id an event should skip: the one given, else the current request's."""
    return socket_id or _current.get()


@contextlib.contextmanager
def excluding_socket(socket_id: str | None) -> Iterator[None]:
    """Exclude ``socket_id`` from events triggered inside the block."""
    token = _current.set(socket_id)
    try:
        yield
    finally:
        _current.reset(token)


def include_sender() -> contextlib.AbstractContextManager[None]:
    """Opt out: events triggered inside the block reach the sender too.

    Usable as ``with include_sender():`` or as a decorator.
    """
    return excluding_socket(None)
