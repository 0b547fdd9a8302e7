"""Validation of the identifiers that are not channel names, and of numbers in requests.

Socket ids, event names and user ids come from browsers and application
code; each is checked before it reaches a signature, the database or the
network so that the caller gets a clear :class:`PusherValidationError`
instead of a server 400, a database error or a signature over garbage.
Digits are ASCII only: ``str.isdigit()`` and ``\\d`` also accept ``²`` (which
``int()`` refuses) and ``١٢`` (which ``int()`` reads as 12).
"""

from __future__ import annotations

import re
from typing import TypeGuard

from .channels import NAME_ALPHABET
from .exceptions import PusherValidationError

MAX_EVENT_NAME_LENGTH = 200
MAX_USER_ID_LENGTH = 200
#: What Pusher servers hand out: two runs of ASCII digits (at most 41 characters in all).
_SOCKET_ID_RE = re.compile(r"\A[0-9]{1,20}\.[0-9]{1,20}\Z")
_USER_ID_RE = re.compile(rf"\A[{NAME_ALPHABET}]+\Z")
_DIGITS_RE = re.compile(r"\A[0-9]{1,20}\Z")


def is_socket_id(value: object) -> TypeGuard[str]:
    """Whether ``value`` is a socket id: ``[0-9]{1,20}.[0-9]{1,20}``, ASCII."""
    return isinstance(value, str) and _SOCKET_ID_RE.match(value) is not None


def validate_socket_id(socket_id: object) -> str:
    if not is_socket_id(socket_id):
        raise PusherValidationError(
            f"Invalid socket id {str(socket_id)[:40]!r}: expected digits.digits "
            "(ASCII, at most 20 each), e.g. '1234.5678'."
        )
    return socket_id


def parse_whole_number(value: str | None, name: str, low: int, high: int) -> int | None:
    """A request parameter that must be a whole number from ``low`` to ``high``.

    ``None`` when absent or empty. Only ASCII digits (at most 20) count; a
    sign, spaces or any other digit is refused with the reason.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _DIGITS_RE.match(value) or not low <= int(value) <= high:
        raise PusherValidationError(f"{name} must be a whole number from {low} to {high}.")
    return int(value)


def _bounded_text(value: object, what: str, limit: int) -> str:
    if not isinstance(value, str) or not value:
        raise PusherValidationError(f"{what} must be a non-empty string, got {value!r}.")
    if len(value) > limit:
        raise PusherValidationError(
            f"{what} is {len(value)} characters long; the limit is {limit}."
        )
    return value


def utf8(text: str, what: str) -> bytes:
    """``text`` as UTF-8; a lone surrogate, which no database or server takes, is refused."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise PusherValidationError(
            f"{what} is not valid Unicode text (position {err.start}): {err.reason}."
        ) from err


def validate_event_name(name: object) -> str:
    """Any text Pusher takes, except what no database (NUL) or UTF-8 (a lone surrogate) holds."""
    name = _bounded_text(name, "Event name", MAX_EVENT_NAME_LENGTH)
    if "\x00" in name:
        raise PusherValidationError("Event name may not contain a NUL character (U+0000).")
    utf8(name, "Event name")
    return name


def validate_user_id(user_id: object) -> str:
    user_id = _bounded_text(user_id, "User id", MAX_USER_ID_LENGTH)
    if not _USER_ID_RE.match(user_id):
        raise PusherValidationError(
            f"Invalid user id {user_id[:40]!r}: only letters, digits and _ - = @ , . ; are allowed."
        )
    return user_id
