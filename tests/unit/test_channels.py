"""Channel kinds, predicates and name validation."""

from __future__ import annotations

import pytest

from pusher_django.channels import (
    ChannelKind,
    channel_kind,
    is_encrypted,
    is_presence,
    validate_channel_name,
)
from pusher_django.exceptions import PusherValidationError

KINDS = [
    ("room", ChannelKind.PUBLIC, False, False, False, False),
    ("private-room", ChannelKind.PRIVATE, True, False, False, False),
    ("presence-room", ChannelKind.PRESENCE, True, True, False, False),
    ("private-encrypted-room", ChannelKind.PRIVATE_ENCRYPTED, True, False, True, False),
    ("cache-room", ChannelKind.CACHE, False, False, False, True),
    ("private-cache-room", ChannelKind.PRIVATE_CACHE, True, False, False, True),
    ("presence-cache-room", ChannelKind.PRESENCE_CACHE, True, True, False, True),
    ("private-encrypted-cache-room", ChannelKind.PRIVATE_ENCRYPTED_CACHE, True, False, True, True),
]


@pytest.mark.parametrize(("name", "kind", "auth", "presence", "encrypted", "cache"), KINDS)
def test_all_eight_kinds(name, kind, auth, presence, encrypted, cache):
    assert channel_kind(name) is kind
    assert (kind.needs_auth, is_presence(name), is_encrypted(name), kind.is_cache) == (
        auth,
        presence,
        encrypted,
        cache,
    )
    assert validate_channel_name(name) == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "non-empty"),
        (None, "non-empty"),
        ("a b", "Invalid channel name"),
        ("room#1", "Invalid channel name"),
        ("é", "Invalid channel name"),
        ("x" * 201, "201 characters"),
        ("private-", "only a prefix"),
        ("#server-to-user-1", "reserved"),
    ],
)
def test_invalid_names_are_refused_with_the_reason(name, reason):
    with pytest.raises(PusherValidationError, match=reason):
        validate_channel_name(name)


def test_allowed_punctuation_and_max_length():
    assert validate_channel_name("a-_=@,.;") == "a-_=@,.;"
    assert validate_channel_name("x" * 200) == "x" * 200
    assert validate_channel_name("#server-to-user-42", allow_server_to_user=True)
