"""A scripted Pusher-protocol websocket server, for what soketi cannot produce on demand.

Each test gives an async ``script(conn)`` that plays one connection: it can
send any frame (``subscription_count``, a ping without data, garbage), close
with any code, or go silent. Runs its own event loop in a thread.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.server import ServerConnection, serve

from .processes import free_port

Script = Callable[["Conn"], Awaitable[None]]


class Conn:
    """One accepted connection, with helpers that speak the Pusher protocol."""

    def __init__(self, ws: ServerConnection, number: int, socket_id: str) -> None:
        self.ws = ws
        self.number = number
        self.socket_id = socket_id
        self.received: list[dict[str, Any]] = []

    async def established(self, activity_timeout: int = 120) -> None:
        data = json.dumps({"socket_id": self.socket_id, "activity_timeout": activity_timeout})
        await self.send({"event": "pusher:connection_established", "data": data})

    async def send(self, message: dict[str, Any] | str) -> None:
        await self.ws.send(message if isinstance(message, str) else json.dumps(message))

    async def recv(self, timeout: float = 5) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            message: dict[str, Any] = json.loads(await self.ws.recv())
        self.received.append(message)
        return message

    async def expect(self, event: str, timeout: float = 5) -> dict[str, Any]:
        while True:
            message = await self.recv(timeout)
            if message.get("event") == event:
                return message

    async def accept_subscriptions(self, count: int, timeout: float = 5) -> list[str]:
        channels = []
        for _ in range(count):
            message = await self.expect("pusher:subscribe", timeout)
            channel = message["data"]["channel"]
            channels.append(channel)
            await self.send({"event": "pusher_internal:subscription_succeeded", "channel": channel})
        return channels

    async def close(self, code: int, reason: str = "") -> None:
        await self.ws.close(code, reason)

    async def hold(self) -> None:
        """Keep the connection open until the client closes it."""
        async for raw in self.ws:
            self.received.append(json.loads(raw))


class ScriptedServer:
    """Serves ``scripts[n]`` to the n-th connection (the last one repeats)."""

    def __init__(self, *scripts: Script) -> None:
        self.scripts = list(scripts)
        self.port = free_port()
        self.connections: list[Conn] = []
        self.errors: list[BaseException] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        if not self._ready.wait(5):
            raise RuntimeError("scripted server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stop is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(5)

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with serve(self._handle, "127.0.0.1", self.port):
            self._ready.set()
            await self._stop.wait()

    async def _handle(self, ws: ServerConnection) -> None:
        number = len(self.connections)
        conn = Conn(ws, number, f"{1000 + number}.{2000 + number}")
        self.connections.append(conn)
        script = self.scripts[min(number, len(self.scripts) - 1)]
        try:
            await script(conn)
        except Exception as err:
            from websockets.exceptions import ConnectionClosed

            if not isinstance(err, ConnectionClosed):
                self.errors.append(err)

    def settings(self) -> dict[str, Any]:
        return {
            "APP_ID": "123",
            "KEY": "scripted-key",
            "SECRET": "scripted-secret",
            "HOST": "127.0.0.1",
            "PORT": self.port,
            "USE_TLS": False,
            "ENCRYPTION_MASTER_KEY_BASE64": "OHRXNUZRTG5pUTFzQlFGd3J3N3Q2VFZFc0paZDEweVk=",
            "LISTENER": {"RECONNECT_BACKOFF": 0.05, "RECONNECT_BACKOFF_MAX": 0.2},
        }
