"""Status codes and network failures become typed exceptions.

A real server cannot produce every status on demand, so these tests mount a
scripted ``requests`` adapter in place of the network.
"""

from __future__ import annotations

import logging

import pytest
import requests
from requests.adapters import BaseAdapter

from pusher_django import exceptions as exc
from pusher_django.client import PusherClient
from pusher_django.conf import get_config
from pusher_django.transport import USER_AGENT, Transport, parse_retry_after


class ScriptedAdapter(BaseAdapter):
    def __init__(self, status=200, body=b"{}", headers=None, error=None):
        super().__init__()
        self.status, self.body, self.headers, self.error = status, body, headers or {}, error
        self.requests: list[requests.PreparedRequest] = []

    def send(self, request, **kwargs):  # type: ignore[override]
        self.requests.append(request)
        if self.error:
            raise self.error
        response = requests.Response()
        response.status_code = self.status
        response._content = self.body
        response.headers.update(self.headers)
        response.request = request
        response.url = request.url
        return response

    def close(self):
        pass


#: Every status and the exception it raises (the async client's tests use the same table).
STATUS_ERRORS = [
    (400, exc.PusherBadRequest),
    (401, exc.PusherAuthenticationError),
    (403, exc.PusherForbidden),
    (404, exc.PusherNotFound),
    (413, exc.PusherPayloadTooLarge),
    (418, exc.PusherAPIError),
    (500, exc.PusherServerError),
    (503, exc.PusherServerError),
]


def client_with(adapter) -> PusherClient:
    client = PusherClient(get_config())
    client.transport.session.mount("http://", adapter)
    return client


@pytest.mark.parametrize(("status", "error"), STATUS_ERRORS)
def test_status_maps_to_exception(status, error):
    client = client_with(ScriptedAdapter(status, b'{"error":"nope"}'))
    with pytest.raises(error) as info:
        client.get_channels()
    assert info.value.status == status
    assert info.value.server_message == '{"error":"nope"}'
    assert isinstance(info.value, requests.HTTPError)
    assert "auth_signature" not in str(info.value)
    assert "unit-secret" not in str(info.value)


def test_rate_limit_carries_retry_after():
    client = client_with(ScriptedAdapter(429, b"slow down", {"Retry-After": "7"}))
    with pytest.raises(exc.PusherRateLimited) as info:
        client.trigger("a", "e", {})
    assert info.value.retry_after == 7.0
    assert isinstance(info.value, exc.PusherTransientError)


def test_retry_after_http_date():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("garbage") is None
    assert parse_retry_after(None) is None


def test_non_json_success_body():
    client = client_with(ScriptedAdapter(200, b"<html>"))
    with pytest.raises(exc.PusherResponseError, match="expected JSON"):
        client.get_channels()


def test_empty_success_body_is_empty_dict():
    assert client_with(ScriptedAdapter(200, b"")).terminate_user_connections("1") == {}


def test_timeout_and_connection_errors_are_transient():
    client = client_with(ScriptedAdapter(error=requests.ReadTimeout("slow")))
    with pytest.raises(exc.PusherTimeout, match="within 5 s"):
        client.get_channels()
    client = client_with(ScriptedAdapter(error=requests.ConnectionError("refused")))
    with pytest.raises(exc.PusherConnectionError) as info:
        client.get_channels()
    assert isinstance(info.value, exc.PusherTransientError)


def test_request_headers_and_no_secret_in_logs(caplog):
    adapter = ScriptedAdapter(200, b"{}")
    with caplog.at_level(logging.DEBUG, logger="pusher_django"):
        client_with(adapter).trigger("a", "e", {"x": 1})
    request = adapter.requests[0]
    assert request.headers["User-Agent"] == USER_AGENT
    assert request.headers["Content-Type"] == "application/json"
    assert "POST /apps/123/events -> 200" in caplog.text
    assert "unit-secret" not in caplog.text
    assert "auth_signature" not in caplog.text


def test_error_embedded_in_a_200_body_is_raised():
    """soketi 1.6 answers a bad signature with 200 and {"error":..., "code":401}."""
    body = b'{"error":"The secret authentication failed","code":401}'
    with pytest.raises(exc.PusherAuthenticationError) as info:
        client_with(ScriptedAdapter(200, body)).get_channels()
    assert info.value.status == 401
    assert "secret authentication failed" in info.value.server_message


@pytest.mark.parametrize(
    ("no_proxy", "expected"), [("", "http://proxy.internal:3128"), ("api.example.test", None)]
)
def test_the_session_takes_proxies_and_ca_bundle_from_the_environment_when_made(
    monkeypatch: pytest.MonkeyPatch, no_proxy: str, expected: str | None
) -> None:
    """Read once, when the transport is made: not on every request, as requests does."""
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", no_proxy)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/bundle.pem")
    session = Transport("http://api.example.test", 5).session
    assert session.proxies.get("http") == expected
    assert session.verify == "/etc/ssl/certs/bundle.pem"
    assert session.trust_env is False
    monkeypatch.setenv("HTTP_PROXY", "http://elsewhere:1")  # later changes are not read
    settings = session.merge_environment_settings("http://api.example.test/x", {}, None, None, None)
    assert settings["proxies"].get("http") == expected
