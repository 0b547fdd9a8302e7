"""The one cached, typed configuration object and the one list of its problems."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from pusher_django.exceptions import PusherConfigurationError

from . import connection
from .connection import CONNECTION_DEFAULTS, DEFAULT_CLUSTER
from .parsing import parse_master_key, parse_pusher_url
from .problem import Problem, shown
from .sections import (
    SECTIONS,
    AdminSettings,
    AuthSettings,
    CelerySettings,
    HealthSettings,
    ListenerSettings,
    OutboxSettings,
    UsersSettings,
    WebhookSettings,
    build_section,
    check_section,
    defaults_of,
)

#: Every setting and its default: the top-level keys, then one dict per section.
DEFAULTS: dict[str, Any] = {
    **CONNECTION_DEFAULTS,
    **{name: defaults_of(section_type) for name, section_type in SECTIONS.items()},
}


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
    auth: AuthSettings = field(default_factory=AuthSettings)
    celery: CelerySettings = field(default_factory=CelerySettings)
    users: UsersSettings = field(default_factory=UsersSettings)
    listener: ListenerSettings = field(default_factory=ListenerSettings)
    admin: AdminSettings = field(default_factory=AdminSettings)
    outbox: OutboxSettings = field(default_factory=OutboxSettings)
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)
    health: HealthSettings = field(default_factory=HealthSettings)

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


def _pusher_url() -> str | None:
    url = getattr(settings, "PUSHER_URL", None) or os.environ.get("PUSHER_URL")
    return url or None


def merged_settings() -> tuple[dict[str, Any], list[Problem]]:
    """DEFAULTS, then ``PUSHER_URL``, then the ``PUSHER`` dict (which wins), section by section.

    A section that is not a dict is reported and left at its defaults, so
    one bad value never hides the others from ``manage.py check``.
    """
    problems: list[Problem] = []
    values = {name: dict(v) if isinstance(v, dict) else v for name, v in DEFAULTS.items()}
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
        elif name not in SECTIONS:
            values[name] = value
        elif isinstance(value, Mapping):
            values[name] = {**DEFAULTS[name], **value}
        else:
            problems.append(
                Problem(
                    "pusher_django.E021",
                    f"PUSHER[{name!r}] must be a dict, got {shown(value)}.",
                    f"Set PUSHER[{name!r}] = {{...}} with the keys to change, or remove it "
                    "to use the defaults.",
                )
            )
    return values, problems


def _check_sections(values: Mapping[str, Any]) -> list[Problem]:
    problems = []
    for name, section_type in SECTIONS.items():
        problems.extend(check_section(name, section_type, values[name]))
    return problems


_CHECKERS: list[Callable[[Mapping[str, Any]], list[Problem]]] = [
    connection.check_credentials,
    connection.check_hosts,
    connection.check_options,
    _check_sections,
    connection.check_outbox_lease,
    connection.check_reports,
]


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
    sections = {
        name.lower(): build_section(section_type, v[name])
        for name, section_type in SECTIONS.items()
    }
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
        **sections,
    )


@lru_cache(maxsize=1)
def get_config() -> PusherConfig:
    """The validated configuration, sections included; raises :class:`PusherConfigurationError`.

    Built once and cached until the settings change, so reading a section on
    a hot path (every save, every auth request) costs an attribute lookup.
    """
    errors = [p for p in find_problems() if p.level == "error"]
    if errors:
        details = "; ".join(f"{p.message} ({p.id}: {p.hint})" for p in errors)
        raise PusherConfigurationError(f"Pusher is not configured correctly: {details}")
    values, _ = merged_settings()
    return _build(values)


_resetters: list[Callable[[], Any]] = []


def on_reset(func: Any) -> Any:
    """Register a cache-clearing function run whenever the configuration changes."""
    _resetters.append(func)
    return func


def reset_config() -> None:
    """Forget the cached configuration (after changing ``PUSHER_URL`` in the environment)."""
    get_config.cache_clear()
    for func in _resetters:
        func()


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in ("PUSHER", "PUSHER_URL", "CACHES"):
        reset_config()
