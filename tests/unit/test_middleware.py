"""X-Socket-ID exclusion for triggers made while serving a request."""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync, iscoroutinefunction
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpResponse
from django.test import RequestFactory

from pusher_django.client import PusherClient
from pusher_django.conf import get_config
from pusher_django.middleware import SocketIdMiddleware
from pusher_django.sender_exclusion import current_socket_id, include_sender

from .test_async_client import RecordingAsyncTransport
from .test_client import RecordingTransport


def serve(headers, view):
    request = RequestFactory().post("/", headers=headers)
    return SocketIdMiddleware(view)(request)


def make_client():
    return PusherClient(get_config(), RecordingTransport(), RecordingAsyncTransport())  # type: ignore[arg-type]


def test_trigger_during_request_excludes_sender():
    client = make_client()

    def view(request):
        client.trigger("a", "e", {})
        client.trigger_batch([{"channel": "b", "name": "e", "data": 1}])
        return HttpResponse()

    serve({"X-Socket-ID": "11.22"}, view)
    bodies = [body for *_, body in client.transport.sent]
    assert bodies[0]["socket_id"] == "11.22"
    assert bodies[1]["batch"][0]["socket_id"] == "11.22"
    assert current_socket_id() is None


def test_explicit_socket_id_wins_and_include_sender_opts_out():
    client = make_client()

    def view(request):
        client.trigger("a", "e", {}, socket_id="9.9")
        with include_sender():
            client.trigger("a", "e", {})
        return HttpResponse()

    serve({"X-Socket-ID": "11.22"}, view)
    first, second = [body for *_, body in client.transport.sent]
    assert first["socket_id"] == "9.9"
    assert "socket_id" not in second


def test_malformed_header_is_ignored_and_logged_at_debug(caplog):
    seen = []

    def view(request):
        seen.append(current_socket_id())
        return HttpResponse()

    with caplog.at_level(logging.DEBUG, logger="pusher_django"):
        serve({"X-Socket-ID": "1.2; DROP"}, view)
    assert seen == [None]
    assert "Ignoring malformed X-Socket-ID" in caplog.text


def test_an_async_view_is_reached_without_a_thread_hop_and_excludes_the_sender(settings, caplog):
    client = make_client()

    async def view(request):
        await client.atrigger("a", "e", {})
        return HttpResponse()

    middleware = SocketIdMiddleware(view)
    assert iscoroutinefunction(middleware)
    request = RequestFactory().post("/", headers={"X-Socket-ID": "11.22"})
    assert async_to_sync(middleware)(request).status_code == 200
    assert client.async_transport.sent[0][3]["socket_id"] == "11.22"
    assert current_socket_id() is None

    settings.DEBUG = True  # Django then logs every sync/async adaptation it makes
    settings.MIDDLEWARE = ["pusher_django.middleware.SocketIdMiddleware"]
    with caplog.at_level(logging.DEBUG, logger="django.request"):
        ASGIHandler().load_middleware(is_async=True)
        WSGIHandler()
    assert "adapted" not in caplog.text
