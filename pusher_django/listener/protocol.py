"""The Pusher websocket protocol (version 7) as pure functions.

Frames are parsed and built here and nowhere else, so the quirks live in one
place: ``data`` arrives as a JSON string for channel events but as an object
for some system events (soketi sends objects for ``pusher:error``,
``pusher:pong``, ``pusher:subscription_error``), and close codes decide
whether to reconnect. No I/O happens in this module.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any
from urllib.parse import urlencode

from pusher_django import __version__, safe_json
from pusher_django.exceptions import ProtocolError, UnsafeJSON
from pusher_django.payloads import decode_data
from pusher_django.validation import is_socket_id

__all__ = [
    "MAX_FRAME_BYTES",
    "CloseAction",
    "Message",
    "close_action",
    "connection_url",
    "error_details",
    "frame",
    "handshake",
    "parse",
    "ping",
    "pong",
    "refusal_hint",
    "signin",
    "subscribe",
    "unsubscribe",
]

PROTOCOL_VERSION = 7
CLIENT_NAME = "pusher-django"
#: Longer than any server asks for (Pusher recommends 120 s); larger values are ignored.
MAX_ACTIVITY_TIMEOUT = 3600
#: The largest frame read (the websocket connection refuses larger ones).
MAX_FRAME_BYTES = 2**22


_UNDECODED: Any = object()


class Message:
    """One parsed frame. ``data`` is ``raw_data`` decoded when it is JSON, else the raw value.

    ``data`` is decoded on first use: an encrypted event's payload is
    decrypted from ``raw_data`` and never needs decoding as it arrived.
    """

    __slots__ = ("_data", "channel", "event", "raw_data", "user_id")

    def __init__(self, event: str, channel: str | None, user_id: str | None, raw_data: Any) -> None:
        self.event = event
        self.channel = channel
        self.user_id = user_id
        self.raw_data = raw_data
        self._data: Any = _UNDECODED

    @property
    def data(self) -> Any:
        if self._data is _UNDECODED:
            self._data = decode_data(self.raw_data)
        return self._data

    def __repr__(self) -> str:
        return f"<Message {self.event} channel={self.channel}>"


def connection_url(ws_url: str) -> str:
    """The URL to open: ``ws[s]://host:port/app/<key>?protocol=7&client=...&version=...``."""
    query = urlencode({"protocol": PROTOCOL_VERSION, "client": CLIENT_NAME, "version": __version__})
    return f"{ws_url}?{query}"


def parse(frame: str | bytes) -> Message:
    """Decode one text frame; raise :class:`ProtocolError` for anything else."""
    if isinstance(frame, bytes):
        raise ProtocolError("binary frames are not part of the Pusher protocol")
    try:
        payload = safe_json.loads(frame, max_bytes=MAX_FRAME_BYTES)
    except UnsafeJSON as err:
        raise ProtocolError(f"frame refused ({err}): {frame[:80]!r}") from err
    if not isinstance(payload, dict) or not isinstance(payload.get("event"), str):
        raise ProtocolError(f"frame has no event name: {frame[:80]!r}")
    channel = payload.get("channel")
    user_id = payload.get("user_id")
    return Message(
        payload["event"],
        channel if isinstance(channel, str) else None,
        str(user_id) if user_id is not None else None,
        payload.get("data"),
    )


def frame(event: str, data: Any, channel: str | None = None) -> str:
    """Encode one client → server message."""
    message: dict[str, Any] = {"event": event, "data": data}
    if channel is not None:
        message["channel"] = channel
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def pong() -> str:
    return frame("pusher:pong", {})


def ping() -> str:
    return frame("pusher:ping", {})


def subscribe(channel: str, auth: str | None = None, channel_data: str | None = None) -> str:
    data: dict[str, Any] = {"channel": channel, "auth": auth or ""}
    if channel_data is not None:
        data["channel_data"] = channel_data
    return frame("pusher:subscribe", data)


def unsubscribe(channel: str) -> str:
    return frame("pusher:unsubscribe", {"channel": channel})


def signin(auth: str, user_data: str) -> str:
    return frame("pusher:signin", {"auth": auth, "user_data": user_data})


def handshake(message: Message) -> tuple[str, float | None]:
    """Socket id and server activity timeout (seconds) of ``connection_established``.

    A socket id that is not ``digits.digits`` cannot be signed for, so it is
    a :class:`ProtocolError` (the listener reconnects); an activity timeout
    that is not a sensible number of seconds is ignored.
    """
    data = message.data if isinstance(message.data, dict) else {}
    socket_id = data.get("socket_id")
    if not is_socket_id(socket_id):
        raise ProtocolError(f"connection_established with an unusable socket_id: {socket_id!r:.40}")
    timeout = data.get("activity_timeout")
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        return socket_id, None
    return socket_id, float(timeout) if 0 < timeout <= MAX_ACTIVITY_TIMEOUT else None


def error_details(message: Message) -> tuple[int | None, str]:
    """``(code, message)`` of a ``pusher:error`` frame, tolerant of odd shapes."""
    data = message.data if isinstance(message.data, dict) else {}
    code = data.get("code")
    text = data.get("message") or (message.data if isinstance(message.data, str) else "")
    return (code if isinstance(code, int) else None), str(text)


class CloseAction(Enum):
    """What to do after the server closed the connection with a given code."""

    STOP = "stop"  # 4000-4099 (and >= 4300, like pusher-js): do not reconnect unchanged
    BACKOFF = "backoff"  # 4100-4199 and network failures: reconnect after a delay
    RECONNECT = "reconnect"  # 4200-4299: reconnect at once


CLOSE_HINTS = {
    4000: "the app accepts only TLS connections: set PUSHER['USE_TLS'] = True",
    4001: "the app does not exist: check PUSHER['APP_ID'] / KEY and the cluster or host",
    4003: "the app is disabled in the Pusher dashboard",
    4004: "the app is over its connection quota",
    4009: "the connection is unauthorized (signed out or terminated by the app)",
}


def refusal_hint(code: int | None) -> str:
    """What to fix when the server refused the app with ``code``."""
    return CLOSE_HINTS.get(code or 0, "the server refused the connection")


def close_action(code: int | None) -> CloseAction:
    """The Pusher rule for a close code; anything that is not a Pusher code backs off."""
    if code is None or code < 4000:
        return CloseAction.BACKOFF
    if code < 4100:
        return CloseAction.STOP
    if code < 4200:
        return CloseAction.BACKOFF
    if code < 4300:
        return CloseAction.RECONNECT
    return CloseAction.STOP
