"""Every ``manage.py check`` id, in one table: one id names one fault.

Ids are stable so that projects can list them in ``SILENCED_SYSTEM_CHECKS``;
``docs/checks.md`` is this table for readers (a test keeps the two equal).
A setting's rule, a merge problem and a cross-field check all take their id
from here, never from a literal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["CODES", "Code", "Level"]

Level = Literal["error", "warning"]


@dataclass(frozen=True)
class Code:
    """A check id, whether it is an error or a warning, and the one fault it names."""

    id: str
    level: Level
    fault: str


def _error(number: int, fault: str) -> Code:
    return Code(f"pusher_django.E{number:03d}", "error", fault)


def _warning(number: int, fault: str) -> Code:
    return Code(f"pusher_django.W{number:03d}", "warning", fault)


NOT_A_DICT = _error(1, "`PUSHER` is not a dict")
APP_ID_MISSING = _error(2, "`APP_ID` is not set")
APP_ID_NOT_NUMERIC = _error(3, "`APP_ID` is not numeric")
KEY_MISSING = _error(4, "`KEY` is not set (or not a string)")
SECRET_MISSING = _error(5, "`SECRET` is not set (or not a string)")
BAD_PUSHER_URL = _error(6, "`PUSHER_URL` is malformed")
BAD_MASTER_KEY = _error(7, "`ENCRYPTION_MASTER_KEY_BASE64` is not the base64 of 32 bytes")
BAD_PORT = _error(8, "`PORT` is not a port number (1-65535) or `None`")
BAD_WS_PORT = _error(9, "`WS_PORT` is not a port number (1-65535) or `None`")
CLUSTER_AND_HOST = _error(10, "`CLUSTER` and `HOST` contradict each other")
BAD_TIMEOUT = _error(11, "`TIMEOUT` is not a positive number of seconds")
BAD_USE_TLS = _error(12, "`USE_TLS` is not `True` or `False`")
BAD_MAX_PAYLOAD = _error(13, "`MAX_PAYLOAD_BYTES` is not a positive integer")
BAD_CLUSTER = _error(14, "`CLUSTER` is not a cluster name (such as `mt1`) or `None`")
BAD_HOST = _error(15, "`HOST` or `WS_HOST` is not a bare host name (it has a scheme or path)")
BAD_CHANNELS = _error(16, '`LISTENER["CHANNELS"]` is not a list of valid channel names')
NOT_POSITIVE = _error(17, "a section's number that must be positive is not a positive number")
NO_SUCH_CACHE = _error(18, "a section's `CACHE` is not an alias in `settings.CACHES`")
NEGATIVE = _error(19, "a section's number that may be 0 is negative or not a number")
NOT_TEXT_OR_NONE = _error(20, "a section's value is neither a non-empty string nor `None`")
SECTION_NOT_A_DICT = _error(21, "a section of `PUSHER` is not a dict (its defaults are used)")
NOT_IMPORTABLE = _error(22, "an `AUTH` dotted path cannot be imported")
NOT_A_FLAG = _error(23, "a section's flag is not `True` or `False`")
NOT_A_COUNT = _error(24, "a section's count is not an integer >= 0")
NOT_POSITIVE_INT = _error(25, "a section's value is not a positive integer")
NOT_POSITIVE_OR_NONE = _error(26, "a section's value is neither a positive number nor `None`")
NOT_TEXT = _error(27, "a section's value is not a non-empty string")
NOT_A_DICT_OR_NONE = _error(28, "a section's value is neither a dict nor `None`")
UNKNOWN_KEY = _warning(1, "an unknown key in `PUSHER` or one of its sections (a typo?)")
SHORT_LEASE = _warning(2, '`OUTBOX["LEASE"]` is not longer than sending one claim can take')
SECRET_IN_REPORTS = _warning(3, "the `PUSHER_URL` secret would show in Django's error reports")
SMALL_REFERENCE_LIMIT = _warning(
    4, '`OUTBOX["MAX_REFERENCE_BYTES"]` is not above `MAX_PAYLOAD_BYTES`'
)
ONE_INSERT_PER_SAVE = _warning(
    5, "a database that holds the outbox writes it once per broadcast, not once per transaction"
)

#: Every code, in id order (errors, then warnings).
CODES: tuple[Code, ...] = tuple(
    sorted(
        (value for value in dict(globals()).values() if isinstance(value, Code)),
        key=lambda code: (code.level != "error", code.id),
    )
)
