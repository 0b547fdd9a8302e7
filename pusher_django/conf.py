"""Settings: one ``DEFAULTS`` dict, read lazily, validated in one place.

Nothing here reads settings at import time. :func:`get_config` builds a
frozen :class:`PusherConfig` on first use and caches it; the cache is cleared
when ``override_settings`` changes ``PUSHER`` or ``PUSHER_URL`` (and by
:func:`reset_config`, for the environment variable). :func:`find_problems`
is shared by :func:`get_config` and the system checks so that both always
agree on what is wrong.
"""

from __future__ import annotations

import base64
import binascii
import copy
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from .channels import validate_channel_name
from .exceptions import PusherConfigurationError, PusherValidationError

DEFAULTS: dict[str, Any] = {
    "APP_ID": None,
    "KEY": None,
    "SECRET": None,
    "CLUSTER": None,
    "HOST": None,
    "PORT": None,
    "WS_HOST": None,
    "WS_PORT": None,
    "USE_TLS": True,
    "ENCRYPTION_MASTER_KEY_BASE64": None,
    "TIMEOUT": 5,
    # Hosted Pusher refuses event data over 10 KB; self-hosted servers may allow more.
    "MAX_PAYLOAD_BYTES": 10240,
    "AUTH": {
        # Dotted path of a ChannelPolicy subclass replacing the @channel rules.
        "POLICY": None,
        # Dotted path of callable(user) -> str: the presence user id (default: the pk).
        "PRESENCE_USER_ID": None,
        # Dotted path of callable(request) -> dict: the user data of pusher.signin().
        "USER_DATA": None,
    },
    "CELERY": {
        "QUEUE": None,  # None: Celery's default queue
        "MAX_RETRIES": 10,
        "RETRY_BACKOFF": 1.0,  # seconds before the first retry, doubled each time
        "RETRY_BACKOFF_MAX": 300.0,
    },
    "USERS": {
        "TERMINATE_ON_DEACTIVATE": True,  # is_active False or user deleted
        "TERMINATE_ON_LOGOUT": False,
    },
    "LISTENER": {
        "CHANNELS": [],  # joined by `manage.py pusher_listen` in addition to --channel
        "USER_ID": "pusher-django-listener",  # the listener's presence member id / sign-in id
        "USER_INFO": None,  # its presence user_info
        "SIGNIN": True,  # pusher:signin, needed by servers with authorized connections
        "ACTIVITY_TIMEOUT": 120.0,  # seconds of silence before a ping (server's value if lower)
        "PONG_TIMEOUT": 30.0,  # seconds to wait for the pong before reconnecting
        "RECONNECT_BACKOFF": 1.0,  # first delay after a failure, doubled each time
        "RECONNECT_BACKOFF_MAX": 60.0,
        "CLIENT_EVENTS_PER_SECOND": 10,  # Pusher's client event limit per connection
        "LOCK_URL": None,  # Redis URL for --lock (default: CELERY_BROKER_URL)
        "LOCK_TTL": 15.0,  # seconds before a dead lock holder is replaced
    },
    "ADMIN": {
        "CACHE_SECONDS": 5,  # the channel list is cached this long (0: always live)
    },
    "OUTBOX": {
        "RETENTION": 86400.0,  # seconds sent rows are kept before pruning
        "LEASE": 60.0,  # seconds a claimed row is reserved for the worker sending it
        "CLAIM_SIZE": 50,  # rows one worker claims at a time (five batch requests)
        "RELAY_INTERVAL": 5.0,  # seconds between passes of `manage.py pusher_outbox`
        "COALESCE_WINDOW": 0.0,  # seconds coalescing broadcasts wait to merge later updates
        "BACKLOG_WARNING": 60.0,  # seconds; an older pending row is logged as a warning
        "ID_FIELD": "_pusher_id",  # key carrying the event id in JSON-object data (None: off)
    },
    "WEBHOOKS": {
        "ASYNC": False,  # True: verify, enqueue a Celery task, answer 200 at once
        "MAX_AGE": 300,  # seconds; older deliveries (time_ms) are refused, None disables
        "DEDUP_TTL": 600,  # seconds a handled event is remembered (retried deliveries)
        "CACHE": "default",  # cache alias for that memory
    },
}

