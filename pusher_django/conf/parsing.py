"""Parsing of the two settings that are encoded strings: ``PUSHER_URL`` and the master key."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = ["parse_master_key", "parse_pusher_url"]

_URL_RE = re.compile(r"\A/apps/(?P<app_id>[^/]+)/?\Z")


def parse_pusher_url(url: str) -> dict[str, Any]:
    """Split ``http[s]://KEY:SECRET@HOST[:PORT]/apps/APP_ID`` into settings keys.

    Raises ``ValueError`` with a message that never repeats the secret.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as err:
        raise ValueError("PUSHER_URL is not a valid URL (bad port?)") from err
    if parts.scheme not in ("http", "https"):
        raise ValueError("PUSHER_URL must start with http:// or https://")
    if not parts.username or not parts.password:
        raise ValueError("PUSHER_URL must carry KEY:SECRET@ before the host")
    if not parts.hostname:
        raise ValueError("PUSHER_URL has no host")
    match = _URL_RE.match(parts.path)
    if not match:
        raise ValueError("PUSHER_URL must end with /apps/APP_ID")
    values: dict[str, Any] = {
        "APP_ID": match["app_id"],
        "KEY": unquote(parts.username),
        "SECRET": unquote(parts.password),
        "HOST": parts.hostname,
        "USE_TLS": parts.scheme == "https",
    }
    if port is not None:
        values["PORT"] = port
    return values


def parse_master_key(value: str) -> bytes:
    """Decode ``ENCRYPTION_MASTER_KEY_BASE64``; it must be 32 bytes."""
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError, TypeError) as err:
        raise ValueError("ENCRYPTION_MASTER_KEY_BASE64 is not valid base64") from err
    if len(key) != 32:
        raise ValueError(
            f"ENCRYPTION_MASTER_KEY_BASE64 decodes to {len(key)} bytes; 32 are required"
        )
    return key
