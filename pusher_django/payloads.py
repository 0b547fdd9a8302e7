"""Turning application data into the ``data`` string of one event.

This is the single place where plaintext can turn into what is sent, so the
rule "never send plaintext to an encrypted channel" is enforced here for the
REST client, the tasks and the listener alike. Sizes are measured in bytes
of the encoded string, the way the server measures them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

from django.core.serializers.json import DjangoJSONEncoder

from . import crypto, safe_json
from .channels import is_encrypted
from .exceptions import PusherValidationError, UnsafeJSON
from .validation import utf8


def serialize(data: Any) -> str:
    """A str is sent as it is; anything else as compact JSON (dates, UUIDs, Decimals too)."""
    if isinstance(data, str):
        return data
    try:
        return json.dumps(data, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as err:
        raise PusherValidationError(f"Event data is not JSON-serializable: {err}") from err


def _encrypted_channel(channels: Sequence[str], master_key: bytes | None) -> str | None:
    """The encrypted channel among ``channels`` (which must then be alone), or ``None``."""
    encrypted = [name for name in channels if is_encrypted(name)]
    if not encrypted:
        return None
    if len(channels) > 1:
        raise PusherValidationError(
            "An encrypted channel cannot be triggered together with other channels "
            f"({', '.join(channels[:3])}...): trigger each encrypted channel on its own."
        )
    if master_key is None:
        raise PusherValidationError(
            f"{encrypted[0]!r} is an encrypted channel but "
            "PUSHER['ENCRYPTION_MASTER_KEY_BASE64'] is not set; refusing to send plaintext."
        )
    return encrypted[0]


def check_size(
    size: int, encrypted: bool, max_bytes: int, setting: str = "['MAX_PAYLOAD_BYTES']"
) -> None:
    """Refuse ``size`` bytes over ``max_bytes``, naming the ``setting`` that sets the limit."""
    if size > max_bytes:
        raise PusherValidationError(
            f"Event data is {size} bytes{' once encrypted' if encrypted else ''}; "
            f"the limit is {max_bytes} (PUSHER{setting})."
        )


def encode_event_data(
    channels: Sequence[str],
    data: Any,
    *,
    master_key: bytes | None,
    max_bytes: int,
) -> str:
    """Serialize, encrypt for an encrypted channel, and check the size limit."""
    encoded = serialize(data)
    encrypted = _encrypted_channel(channels, master_key)
    if encrypted is not None:
        encoded = crypto.encrypt(encrypted, encoded, cast(bytes, master_key))
    check_size(len(encoded.encode("utf-8")), encrypted is not None, max_bytes)
    return encoded


def sent_size(channels: Sequence[str], encoded: str, *, master_key: bytes | None) -> int:
    """The bytes ``encoded`` takes on the wire, encrypted for an encrypted channel.

    Computed without encrypting, so a save can check it cheaply; raises what
    :func:`encode_event_data` would (several channels with an encrypted one,
    no master key).
    """
    encrypted = _encrypted_channel(channels, master_key)
    size = len(utf8(encoded, "Event data"))
    return crypto.encrypted_size(size) if encrypted is not None else size


def decode_data(data: Any) -> Any:
    """Received ``data``, like pusher-js reads it: JSON when it is JSON, else as it is."""
    if isinstance(data, str):
        try:
            return safe_json.loads(data)
        except UnsafeJSON:
            return data
    return data
