"""The top-level keys of ``PUSHER``: credentials, hosts and request options.

Declared like the sections (:func:`.setting`), checked by the same loop,
and resolved into :class:`~pusher_django.conf.PusherConfig` (hosts and ports
filled in from the cluster) by :mod:`.config`. Hosted Pusher's host names
are spelled here and nowhere else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from . import codes
from .parsing import parse_master_key
from .rules import ValueRule, integer, number, optional, setting, text

__all__ = ["DEFAULT_CLUSTER", "ConnectionSettings", "hosted_host"]

DEFAULT_CLUSTER = "mt1"
_CLUSTER_RE = re.compile(r"\A[a-z0-9-]+\Z")
_HOST_RE = re.compile(r"\A[A-Za-z0-9.\-_\[\]:]+\Z")
_CREDENTIAL_HINT = "Set {setting} from the Pusher dashboard (App Keys) or set PUSHER_URL."


def hosted_host(service: Literal["api", "ws"], cluster: str) -> str:
    """Hosted Pusher's REST (``api``) or websocket (``ws``) host of ``cluster``."""
    return f"{service}-{cluster}.pusher.com"


def _is_port(value: Any) -> bool:
    return integer(value) and 0 < value < 65536


def _key_error(value: Any) -> str | None:
    try:
        parse_master_key(value)
    except ValueError as err:
        return str(err)
    return None


def _port(code: codes.Code) -> ValueRule:
    return ValueRule(
        code,
        "an integer from 1 to 65535 or None",
        optional(_is_port),
        hint="Set {setting} to a port number, or None for the default.",
    )


def _host() -> ValueRule:
    return ValueRule(
        codes.BAD_HOST,
        "a bare host name or None",
        optional(lambda v: isinstance(v, str) and _HOST_RE.match(v) is not None),
        hint="Set {setting} without scheme or path, e.g. '127.0.0.1'; "
        "use USE_TLS and PORT for the rest.",
    )


@dataclass(frozen=True)
class ConnectionSettings:
    """The top-level keys as written; ``None`` hosts and ports are resolved later."""

    app_id: str | None = setting(
        None,
        (
            ValueRule(
                codes.APP_ID_MISSING,
                "",
                lambda v: v not in (None, ""),
                hint="Set {setting} to your app's numeric id, or set PUSHER_URL.",
            ),
            ValueRule(
                codes.APP_ID_NOT_NUMERIC,
                "numeric",
                lambda v: re.fullmatch(r"[0-9]+", str(v)) is not None,
                str,
                hint="Copy the numeric app id from the Pusher dashboard (App Keys).",
            ),
        ),
    )
    key: str | None = setting(None, ValueRule(codes.KEY_MISSING, "", text, hint=_CREDENTIAL_HINT))
    secret: str | None = setting(
        None, ValueRule(codes.SECRET_MISSING, "", text, hint=_CREDENTIAL_HINT), secret=True
    )
    cluster: str | None = setting(
        None,
        ValueRule(
            codes.BAD_CLUSTER,
            "a cluster name or None",
            optional(lambda v: isinstance(v, str) and _CLUSTER_RE.match(v) is not None),
            hint="Set {setting} to a name such as 'mt1' or 'eu'.",
        ),
    )
    host: str | None = setting(None, _host())
    port: int | None = setting(None, _port(codes.BAD_PORT))
    ws_host: str | None = setting(None, _host())
    ws_port: int | None = setting(None, _port(codes.BAD_WS_PORT))
    use_tls: bool = setting(
        True,
        ValueRule(
            codes.BAD_USE_TLS,
            "True or False",
            lambda v: isinstance(v, bool),
            hint="Set {setting} = True for hosted Pusher.",
        ),
    )
    encryption_master_key: bytes | None = setting(
        None,
        ValueRule(
            codes.BAD_MASTER_KEY,
            "the base64 of 32 bytes, or None",
            lambda v: v is None or _key_error(v) is None,
            lambda v: None if v is None else parse_master_key(v),
            explain=_key_error,
            hint="Generate one with `openssl rand -base64 32` and set {setting}.",
        ),
        key="ENCRYPTION_MASTER_KEY_BASE64",
        secret=True,
    )
    timeout: float = setting(
        5,
        ValueRule(
            codes.BAD_TIMEOUT,
            "a positive number of seconds",
            lambda v: number(v) and v > 0,
            float,
            hint="Set {setting} = 5.",
        ),
    )
    # Hosted Pusher refuses event data over 10 KB; self-hosted servers may allow more.
    max_payload_bytes: int = setting(
        10240,
        ValueRule(
            codes.BAD_MAX_PAYLOAD,
            "a positive integer",
            lambda v: integer(v) and v > 0,
            hint="Set {setting} = 10240 (the hosted Pusher limit).",
        ),
    )