DEFAULT_CLUSTER = "mt1"
_URL_RE = re.compile(r"\A/apps/(?P<app_id>[^/]+)/?\Z")
_CLUSTER_RE = re.compile(r"\A[a-z0-9-]+\Z")
_HOST_RE = re.compile(r"\A[A-Za-z0-9.\-_\[\]:]+\Z")

Level = Literal["error", "warning"]
_CREDENTIALS_RE = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]*@")


def redact(text: str) -> str:
    """``https://KEY:SECRET@host`` → ``https://***@host``, wherever a URL appears in ``text``."""
    return _CREDENTIALS_RE.sub(r"\g<scheme>***@", text)


def shown(value: Any) -> str:
    """A setting's value as a check message may echo it: credentials out, length capped."""
    text = redact(repr(value))
    return text if len(text) <= 80 else text[:79] + "…"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the configuration, with a stable id and a fix."""

    id: str
    message: str
    hint: str
    level: Level = "error"


@dataclass(frozen=True)
class PusherConfig:
    """Resolved, validated configuration. Secrets are kept out of ``repr``."""

    app_id: str
    key: str
    secret: str = field(repr=False)
    host: str
    port: int
    ws_host: str
    ws_port: int
    use_tls: bool
    timeout: float
    max_payload_bytes: int
    cluster: str | None = None
    encryption_master_key: bytes | None = field(default=None, repr=False)

    @property
    def scheme(self) -> str:
        return "https" if self.use_tls else "http"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        scheme = "wss" if self.use_tls else "ws"
        return f"{scheme}://{self.ws_host}:{self.ws_port}/app/{self.key}"


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


def _pusher_url() -> str | None:
    url = getattr(settings, "PUSHER_URL", None) or os.environ.get("PUSHER_URL")
    return url or None


def merged_settings() -> tuple[dict[str, Any], list[Problem]]:
    """DEFAULTS, then ``PUSHER_URL``, then the ``PUSHER`` dict (which wins)."""
    problems: list[Problem] = []
    values = copy.deepcopy(DEFAULTS)
    url = _pusher_url()
    if url:
        try:
            values.update(parse_pusher_url(url))
        except ValueError as err:
            problems.append(
                Problem(
                    "pusher_django.E006",
                    str(err),
                    "Set PUSHER_URL to http[s]://KEY:SECRET@HOST[:PORT]/apps/APP_ID.",
                )
            )
    user = getattr(settings, "PUSHER", None)
    if user is None:
        user = {}
    if not isinstance(user, Mapping):
        problems.append(
            Problem(
                "pusher_django.E001",
                "The PUSHER setting must be a dict.",
                'Set PUSHER = {"APP_ID": ..., "KEY": ..., "SECRET": ...} in your settings.',
            )
        )
        return values, problems
    for name, value in user.items():
        if name not in DEFAULTS:
            problems.append(
                Problem(
                    "pusher_django.W001",
                    f"Unknown key PUSHER[{name!r}] is ignored.",
                    f"Use one of: {', '.join(sorted(DEFAULTS))}.",
                    "warning",
                )
            )
        elif isinstance(DEFAULTS[name], dict) and isinstance(value, Mapping):
            values[name] = {**DEFAULTS[name], **value}
        else:
            values[name] = value
    return values, problems


@lru_cache(maxsize=1)
def _merged_values() -> dict[str, Any]:
    return merged_settings()[0]


def section(name: str) -> dict[str, Any]:
    """A nested settings section (e.g. ``"CELERY"``) merged over its defaults.

    Merged once and cached (cleared with the configuration), since the
    outbox reads its section on every save.
    """
    result = _merged_values().get(name)
    return dict(result) if isinstance(result, Mapping) else dict(DEFAULTS[name])


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


def _is_port(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536


def _check_credentials(v: Mapping[str, Any]) -> list[Problem]:
    problems = []
    app_id = v["APP_ID"]
    if app_id in (None, ""):
        problems.append(
            Problem(
                "pusher_django.E002",
                "PUSHER['APP_ID'] is not set.",
                "Set PUSHER['APP_ID'] to your app's numeric id, or set PUSHER_URL.",
            )
        )
    elif not re.fullmatch(r"[0-9]+", str(app_id)):
        problems.append(
            Problem(
                "pusher_django.E003",
                f"PUSHER['APP_ID'] must be numeric, got {shown(app_id)}.",
                "Copy the numeric app id from the Pusher dashboard (App Keys).",
            )
        )
    for name, pid in (("KEY", "E004"), ("SECRET", "E005")):
        if not v[name] or not isinstance(v[name], str):
            problems.append(
                Problem(
                    f"pusher_django.{pid}",
                    f"PUSHER[{name!r}] is not set.",
                    f"Set PUSHER[{name!r}] from the Pusher dashboard (App Keys) or set PUSHER_URL.",
                )
            )
    return problems


def _check_hosts(v: Mapping[str, Any]) -> list[Problem]:
    problems = []
    cluster, host = v["CLUSTER"], v["HOST"]
    if cluster is not None and not (isinstance(cluster, str) and _CLUSTER_RE.match(cluster)):
        problems.append(
            Problem(
                "pusher_django.E014",
                f"PUSHER['CLUSTER'] {shown(cluster)} is not a cluster name.",
                "Set PUSHER['CLUSTER'] to a name such as 'mt1' or 'eu'.",
            )
        )
    for name in ("HOST", "WS_HOST"):
        value = v[name]
        if value is not None and not (isinstance(value, str) and _HOST_RE.match(value)):
            problems.append(
                Problem(
                    "pusher_django.E015",
                    f"PUSHER[{name!r}] must be a bare host name, got {shown(value)}.",
                    f"Set PUSHER[{name!r}] without scheme or path, e.g. '127.0.0.1'; "
                    "use USE_TLS and PORT for the rest.",
                )
            )
    if cluster and host and host != f"api-{cluster}.pusher.com":
        problems.append(
            Problem(
                "pusher_django.E010",
                f"PUSHER['CLUSTER'] ({shown(cluster)}) and PUSHER['HOST'] ({shown(host)}) "
                "contradict "
                "each other.",
                "Set CLUSTER for hosted Pusher or HOST for a self-hosted server, not both.",
            )
        )
    for name, pid in (("PORT", "E008"), ("WS_PORT", "E009")):
        if v[name] is not None and not _is_port(v[name]):
            problems.append(
                Problem(
                    f"pusher_django.{pid}",
                    f"PUSHER[{name!r}] must be an integer from 1 to 65535, got {shown(v[name])}.",
                    f"Set PUSHER[{name!r}] to a port number, or None for the default.",
                )
            )
    return problems


def _check_options(v: Mapping[str, Any]) -> list[Problem]:
    problems = []
    if not isinstance(v["USE_TLS"], bool):
        problems.append(
            Problem(
                "pusher_django.E012",
                "PUSHER['USE_TLS'] must be True or False.",
                "Set PUSHER['USE_TLS'] = True for hosted Pusher.",
            )
        )
    timeout = v["TIMEOUT"]
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        problems.append(
            Problem(
                "pusher_django.E011",
                f"PUSHER['TIMEOUT'] must be a positive number of seconds, got {shown(timeout)}.",
                "Set PUSHER['TIMEOUT'] = 5.",
            )
        )
    size = v["MAX_PAYLOAD_BYTES"]
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        problems.append(
            Problem(
                "pusher_django.E013",
                f"PUSHER['MAX_PAYLOAD_BYTES'] must be a positive integer, got {shown(size)}.",
                "Set PUSHER['MAX_PAYLOAD_BYTES'] = 10240 (the hosted Pusher limit).",
            )
        )
    key = v["ENCRYPTION_MASTER_KEY_BASE64"]
    if key is not None:
        try:
            parse_master_key(key)
        except ValueError as err:
            problems.append(
                Problem(
                    "pusher_django.E007",
                    f"{err}.",
                    "Generate one with `openssl rand -base64 32` and set "
                    "PUSHER['ENCRYPTION_MASTER_KEY_BASE64'].",
                )
            )
    return problems


_POSITIVE = {
    "LISTENER": (
        "ACTIVITY_TIMEOUT",
        "PONG_TIMEOUT",
        "RECONNECT_BACKOFF",
        "RECONNECT_BACKOFF_MAX",
        "CLIENT_EVENTS_PER_SECOND",
        "LOCK_TTL",
    ),
    "WEBHOOKS": ("DEDUP_TTL",),
    "OUTBOX": ("RETENTION", "LEASE", "CLAIM_SIZE", "RELAY_INTERVAL", "BACKLOG_WARNING"),
}


def _check_sections(v: Mapping[str, Any]) -> list[Problem]:
    """The listener and webhook sections: only what would fail later and far away."""
    problems = []
    channels = v["LISTENER"].get("CHANNELS")
    if not isinstance(channels, list | tuple):
        channels = [f"{channels!r} (not a list)"]
    for name in channels:
        try:
            validate_channel_name(name)
        except PusherValidationError as err:
            problems.append(
                Problem(
                    "pusher_django.E016",
                    f"PUSHER['LISTENER']['CHANNELS'] must be a list of channel names: {err}",
                    "Set PUSHER['LISTENER']['CHANNELS'] = ['presence-room-1', ...].",
                )
            )
    numbers = [(section, name) for section, keys in _POSITIVE.items() for name in keys]
    for section_name, name in numbers:
        value = v[section_name].get(name)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            problems.append(
                Problem(
                    "pusher_django.E017",
                    f"PUSHER[{section_name!r}][{name!r}] must be a positive number, "
                    f"got {shown(value)}.",
                    f"Remove PUSHER[{section_name!r}][{name!r}] to use the default "
                    f"({DEFAULTS[section_name][name]!r}).",
                )
            )
    problems.extend(_check_outbox(v))
    alias = v["WEBHOOKS"].get("CACHE")
    if alias not in getattr(settings, "CACHES", {"default": {}}):
        problems.append(
            Problem(
                "pusher_django.E018",
                f"PUSHER['WEBHOOKS']['CACHE'] names the cache {shown(alias)}, "
                "which is not in CACHES.",
                "Set it to an alias of settings.CACHES (the webhook endpoint remembers "
                "handled events there).",
            )
        )
    return problems


def _check_outbox(v: Mapping[str, Any]) -> list[Problem]:
    problems = []
    outbox = v["OUTBOX"]
    window = outbox.get("COALESCE_WINDOW")
    if isinstance(window, bool) or not isinstance(window, int | float) or window < 0:
        problems.append(
            Problem(
                "pusher_django.E019",
                f"PUSHER['OUTBOX']['COALESCE_WINDOW'] must be a number of seconds >= 0, "
                f"got {shown(window)}.",
                "Set it to 0 (merge within one transaction only) or a few seconds.",
            )
        )
    id_field = outbox.get("ID_FIELD")
    if id_field is not None and not (isinstance(id_field, str) and id_field):
        problems.append(
            Problem(
                "pusher_django.E020",
                f"PUSHER['OUTBOX']['ID_FIELD'] must be a non-empty string or None, "
                f"got {shown(id_field)}.",
                "Set it to '_pusher_id' (the default) or None to send no event id.",
            )
        )
    lease, size, timeout = outbox.get("LEASE"), outbox.get("CLAIM_SIZE"), v["TIMEOUT"]
    numbers = (lease, size, timeout)
    if all(isinstance(n, int | float) and not isinstance(n, bool) and n > 0 for n in numbers):
        requests_per_claim = -(-int(size) // 10)
        if lease <= timeout * requests_per_claim:
            problems.append(
                Problem(
                    "pusher_django.W002",
                    f"PUSHER['OUTBOX']['LEASE'] ({lease:g} s) is not longer than sending one "
                    f"claim can take ({requests_per_claim} requests x TIMEOUT {timeout:g} s): "
                    "slow sends may be claimed again and sent twice.",
                    "Raise OUTBOX['LEASE'] or lower OUTBOX['CLAIM_SIZE'] or TIMEOUT.",
                    "warning",
                )
            )
    return problems


def _check_reports(_values: Mapping[str, Any]) -> list[Problem]:
    """The ``PUSHER_URL`` setting's secret must not reach Django's error reports."""
    url = getattr(settings, "PUSHER_URL", None)
    try:
        secret = urlsplit(url).password if isinstance(url, str) else None
    except ValueError:
        secret = None
    if not url or not secret:
        return []
    from django.views.debug import get_default_exception_reporter_filter

    shown_in_reports = get_default_exception_reporter_filter().cleanse_setting("PUSHER_URL", url)
    if secret not in str(shown_in_reports):
        return []
    return [
        Problem(
            "pusher_django.W003",
            "Django's error reports (the 500 page and the ADMINS mail) would show the secret "
            "in the PUSHER_URL setting.",
            "Set DEFAULT_EXCEPTION_REPORTER_FILTER = "
            "'pusher_django.reporting.SafeExceptionReporterFilter', or read PUSHER_URL from "
            "the environment instead of settings.",
            "warning",
        )
    ]


_CHECKERS = [_check_credentials, _check_hosts, _check_options, _check_sections, _check_reports]


def find_problems() -> list[Problem]:
    """Every configuration problem, errors and warnings, in a stable order."""
    values, problems = merged_settings()
    if any(p.id == "pusher_django.E001" for p in problems):
        return problems
    for checker in _CHECKERS:
        problems.extend(checker(values))
    return problems


def _build(v: Mapping[str, Any]) -> PusherConfig:
    cluster = v["CLUSTER"]
    host = v["HOST"]
    use_tls = bool(v["USE_TLS"])
    default_port = 443 if use_tls else 80
    if host:
        port = v["PORT"] or default_port
        ws_host = v["WS_HOST"] or host
        ws_port = v["WS_PORT"] or (v["PORT"] or default_port)
    else:
        cluster = cluster or DEFAULT_CLUSTER
        host = f"api-{cluster}.pusher.com"
        port = v["PORT"] or default_port
        ws_host = v["WS_HOST"] or f"ws-{cluster}.pusher.com"
        ws_port = v["WS_PORT"] or default_port
    key_b64 = v["ENCRYPTION_MASTER_KEY_BASE64"]
    return PusherConfig(
        app_id=str(v["APP_ID"]),
        key=v["KEY"],
        secret=v["SECRET"],
        host=host,
        port=port,
        ws_host=ws_host,
        ws_port=ws_port,
        use_tls=use_tls,
        timeout=float(v["TIMEOUT"]),
        max_payload_bytes=v["MAX_PAYLOAD_BYTES"],
        cluster=cluster,
        encryption_master_key=parse_master_key(key_b64) if key_b64 else None,
    )


@lru_cache(maxsize=1)
def get_config() -> PusherConfig:
    """The validated configuration; raises :class:`PusherConfigurationError`."""
    errors = [p for p in find_problems() if p.level == "error"]
    if errors:
        details = "; ".join(f"{p.message} ({p.id}: {p.hint})" for p in errors)
        raise PusherConfigurationError(f"Pusher is not configured correctly: {details}")
    values, _ = merged_settings()
    return _build(values)


_resetters: list[Any] = []


def on_reset(func: Any) -> Any:
    """Register a cache-clearing function run whenever the configuration changes."""
    _resetters.append(func)
    return func


def reset_config() -> None:
    """Forget the cached configuration (after changing ``PUSHER_URL`` in the environment)."""
    get_config.cache_clear()
    _merged_values.cache_clear()
    for func in _resetters:
        func()


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in ("PUSHER", "PUSHER_URL"):
        reset_config()
