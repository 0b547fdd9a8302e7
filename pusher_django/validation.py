"""Validation of the identifiers that are not channel names.

Socket ids, event names and user ids come from browsers and application
code; each is checked before it reaches a signature or the network so that
the caller gets a clear :class:`PusherValidationError` instead of a server
400 (or, worse, a signature over garbage).
"""

from __future__ import annotations

import re

from .channels import NAME_ALPHABET
from .exceptions import PusherValidationError

MAX_EVENT_NAME_LENGTH = 200
MAX_USER_ID_LENGTH = 200
_SOCKET_ID_RE = re.compile(r"\A\d+\.\d+\Z")
_USER_ID_RE = re.compile(rf"\A[{NAME_ALPHABET}]+\Z")


def validate_socket_id(socket_id: object) -> str:
    if not isinstance(socket_id, str) or not _SOCKET_ID_RE.match(socket_id):
        raise PusherValidationError(
            f"Invalid socket id {str(socket_id)[:40]!r}: expected digits.digits, e.g. '1234.5678'."
        )
    return socket_id


def validate_event_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise PusherValidationError(f"Event name must be a non-empty string, got {name!r}.")
    if len(name) > MAX_EVENT_NAME_LENGTH:
        raise PusherValidationError(
            f"Event name is {len(name)} characters long; the limit is {MAX_EVENT_NAME_LENGTH}."
        )
    return name


def validate_user_id(user_id: object) -> str:
    if not isinstance(user_id, str) or not user_id:
        raise PusherValidationError(f"User id must be a non-empty string, got {user_id!r}.")
    if len(user_id) > MAX_USER_ID_LENGTH:
        raise PusherValidationError(
            f"User id is {len(user_id)} characters long; the limit is {MAX_USER_ID_LENGTH}."
        )
    if not _USER_ID_RE.match(user_id):
        raise PusherValidationError(
            f"Invalid user id {user_id[:40]!r}: only letters, digits and _ - = @ , . ; are allowed."
        )
    return user_id
