"""Channel authorization rules declared in Python.

Projects declare who may join which channel with ``@channel("pattern")`` in
``<app>/pusher_channels.py`` modules, discovered at start-up like
``admin.py``. A pattern's ``{name}`` placeholders become keyword arguments.
A placeholder matches one *segment*: it never spans ``-`` or ``.``, the
separators channel names are built with, so ``private-room-{room}`` cannot
match ``private-room-lobby-staff``. Converters widen or narrow that, as in
Django's URL patterns: ``{id:int}`` (digits, passed as an ``int``),
``{name:slug}`` (letters, digits, ``_`` and ``-``), ``{rest:any}`` (every
channel-name character). When several patterns match, the most specific one
(the most literal characters) decides, whatever the declaration order.
A rule returns a falsy value to deny, ``True`` to allow or, for presence
channels, a dict of ``user_info``. Channels that need authorization and match
no rule are denied. Projects that prefer a class can set
``PUSHER["AUTH"]["POLICY"]`` to the dotted path of a :class:`ChannelPolicy`
subclass.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.utils.module_loading import import_string

from .conf import section

logger = logging.getLogger(__name__)

Rule = Callable[..., Any]
_PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([a-z]+))?\}")
#: converter -> (regex, conversion of the matched text); narrowest first
CONVERTERS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "int": (r"[0-9]+", int),
    "segment": (r"[a-zA-Z0-9_=@,;]+", str),
    "slug": (r"[-a-zA-Z0-9_]+", str),
    "any": (r"[-a-zA-Z0-9_=@,.;]+", str),
}


@dataclass(frozen=True)
class ChannelRule:
    pattern: str
    regex: re.Pattern[str]
    func: Rule
    allow_anonymous: bool
    wants_request: bool
    conversions: dict[str, Callable[[str], Any]] = field(default_factory=dict)
    #: Sort key: more literal characters first, then narrower converters, then declaration.
    specificity: tuple[int, int, int] = (0, 0, 0)

    def match(self, channel: str) -> dict[str, Any] | None:
        found = self.regex.fullmatch(channel)
        if found is None:
            return None
        return {name: self.conversions[name](value) for name, value in found.groupdict().items()}


def compile_pattern(pattern: str) -> tuple[re.Pattern[str], dict[str, Callable[[str], Any]]]:
    """``"presence-room-{room_id:int}"`` → a regex capturing ``room_id``, and its conversions."""
    parts: list[str] = []
    conversions: dict[str, Callable[[str], Any]] = {}
    last = 0
    for found in _PLACEHOLDER_RE.finditer(pattern):
        name, converter = found[1], found[2] or "segment"
        if converter not in CONVERTERS:
            raise ImproperlyConfigured(
                f"Unknown converter {converter!r} in channel pattern {pattern!r}; "
                f"use one of: {', '.join(sorted(CONVERTERS))}."
            )
        regex, conversions[name] = CONVERTERS[converter]
        parts.append(re.escape(pattern[last : found.start()]))
        parts.append(f"(?P<{name}>{regex})")
        last = found.end()
    parts.append(re.escape(pattern[last:]))
    try:
        return re.compile("".join(parts)), conversions
    except re.error as err:
        raise ImproperlyConfigured(f"Invalid channel pattern {pattern!r}: {err}") from err


def _specificity(pattern: str, index: int) -> tuple[int, int, int]:
    widths = list(CONVERTERS)
    width = sum(widths.index(found[2] or "segment") for found in _PLACEHOLDER_RE.finditer(pattern))
    return (-len(_PLACEHOLDER_RE.sub("", pattern)), width, index)


class RuleRegistry:
    """The rules of this process, most specific first."""

    def __init__(self) -> None:
        self._rules: dict[str, ChannelRule] = {}
        self._ordered: list[ChannelRule] = []

    def register(self, pattern: str, func: Rule, *, allow_anonymous: bool = False) -> None:
        existing = self._rules.get(pattern)
        if existing is not None and existing.func is not func:
            raise ImproperlyConfigured(
                f"Two channel rules for {pattern!r}: {_name(existing.func)} and {_name(func)}."
            )
        parameters = inspect.signature(func).parameters
        regex, conversions = compile_pattern(pattern)
        self._rules[pattern] = ChannelRule(
            pattern=pattern,
            regex=regex,
            func=func,
            allow_anonymous=allow_anonymous,
            wants_request="request" in parameters,
            conversions=conversions,
            specificity=_specificity(pattern, len(self._rules)),
        )
        self._ordered = sorted(self._rules.values(), key=lambda rule: rule.specificity)

    def find(self, channel: str) -> tuple[ChannelRule, dict[str, Any]] | None:
        for rule in self._ordered:
            captured = rule.match(channel)
            if captured is not None:
                return rule, captured
        return None


def _name(func: Rule) -> str:
    return f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', func)}"


registry = RuleRegistry()


def channel(pattern: str, *, allow_anonymous: bool = False) -> Callable[[Rule], Rule]:
    """Register the decorated function as the rule for channels matching ``pattern``.

    Anonymous users are denied before the rule runs unless ``allow_anonymous``.
    A rule with a ``request`` parameter also receives the request.
    """

    def decorate(func: Rule) -> Rule:
        registry.register(pattern, func, allow_anonymous=allow_anonymous)
        return func

    return decorate


class ChannelPolicy:
    """Decides whether a request may subscribe to a channel.

    ``authorize`` returns a falsy value (deny), ``True`` (allow) or a dict of
    presence ``user_info``. Subclass it and name the subclass in
    ``PUSHER["AUTH"]["POLICY"]`` to replace (or extend) the rule registry.
    """

    def authorize(self, request: HttpRequest, channel: str) -> bool | dict[str, Any] | None:
        found = registry.find(channel)
        if found is None:
            logger.info("No channel rule matches %s; denied", channel)
            return False
        rule, captured = found
        user = request.user
        if not user.is_authenticated and not rule.allow_anonymous:
            return False
        if rule.wants_request:
            return rule.func(user, request=request, **captured)  # type: ignore[no-any-return]
        return rule.func(user, **captured)  # type: ignore[no-any-return]


def user_id_for(user: Any) -> str | None:
    """The Pusher user id of a Django user: ``PUSHER["AUTH"]["PRESENCE_USER_ID"]`` or the pk.

    Used for presence members, the default sign-in data and terminating
    connections, so that all three agree.
    """
    path = section("AUTH")["PRESENCE_USER_ID"]
    if path:
        value = import_string(path)(user)
        return None if value in (None, "") else str(value)
    return str(user.pk) if user.is_authenticated else None


def get_policy() -> ChannelPolicy:
    path = section("AUTH")["POLICY"]
    if not path:
        return ChannelPolicy()
    policy_class = import_string(path) if isinstance(path, str) else path
    return policy_class()  # type: ignore[no-any-return]
