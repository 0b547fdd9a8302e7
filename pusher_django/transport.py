"""The HTTP transport: one pooled ``requests.Session`` and the status → exception map.

Kept apart from the client so that signing and input validation can be tested
without a network, and so that every REST call fails the same typed way.
Log lines and exception messages carry the method and path, never the
signed query string.
"""

from __future__ import annotations

import email.utils
import logging
import re
import time
from typing import Any

import requests

from . import __version__
from .exceptions import (
    PusherAPIError,
    PusherAuthenticationError,
    PusherBadRequest,
    PusherConnectionError,
    PusherForbidden,
    PusherNotFound,
    PusherPayloadTooLarge,
    PusherRateLimited,
    PusherResponseError,
    PusherServerError,
    PusherTimeout,
    TransportFailure,
)

logger = logging.getLogger(__name__)

USER_AGENT = f"pusher-django/{__version__} python-requests/{requests.__version__}"
MAX_SERVER_MESSAGE = 500

_STATUS_ERRORS: dict[int, type[PusherAPIError]] = {
    400: PusherBadRequest,
    401: PusherAuthenticationError,
    403: PusherForbidden,
    404: PusherNotFound,
    413: PusherPayloadTooLarge,
}


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _server_message(response: requests.Response) -> str:
    text = response.text.strip() or response.reason or ""
    return text[:MAX_SERVER_MESSAGE]


def _embedded_error_status(decoded: Any) -> int | None:
    """soketi 1.6 answers some errors (a bad signature, for one) with status 200 and a
    body ``{"error": ..., "code": 401}``; treat the embedded code as the status."""
    if isinstance(decoded, dict) and "error" in decoded:
        code = decoded.get("code")
        if isinstance(code, int) and 400 <= code < 600:
            return code
    return None


_QUERY_RE = re.compile(r"\?[^\s'\"]*")


def _scrubbed(err: BaseException) -> TransportFailure:
    return TransportFailure(f"{type(err).__name__}: {_QUERY_RE.sub('?<signed query>', str(err))}")


class Transport:
    """Sends signed requests and decodes JSON answers."""

    def __init__(self, base_url: str, timeout: float) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT

    def close(self) -> None:
        self.session.close()

    def send(self, method: str, path: str, query: dict[str, str], body: bytes | None = None) -> Any:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        started = time.monotonic()
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                params=query,
                data=body,
                headers=headers,
                timeout=self.timeout,
            )
        except requests.Timeout as err:
            raise PusherTimeout(
                f"Pusher did not answer {method} {path} within {self.timeout:g} s.",
                method=method,
                path=path,
            ) from _scrubbed(err)
        except requests.RequestException as err:
            raise PusherConnectionError(
                f"Could not reach Pusher for {method} {path}: {type(err).__name__}.",
                method=method,
                path=path,
            ) from _scrubbed(err)
        logger.debug(
            "%s %s -> %s in %.0f ms",
            method,
            path,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        return self._decode(method, path, response)

    @staticmethod
    def _decode(method: str, path: str, response: requests.Response) -> Any:
        status = response.status_code
        context: dict[str, Any] = {
            "status": status,
            "method": method,
            "path": path,
            "response": response,
        }
        message = _server_message(response)
        if 200 <= status < 300:
            try:
                decoded = response.json() if response.content else {}
            except ValueError as err:
                raise PusherResponseError(f"expected JSON, got {message!r}", **context) from err
            embedded = _embedded_error_status(decoded)
            if embedded is None:
                return decoded
            status = context["status"] = embedded
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise PusherRateLimited(message, retry_after=retry_after, **context)
        if status >= 500:
            raise PusherServerError(message, **context)
        raise _STATUS_ERRORS.get(status, PusherAPIError)(message, **context)
