"""The coroutine twins: the same requests as the sync methods, sent through httpx.

The status mapping is checked against a real HTTP server on localhost that
answers what the test scripts (soketi cannot produce 413, 429 or 503 on
demand); the end-to-end behaviour against soketi is in
``tests/integration/test_client_soketi.py``.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from asgiref.sync import async_to_sync

from pusher_django import exceptions as exc
from pusher_django.async_transport import AsyncTransport
from pusher_django.client import PusherClient, get_client
from pusher_django.conf import get_config
from pusher_django.sender_exclusion import excluding_socket
from pusher_django.transport import USER_AGENT

from .test_client import RecordingTransport
from .test_transport import STATUS_ERRORS

SOCKET = "123.456"
UNSIGNED = ("auth_timestamp", "auth_signature")


class RecordingAsyncTransport(RecordingTransport):
    async def send(self, method, path, query, body=None):
        return super().send(method, path, query, body)


def recorded() -> PusherClient:
    return PusherClient(get_config(), RecordingTransport(), RecordingAsyncTransport())  # type: ignore[arg-type]


def comparable(sent: tuple[str, str, dict[str, str], Any]) -> tuple[Any, ...]:
    method, path, query, body = sent
    return method, path, {k: v for k, v in query.items() if k not in UNSIGNED}, body


CALLS: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("trigger", (["a", "presence-b"], "e", {"x": 1}), {"socket_id": SOCKET, "info": "user_count"}),
    ("trigger", ("private-encrypted-a", "e", "s3cr3t"), {}),
    (
        "trigger_batch",
        (
            [
                {
                    "channel": "a",
                    "name": "e",
                    "data": {},
                    "socket_id": SOCKET,
                    "info": ["subscription_count"],
                },
                {"channel": "presence-b", "name": "f", "data": "x"},
            ],
        ),
        {},
    ),
    ("send_to_user", ("42", "e", {"x": 1}), {}),
    ("get_channels", (), {"filter_by_prefix": "presence-", "info": "user_count"}),
    ("get_channel", ("presence-b",), {"info": ["user_count"]}),
    ("get_users", ("presence-b",), {}),
    ("terminate_user_connections", ("42",), {}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), CALLS)
def test_each_twin_sends_exactly_what_its_sync_method_sends(name, args, kwargs):
    client = recorded()
    getattr(client, name)(*args, **kwargs)
    async_to_sync(getattr(client, f"a{name}"))(*args, **kwargs)
    sync_sent, async_sent = client.transport.sent, client.async_transport.sent  # type: ignore[attr-defined]
    assert len(sync_sent) == len(async_sent) == 1
    if name == "trigger" and "encrypted" in args[0]:  # a fresh nonce each time
        assert "s3cr3t" not in json.dumps(async_sent[0][3])
        assert set(async_sent[0][3]) == set(sync_sent[0][3])
    else:
        assert comparable(async_sent[0]) == comparable(sync_sent[0])
    assert set(async_sent[0][2]) >= set(UNSIGNED)


def test_the_request_socket_id_is_excluded_in_coroutines_too():
    client = recorded()

    async def publish() -> None:
        with excluding_socket(SOCKET):
            await client.atrigger("a", "e", {})
            await client.atrigger_batch([{"channel": "b", "name": "e", "data": {}}])

    async_to_sync(publish)()
    first, second = (body for *_, body in client.async_transport.sent)  # type: ignore[attr-defined]
    assert first["socket_id"] == SOCKET
    assert second["batch"][0]["socket_id"] == SOCKET


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("atrigger", ("bad channel!", "e", {})),
        ("atrigger", ("private-encrypted-a", "e", {"x": "y" * 20_000})),
        ("atrigger_batch", ([],)),
        ("aget_channel", ("presence-b", "subscription_count")),
        ("aget_users", ("private-a",)),
        ("aterminate_user_connections", ("",)),
        ("asend_to_user", ("x" * 300, "e", {})),
        ("aget_channels", (None, "user_count")),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(name, args):
    client = recorded()
    with pytest.raises(exc.PusherValidationError):
        async_to_sync(getattr(client, name))(*args)
    assert client.async_transport.sent == []  # type: ignore[attr-defined]


# -- the real httpx transport against a scripted HTTP server --------------------------


class Script:
    status = 200
    body = b"{}"
    headers: dict[str, str] = {}
    delay = 0.0
    requests: list[tuple[str, str, dict[str, str], bytes]] = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        Script.requests.append((self.command, self.path, dict(self.headers), body))
        time.sleep(Script.delay)
        self.send_response(Script.status)
        for key, value in Script.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(Script.body)))
        self.end_headers()
        self.wfile.write(Script.body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server(settings: Any) -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    Script.status, Script.body, Script.headers, Script.delay = 200, b"{}", {}, 0.0
    Script.requests = []
    settings.PUSHER = {**settings.PUSHER, "PORT": httpd.server_address[1], "TIMEOUT": 1}
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize(("status", "error"), STATUS_ERRORS)
def test_status_maps_to_the_same_exception_as_the_sync_client(server, status, error):
    Script.status, Script.body = status, b'{"error":"nope"}'
    with pytest.raises(error) as info:
        async_to_sync(get_client().aget_channels)()
    assert info.value.status == status
    assert info.value.server_message == '{"error":"nope"}'
    assert "auth_signature" not in str(info.value)
    with pytest.raises(error):
        get_client().get_channels()


def test_rate_limit_retry_after_embedded_errors_and_non_json(server):
    client = get_client()
    Script.status, Script.body, Script.headers = 429, b"slow down", {"Retry-After": "7"}
    with pytest.raises(exc.PusherRateLimited) as info:
        async_to_sync(client.atrigger)("a", "e", {})
    assert info.value.retry_after == 7.0
    Script.status, Script.headers = 200, {}
    Script.body = b'{"error":"The secret authentication failed","code":401}'
    with pytest.raises(exc.PusherAuthenticationError):
        async_to_sync(client.aget_channels)()
    Script.body = b"<html>"
    with pytest.raises(exc.PusherResponseError, match="expected JSON"):
        async_to_sync(client.aget_channels)()
    Script.body = b""
    assert async_to_sync(client.aterminate_user_connections)("1") == {}


def test_headers_body_and_no_secret_in_logs(server, caplog):
    Script.body = b'{"ok":true}'
    with caplog.at_level(logging.DEBUG, logger="pusher_django"):
        assert async_to_sync(get_client().atrigger)("a", "e", {"x": 1}) == {"ok": True}
    method, path, headers, body = Script.requests[0]
    assert method == "POST"
    assert path.startswith("/apps/123/events?")
    assert "auth_signature=" in path
    assert headers["User-Agent"] == USER_AGENT
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"name": "e", "data": '{"x":1}', "channels": ["a"]}
    assert "POST /apps/123/events -> 200" in caplog.text
    assert "unit-secret" not in caplog.text
    assert "auth_signature" not in caplog.text


def test_timeout_and_refused_connection_are_transient_and_scrubbed(server, settings):
    Script.delay = 2.0
    with pytest.raises(exc.PusherTimeout, match="within 1 s") as timeout:
        async_to_sync(get_client().aget_channels)()
    assert "auth_signature" not in str(timeout.value.__cause__)
    settings.PUSHER = {**settings.PUSHER, "PORT": 9}  # discard: nothing listens
    with pytest.raises(exc.PusherConnectionError) as refused:
        async_to_sync(get_client().aget_channels)()
    assert isinstance(refused.value, exc.PusherTransientError)
    assert "auth_signature" not in str(refused.value.__cause__)


def test_one_pooled_client_per_event_loop(server):
    """Each ``async_to_sync`` call runs a new loop: a pool must never cross loops."""
    client = get_client()
    seen: list[Any] = []

    async def twice() -> None:
        await client.aget_channels()
        await client.aget_channels()
        seen.append(client.async_transport.client())

    async_to_sync(twice)()
    async_to_sync(twice)()
    assert len(Script.requests) == 4
    assert seen[0] is not seen[1]

    async def closing() -> None:
        await client.aget_channels()
        pool = client.async_transport.client()
        await client.aclose()
        assert pool.is_closed
        await client.aget_channels()  # a new pool after aclose()
        assert client.async_transport.client() is not pool

    async_to_sync(closing)()


def test_a_clear_error_without_httpx(monkeypatch):
    monkeypatch.setitem(sys.modules, "httpx", None)  # as if the extra were not installed
    client = PusherClient(get_config(), RecordingTransport())  # type: ignore[arg-type]
    client.trigger("a", "e", {})  # the sync client needs nothing more
    with pytest.raises(exc.PusherConfigurationError, match=r"pusher-django\[async\]"):
        async_to_sync(client.atrigger)("a", "e", {})


def test_an_unused_async_transport_is_never_created():
    client = PusherClient(get_config(), RecordingTransport())  # type: ignore[arg-type]
    client.trigger("a", "e", {})
    assert client._async_transport is None
    assert isinstance(client.async_transport, AsyncTransport)
