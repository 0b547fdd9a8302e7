"""HMAC-SHA256 signatures of the Pusher protocol, as pure functions.

Nothing here reads settings, the clock (unless no timestamp is passed) or
the network, so every function can be checked against the published
known-answer vectors. Token strings are ``"<key>:<hex signature>"``.
Every function that holds the secret is marked with Django's
``sensitive_variables``, so an error report's traceback shows it masked.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from django.views.decorators.debug import sensitive_variables

AUTH_VERSION = "1.0"


@sensitive_variables("secret")
def hmac_sha256_hex(secret: str, message: str | bytes) -> str:
    body = message.encode("utf-8") if isinstance(message, str) else message
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def compact_json(value: Any) -> str:
    """The JSON form Pusher signs: no spaces, UTF-8 kept as is.

    Raises ``ValueError`` for text without a UTF-8 form (a lone surrogate,
    say from a user-data callable): it could be neither signed nor sent.
    """
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ValueError(f"the text at character {err.start} cannot be encoded as UTF-8") from None
    return text


@sensitive_variables("secret")
def channel_signature(secret: str, socket_id: str, channel: str, channel_data: str | None) -> str:
    parts = [socket_id, channel] if channel_data is None else [socket_id, channel, channel_data]
    return hmac_sha256_hex(secret, ":".join(parts))


@sensitive_variables("secret")
def channel_auth_token(
    key: str, secret: str, socket_id: str, channel: str, channel_data: str | None = None
) -> str:
    """The ``auth`` value for a private, encrypted or (with channel data) presence channel."""
    return f"{key}:{channel_signature(secret, socket_id, channel, channel_data)}"


@sensitive_variables("secret")
def user_auth_token(key: str, secret: str, socket_id: str, user_data: str) -> str:
    """The ``auth`` value of ``pusher:signin`` for the exact ``user_data`` string."""
    return f"{key}:{hmac_sha256_hex(secret, f'{socket_id}::user::{user_data}')}"


def body_md5(body: bytes) -> str:
    return hashlib.md5(body, usedforsecurity=False).hexdigest()


def string_to_sign(method: str, path: str, params: Mapping[str, str]) -> str:
    """``METHOD\\npath\\nk=v&...``: keys lowercased and sorted, values not escaped."""
    query = "&".join(f"{k.lower()}={params[k]}" for k in sorted(params, key=str.lower))
    return f"{method.upper()}\n{path}\n{query}"


@sensitive_variables("secret")
def sign_rest_request(
    *,
    key: str,
    secret: str,
    method: str,
    path: str,
    params: Mapping[str, str] | None = None,
    body: bytes | None = None,
    timestamp: int | None = None,
) -> dict[str, str]:
    """The full query string parameters of a signed REST request.

    ``body_md5`` is added only for a non-empty body, as the REST docs require
    and the Node SDK does.
    """
    query: dict[str, str] = dict(params or {})
    query["auth_key"] = key
    query["auth_timestamp"] = str(int(time.time()) if timestamp is None else timestamp)
    query["auth_version"] = AUTH_VERSION
    if body:
        query["body_md5"] = body_md5(body)
    query["auth_signature"] = hmac_sha256_hex(secret, string_to_sign(method, path, query))
    return query


@sensitive_variables("secret")
def verify_signature(secret: str, body: bytes, signature: str) -> bool:
    """Constant-time check of ``HMAC_SHA256_hex(secret, body)`` (webhooks)."""
    if not isinstance(signature, str):
        return False
    expected = hmac_sha256_hex(secret, body)
    return hmac.compare_digest(expected.encode("ascii"), signature.strip().lower().encode())
