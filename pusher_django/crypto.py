"""End-to-end encryption for ``private-encrypted-`` channels (NaCl secretbox).

The per-channel key is SHA-256(channel name + master key), exactly as the
official SDKs derive it, so pusher-js decrypts what this module encrypts
using the ``shared_secret`` the auth endpoint hands out. The wire form of an
encrypted event's ``data`` is the JSON string
``{"nonce": "<base64>", "ciphertext": "<base64>"}``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import nacl.exceptions
import nacl.secret
import nacl.utils

from . import safe_json
from .exceptions import PusherEncryptionError


def shared_secret(channel: str, master_key: bytes) -> bytes:
    return hashlib.sha256(channel.encode("utf-8") + master_key).digest()


def shared_secret_b64(channel: str, master_key: bytes) -> str:
    """The ``shared_secret`` value of an auth response, as a str (JSON-safe)."""
    return base64.b64encode(shared_secret(channel, master_key)).decode("ascii")


def encrypt(channel: str, plaintext: str, master_key: bytes, nonce: bytes | None = None) -> str:
    """Encrypt already-serialized event data; returns the JSON wire string."""
    box = nacl.secret.SecretBox(shared_secret(channel, master_key))
    if nonce is None:
        nonce = nacl.utils.random(nacl.secret.SecretBox.NONCE_SIZE)
    ciphertext = box.encrypt(plaintext.encode("utf-8"), nonce).ciphertext
    return json.dumps(
        {
            "nonce": base64.b64encode(nonce).decode("ascii"),
            "ciphertext": base64.b64encode(ciphertext).decode("ascii"),
        },
        separators=(",", ":"),
    )


def encrypted_size(plaintext_bytes: int) -> int:
    """The length of :func:`encrypt`'s output for a plaintext of that many bytes.

    ``{"nonce":"<32>","ciphertext":"<base64 of plaintext + 16-byte MAC>"}``:
    lets a size limit be checked without paying for an encryption.
    """
    return 60 + 4 * -(-(plaintext_bytes + nacl.secret.SecretBox.MACBYTES) // 3)


def decrypt(
    channel: str,
    payload: str | dict[str, Any],
    master_key: bytes,
    *,
    box: nacl.secret.SecretBox | None = None,
) -> str:
    """Decrypt an event's ``data`` (string or decoded object) to its plaintext string.

    ``box`` is the channel's box when the caller keeps one (the listener
    does, so the key is not derived again for every event).
    """
    try:
        fields = safe_json.loads(payload) if isinstance(payload, str) else payload
        nonce = base64.b64decode(fields["nonce"], validate=True)
        ciphertext = base64.b64decode(fields["ciphertext"], validate=True)
    except (ValueError, TypeError, KeyError) as err:
        raise PusherEncryptionError(
            f"Encrypted data on {channel!r} is not a {{nonce, ciphertext}} object."
        ) from err
    if box is None:
        box = nacl.secret.SecretBox(shared_secret(channel, master_key))
    try:
        return box.decrypt(ciphertext, nonce).decode("utf-8")
    except (nacl.exceptions.CryptoError, ValueError, UnicodeDecodeError) as err:
        raise PusherEncryptionError(
            f"Could not decrypt data on {channel!r}: wrong master key or corrupted payload."
        ) from err
