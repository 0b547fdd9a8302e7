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

from . import codes, sections
from .connection import DEFAULT_CLUSTER, ConnectionSettings, hosted_host
from .consistency import CROSS_CHECKS
from .parsing import parse_pusher_url
from .problem import Problem, shown
from .rules import build_fields, check_fields, defaults_of
from .sections import SECTIONS

__all__ = ["DEFAULTS", "PusherConfig", "find_problems", "get_config", "on_reset", "reset_config"]

#: Every setting and its default: the top-level keys, then one dict per section.
DEFAULTS: dict[str, Any] = {
    **defaults_of(ConnectionSettings),
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
    auth: sections.AuthSettings = field(default_factory=sections.AuthSettings)
    celery: sections.CelerySettings = field(default_factory=sections.CelerySettings)
    users: sections.UsersSettings = field(default_factory=sections.UsersSettings)
    listener: sections.ListenerSettings = field(default_factory=sections.ListenerSettings)
    admin: sections.AdminSettings = field(default_factory=sections.AdminSettings)
    outbox: sections.OutboxSettings = field(default_factory=sections.OutboxSettings)
    webhooks: sections.WebhookSettings = field(default_factory=sections.WebhookSettings)
    health: sections.HealthSettings = field(default_factory=sections.HealthSettings)

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

    @property
    def hosted(self) -> bool:
        """Whether the websocket goes to hosted Pusher's own host for the cluster."""
        return self.cluster is not None and self.ws_host == hosted_host("ws", self.cluster)


def _pusher_url() -> str | None:
    url = getattr(settings, "PUSHER_URL", None) or os.environ.get("PUSHER_URL")
    return url or None


def _merged_settings() -> tuple[dict[str, Any], list[Problem]]:
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
                    codes.BAD_PUSHER_URL,
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
                codes.NOT_A_DICT,
                "The PUSHER setting must be a dict.",
                'Set PUSHER = {"APP_ID": ..., "KEY": ..., "SECRET": ...} in your settings.',
            )
        )
        return values, problems
    problems.extend(_unknown_keys("PUSHER", user, DEFAULTS))
    for name, value in user.items():
        if name not in DEFAULTS:
            continue
        if name not in SECTIONS:
            values[name] = value
        elif isinstance(value, Mapping):
            problems.extend(_unknown_keys(f"PUSHER[{name!r}]", value, DEFAULTS[name]))
            values[name] = {**DEFAULTS[name], **value}
        else:
            problems.append(
                Problem(
                    codes.SECTION_NOT_A_DICT,
                    f"PUSHER[{name!r}] must be a dict, got {shown(value)}.",
                    f"Set PUSHER[{name!r}] = {{...}} with the keys to change, or remove it "
                    "to use the defaults.",
                )
            )
    return values, problems


def _unknown_keys(where: str, given: Mapping[str, Any], known: Mapping[str, Any]) -> list[Problem]:
    return [
        Problem(
            codes.UNKNOWN_KEY,
            f"Unknown key {where}[{key!r}] is ignored.",
            f"Use one of: {', '.join(sorted(known))}.",
        )
        for key in given
        if key not in known
    ]


def _check(values: Mapping[str, Any]) -> list[Problem]:
    problems = check_fields(ConnectionSettings, values)
    for name, section_type in SECTIONS.items():
        problems.extend(check_fields(section_type, values[name], name))
    for cross_check in CROSS_CHECKS:
        problems.extend(cross_check(values))
    return problems


def _resolved() -> tuple[dict[str, Any], list[Problem]]:
    values, problems = _merged_settings()
    if not any(p.code is codes.NOT_A_DICT for p in problems):
        problems += _check(values)
    return values, problems


def find_problems() -> list[Problem]:
    """Every configuration problem, errors and warnings, in a stable order."""
    return _resolved()[1]


def _build(values: Mapping[str, Any]) -> PusherConfig:
    given = build_fields(ConnectionSettings, values)
    default_port = 443 if given.use_tls else 80
    port = given.port or default_port
    cluster = given.cluster
    if given.host:
        host = given.host
        ws_host = given.ws_host or host
        ws_port = given.ws_port or port
    else:
        cluster = cluster or DEFAULT_CLUSTER
        host = hosted_host("api", cluster)
        ws_host = given.ws_host or hosted_host("ws", cluster)
        ws_port = given.ws_port or default_port
    sections = {
        name.lower(): build_fields(section_type, values[name])
        for name, section_type in SECTIONS.items()
    }
    return PusherConfig(
        app_id=str(given.app_id),
        key=str(given.key),
        secret=str(given.secret),
        host=host,
        port=port,
        ws_host=ws_host,
        ws_port=ws_port,
        use_tls=given.use_tls,
        timeout=given.timeout,
        max_payload_bytes=given.max_payload_bytes,
        cluster=cluster,
        encryption_master_key=given.encryption_master_key,
        **sections,
    )


@lru_cache(maxsize=1)
def get_config() -> PusherConfig:
    """The validated configuration, sections included; raises :class:`PusherConfigurationError`.

    Built once and cached until the settings change, so reading a section on
    a hot path (every save, every auth request) costs an attribute lookup.
    """
    values, problems = _resolved()
    errors = [p for p in problems if p.level == "error"]
    if errors:
        details = "; ".join(f"{p.message} ({p.id}: {p.hint})" for p in errors)
        raise PusherConfigurationError(f"Pusher is not configured correctly: {details}")
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
