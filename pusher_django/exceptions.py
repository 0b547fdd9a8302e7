"""Every error pusher_django raises is a :class:`PusherError`.

The hierarchy lets callers decide what to do without parsing messages:
bad input is a ``ValueError`` (fix the call, never retry), configuration
problems are ``ImproperlyConfigured`` (Django reports them at start-up), API
failures are ``requests.HTTPError`` (familiar to anyone using requests), and
:class:`PusherTransientError` marks the failures worth retrying. No message
ever contains the app secret or the encryption master key.
"""

from __future__ import annotations

from typing import Any

import requests
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation


class PusherError(Exception):
    """Base class of every pusher_django error."""

    status: int | None = None


class PusherConfigurationError(PusherError, ImproperlyConfigured):
    """The ``PUSHER`` settings (or ``PUSHER_URL``) are missing or malformed."""


class PusherValidationError(PusherError, ValueError):
    """The call was refused before anything was sent: the input is invalid."""


class PusherEncryptionError(PusherError):
    """Encrypting or decrypting a payload for an encrypted channel failed."""


class PusherWebhookError(PusherError, SuspiciousOperation):
    """A webhook request failed verification (Django answers it with 400)."""


class PusherTransientError(PusherError):
    """A failure that may succeed when retried later (network, 5xx, 429)."""

    retry_after: float | None = None


class PusherConnectionError(PusherTransientError, requests.ConnectionError):
    """The Pusher server could not be reached."""

    def __init__(self, message: str, *, method: str = "", path: str = "") -> None:
        super().__init__(message)
        self.method = method
        self.path = path


class PusherTimeout(PusherConnectionError, requests.Timeout):
    """The Pusher server did not answer within ``PUSHER["TIMEOUT"]`` seconds."""


class PusherAPIError(PusherError, requests.HTTPError):
    """The Pusher server answered with an error status.

    ``status`` is the HTTP status, ``server_message`` what the server said
    (truncated), ``method`` and ``path`` the request (without its signed query
    string).
    """

    def __init__(
        self,
        server_message: str,
        *,
        status: int,
        method: str,
        path: str,
        response: requests.Response | None = None,
    ) -> None:
        self.status = status
        self.server_message = server_message
        self.method = method
        self.path = path
        super().__init__(
            f"Pusher answered {status} to {method} {path}: {server_message}",
            response=response,
        )


class PusherBadRequest(PusherAPIError, PusherValidationError):
    """400: the server rejected the request's content."""


class PusherAuthenticationError(PusherAPIError):
    """401: the request signature was rejected (wrong key/secret or clock skew)."""


class PusherForbidden(PusherAPIError):
    """403: the app is disabled or over its message quota."""


class PusherNotFound(PusherAPIError):
    """404: unknown app id or path."""


class PusherPayloadTooLarge(PusherAPIError):
    """413: the event data is over the server's limit."""


class PusherRateLimited(PusherAPIError, PusherTransientError):
    """429: too many requests; ``retry_after`` holds the server's hint in seconds."""

    def __init__(self, server_message: str, *, retry_after: float | None, **kwargs: Any) -> None:
        super().__init__(server_message, **kwargs)
        self.retry_after = retry_after


class PusherServerError(PusherAPIError, PusherTransientError):
    """5xx: the server failed; retrying later is reasonable."""


class PusherUnexpectedResponse(PusherError):
    """The server answered 2xx, but not in the documented shape (a field missing or odd)."""


class PusherResponseError(PusherAPIError, PusherTransientError):
    """The server answered 2xx with a body that is not JSON."""


class UnsafeJSON(PusherValidationError):
    """Not JSON, or JSON too large, too deep, or with numbers out of range."""


class TransportFailure(Exception):
    """What requests said, without the signed query string its message carries.

    The original exception's text includes the full URL, whose
    ``auth_signature`` could be replayed within the timestamp window, so it
    is not chained into logged tracebacks; this copy is. Deliberately not a
    :class:`PusherError`: it is only ever the ``__cause__`` of one.
    """


class WebhookAuthenticationError(PusherWebhookError):
    """Wrong key, wrong signature or a stale delivery: answered with 401."""


class WebhookFormatError(PusherWebhookError):
    """Not JSON or not the shape Pusher sends: answered with 400."""


class ProtocolError(PusherError, ValueError):
    """A websocket frame that is not a Pusher message (bad JSON, no ``event``)."""


class ConnectionRefused(PusherError):
    """The server answered the websocket handshake with ``pusher:error``."""

    def __init__(self, code: int | None, text: str) -> None:
        super().__init__(text)
        self.code, self.text = code, text


class ListenerFailed(PusherError):
    """The server refused the connection in a way that retrying cannot fix (4000-4099)."""
