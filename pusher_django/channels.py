"""Channel names: the eight kinds Pusher knows, validation and predicates.

The kind is decided by the name's prefix alone, longest prefix first, so
``private-encrypted-cache-x`` is an encrypted cache channel, not a private
one. Names follow the official libraries: up to 200 characters of
``A-Z a-z 0-9 _ - = @ , . ;``. ``#server-to-user-<id>`` is the one reserved
name an app may trigger on (send-to-user); nobody subscribes to it by name.
"""

from __future__ import annotations

import functools
import re
from enum import Enum

from .exceptions import PusherValidationError

MAX_CHANNEL_NAME_LENGTH = 200
SERVER_TO_USER_PREFIX = "#server-to-user-"
#: Name characters other than the separators ``-`` and ``.`` (a regex character-class body).
SEGMENT_ALPHABET = "a-zA-Z0-9_=@,;"
#: Every character of channel names and user ids (a regex character-class body).
NAME_ALPHABET = SEGMENT_ALPHABET + ".-"
_NAME_RE = re.compile(rf"\A[{NAME_ALPHABET}]+\Z")


class ChannelKind(Enum):
    """A channel's kind, with its name prefix as the value."""

    PRIVATE_ENCRYPTED_CACHE = "private-encrypted-cache-"
    PRIVATE_ENCRYPTED = "private-encrypted-"
    PRIVATE_CACHE = "private-cache-"
    PRESENCE_CACHE = "presence-cache-"
    PRIVATE = "private-"
    PRESENCE = "presence-"
    CACHE = "cache-"
    PUBLIC = ""

    @property
    def needs_auth(self) -> bool:
        return self not in (ChannelKind.PUBLIC, ChannelKind.CACHE)

    @property
    def is_presence(self) -> bool:
        return self in (ChannelKind.PRESENCE, ChannelKind.PRESENCE_CACHE)

    @property
    def is_encrypted(self) -> bool:
        return self in (ChannelKind.PRIVATE_ENCRYPTED, ChannelKind.PRIVATE_ENCRYPTED_CACHE)

    @property
    def is_cache(self) -> bool:
        return self in (
            ChannelKind.CACHE,
            ChannelKind.PRIVATE_CACHE,
            ChannelKind.PRESENCE_CACHE,
            ChannelKind.PRIVATE_ENCRYPTED_CACHE,
        )

    @property
    def label(self) -> str:
        """A short human name, e.g. ``"private encrypted cache"``."""
        return self.name.lower().replace("_", " ")


_PREFIXES = tuple((kind.value, kind) for kind in ChannelKind if kind.value)


def channel_kind(name: str) -> ChannelKind:
    """The kind of a channel name (the name is not validated here)."""
    for prefix, kind in _PREFIXES:
        if name.startswith(prefix):
            return kind
    return ChannelKind.PUBLIC


def is_server_to_user(name: str) -> bool:
    return name.startswith(SERVER_TO_USER_PREFIX)


def validate_channel_name(name: object, *, allow_server_to_user: bool = False) -> str:
    """Return ``name`` if it is a valid channel name, else raise with the reason."""
    if not isinstance(name, str) or not name:
        raise PusherValidationError(f"Channel name must be a non-empty string, got {name!r}.")
    _check(name, bool(allow_server_to_user))
    return name


@functools.lru_cache(maxsize=4096)
def _check(name: str, allow_server_to_user: bool) -> None:
    """Remembered: every broadcasting save validates the same few names again.

    Only valid names are kept (a raised error is not cached), and the size
    bounds what a stream of distinct names can hold.
    """
    if len(name) > MAX_CHANNEL_NAME_LENGTH:
        raise PusherValidationError(
            f"Channel name is {len(name)} characters long; "
            f"the limit is {MAX_CHANNEL_NAME_LENGTH}: {name[:40]!r}..."
        )
    if is_server_to_user(name):
        if not allow_server_to_user:
            raise PusherValidationError(
                f"{name!r} is reserved for send-to-user; use send_to_user() instead."
            )
        rest = name[len(SERVER_TO_USER_PREFIX) :]
        if not _NAME_RE.match(rest):
            raise PusherValidationError(f"Invalid user id in channel name {name!r}.")
        return
    if not _NAME_RE.match(name):
        raise PusherValidationError(
            f"Invalid channel name {name!r}: only letters, digits and _ - = @ , . ; are allowed."
        )
    kind = channel_kind(name)
    if kind is not ChannelKind.PUBLIC and len(name) == len(kind.value):
        raise PusherValidationError(f"Channel name {name!r} is only a prefix.")


def is_presence(name: str) -> bool:
    return channel_kind(name).is_presence


def is_encrypted(name: str) -> bool:
    return channel_kind(name).is_encrypted
