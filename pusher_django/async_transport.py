"""The async HTTP transport: pooled ``httpx.AsyncClient`` connections, one pool per event loop.

An ``httpx.AsyncClient`` belongs to the event loop that first used it: its
connections are that loop's sockets, and using them from another loop fails
or hangs. A process can have several loops over its life (``asyncio.run`` in
a management command, one per test, the ASGI server's own), so the transport
keeps one client per loop, forgotten with the loop. Answers and failures go
through the same mapping as the sync transport (:func:`~pusher_django.transport.interpret`).

httpx is an optional dependency (``pip install "pusher-django[async]"``): it
is imported when the first coroutine twin runs, never by sync code.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .exceptions import PusherConfigurationError
from .transport import USER_AGENT, Answer, interpret, log_answer, scrubbed, timed_out, unreachable

if TYPE_CHECKING:
    import httpx

#: Connections kept open per event loop (the sync ``requests`` pool keeps 10 per host).
MAX_CONNECTIONS = 100


def _httpx() -> ModuleType:
    try:
        import httpx
    except ImportError as err:
        raise PusherConfigurationError(
            'The async Pusher client needs httpx: pip install "pusher-django[async]".'
        ) from err
    return httpx


class AsyncTransport:
    """Sends signed requests from coroutines; safe to share between threads and loops."""

    def __init__(self, base_url: str, timeout: float) -> None:
        self.httpx = _httpx()
        self.base_url = base_url
        self.timeout = timeout
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient]
        self._clients = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def client(self) -> httpx.AsyncClient:
        """The running loop's pooled client (created on first use)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            client = self._clients.get(loop)
            if client is None or client.is_closed:
                client = self._clients[loop] = self.httpx.AsyncClient(
                    base_url=self.base_url,
                    timeout=self.timeout,
                    headers={"User-Agent": USER_AGENT},
                    limits=self.httpx.Limits(
                        max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS
                    ),
                )
        return client

    async def aclose(self) -> None:
        """Close the running loop's connections (the other loops' close with their loop)."""
        with self._lock:
            client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    def forget(self) -> None:
        """Drop every pool without awaiting (sync code: a settings change, a fork)."""
        with self._lock:
            self._clients.clear()

    async def send(
        self, method: str, path: str, query: dict[str, str], body: bytes | None = None
    ) -> Any:
        httpx = self.httpx
        headers = {"Content-Type": "application/json"} if body is not None else {}
        started = time.monotonic()
        try:
            response = await self.client().request(
                method, path, params=query, content=body, headers=headers
            )
        except httpx.TimeoutException as err:
            raise timed_out(method, path, self.timeout) from scrubbed(err)
        except httpx.HTTPError as err:
            raise unreachable(method, path, err) from scrubbed(err)
        log_answer(method, path, response.status_code, started)
        answer = Answer(
            response.status_code, response.reason_phrase, response.headers, response.content
        )
        return interpret(method, path, answer)
