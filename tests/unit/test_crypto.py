"""Encryption of event data for private-encrypted channels."""

from __future__ import annotations

import base64
import json

import nacl.secret
import pytest

from pusher_django import crypto
from pusher_django.conf import parse_master_key
from pusher_django.exceptions import PusherEncryptionError

MASTER = parse_master_key("OHRXNUZRTG5pUTFzQlFGd3J3N3Q2VFZFc0paZDEweVk=")


def test_shared_secret_matches_official_vector():
    assert (
        crypto.shared_secret_b64("private-encrypted-channel", MASTER)
        == "VmIsNZtCSteh8kazd2toc+ofhohBtUouQRSDtRvuyVI="
    )


def test_encrypt_produces_pusher_js_wire_format_and_round_trips():
    wire = crypto.encrypt("private-encrypted-a", '{"text":"héllo"}', MASTER)
    fields = json.loads(wire)
    assert set(fields) == {"nonce", "ciphertext"}
    assert len(base64.b64decode(fields["nonce"])) == nacl.secret.SecretBox.NONCE_SIZE
    assert "héllo" not in wire
    assert crypto.decrypt("private-encrypted-a", wire, MASTER) == '{"text":"héllo"}'
    assert crypto.decrypt("private-encrypted-a", fields, MASTER) == '{"text":"héllo"}'


def test_nonces_are_random():
    first = json.loads(crypto.encrypt("private-encrypted-a", "x", MASTER))
    second = json.loads(crypto.encrypt("private-encrypted-a", "x", MASTER))
    assert first["nonce"] != second["nonce"]


def test_other_channel_cannot_decrypt():
    wire = crypto.encrypt("private-encrypted-a", "secret", MASTER)
    with pytest.raises(PusherEncryptionError, match="Could not decrypt"):
        crypto.decrypt("private-encrypted-b", wire, MASTER)


@pytest.mark.parametrize(
    "payload", ["not json", '{"nonce": "x"}', '{"nonce":"@@","ciphertext":"a"}']
)
def test_malformed_payloads_raise_encryption_error(payload):
    with pytest.raises(PusherEncryptionError):
        crypto.decrypt("private-encrypted-a", payload, MASTER)


@pytest.mark.parametrize("value", ["", "not-base64!", base64.b64encode(b"short").decode()])
def test_master_key_must_be_32_bytes_of_base64(value):
    with pytest.raises(ValueError, match="ENCRYPTION_MASTER_KEY_BASE64"):
        parse_master_key(value)


@pytest.mark.parametrize("size", [0, 1, 2, 3, 100, 1000, 10_000])
def test_encrypted_size_is_exact(size: int) -> None:
    from pusher_django.crypto import encrypted_size

    assert encrypted_size(size) == len(crypto.encrypt("private-encrypted-x", "a" * size, bytes(32)))
