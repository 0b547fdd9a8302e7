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

import functools
import inspect
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.utils.module_loading import import_string

from .channels import NAME_ALPHABET, SEGMENT_ALPHABET
from .conf import get_config

logger = logging.getLogger(__name__)

Rule = Callable[..., Any]
_PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([a-z]+))?\}")
#: converter -> (regex, conversion of the matched text); narrowest first
CONVERTERS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "int": (r"[0-9]+", int),
    "segment": (rf"[{SEGMENT_ALPHABET}]+", str),
    "slug": (r"[-a-zA-Z0-9_]+", str),
    "any": (rf"[{NAME_ALPHABET}]+", str),
}


@dataclass(frozen=True)
class ChannelRule:
    pattern: str
    regex: re.Pattern[str]
    func: Rule
    allow_anonymous: bool
    wants_request: bool
    conversions: dict[str, Callable[[str], Any]] = field(default_factory=dict)
    many: bool = False
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

    def register(
        self, pattern: str, func: Rule, *, allow_anonymous: bool = False, many: bool = False
    ) -> None:
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
            many=many,
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


def channel(
    pattern: str, *, allow_anonymous: bool = False, many: bool = False
) -> Callable[[Rule], Rule]:
    """Register the decorated function as the rule for channels matching ``pattern``.

    Anonymous users are denied before the rule runs unless ``allow_anonymous``.
    A rule with a ``request`` parameter also receives the request. With
    ``many=True`` the rule is called once per request with ``matches``, the
    list of captured placeholders of every channel of its pattern being
    authorized (one on ``pusher/auth/``, up to a page's worth on
    ``pusher/auth/batch/``), and returns one verdict per match, in order:
    one query can then answer a whole family of channels.
    """

    def decorate(func: Rule) -> Rule:
        registry.register(pattern, func, allow_anonymous=allow_anonymous, many=many)
        return func

    return decorate


Verdict = bool | dict[str, Any] | None


class ChannelPolicy:
    """Decides whether a request may subscribe to channels.

    ``authorize`` returns a falsy value (deny), ``True`` (allow) or a dict of
    presence ``user_info``. Subclass it and name the subclass in
    ``PUSHER["AUTH"]["POLICY"]`` to replace (or extend) the rule registry;
    overriding ``authorize`` is enough, ``authorize_many`` then asks it once
    per channel.
    """

    def authorize(self, request: HttpRequest, channel: str) -> Verdict:
        verdict = self.authorize_many(request, [channel])[0]
        if isinstance(verdict, BaseException):
            raise verdict
        return verdict

    def authorize_many(
        self, request: HttpRequest, channels: Sequence[str]
    ) -> list[Verdict | Exception]:
        """One verdict per channel, in order; a rule that raised gives its exception.

        Rules declared with ``many=True`` are called once for all their
        channels; a failing rule only fails its own channels.
        """
        if type(self).authorize is not ChannelPolicy.authorize:
            return [_guarded(self.authorize, request, name) for name in channels]
        verdicts: list[Verdict | Exception] = [False] * len(channels)
        groups: dict[str, tuple[ChannelRule, list[tuple[int, dict[str, Any]]]]] = {}
        user = request.user
        for index, name in enumerate(channels):
            found = registry.find(name)
            if found is None:
                logger.info("No channel rule matches %s; denied", name)
                continue
            rule, captured = found
            if user.is_authenticated or rule.allow_anonymous:
                groups.setdefault(rule.pattern, (rule, []))[1].append((index, captured))
        for rule, items in groups.values():
            extra = {"request": request} if rule.wants_request else {}
            if rule.many:
                matches = [captured for _, captured in items]
                results = _guarded(_call_many, rule, user, matches, extra)
                for position, (index, _) in enumerate(items):
                    verdicts[index] = (
                        results if isinstance(results, Exception) else results[position]
                    )
            else:
                for index, captured in items:
                    verdicts[index] = _guarded(rule.func, user, **captured, **extra)
        return verdicts


def _call_many(
    rule: ChannelRule, user: Any, matches: list[dict[str, Any]], extra: dict[str, Any]
) -> list[Verdict]:
    results = list(rule.func(user, matches, **extra))
    if len(results) != len(matches):
        raise ImproperlyConfigured(
            f"{_name(rule.func)} returned {len(results)} verdicts for {len(matches)} matches."
        )
    return results


def _guarded(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a rule; its exception becomes the verdict (the views deny and log it)."""
    try:
        return func(*args, **kwargs)
    except Exception as err:
        return err


def user_id_for(user: Any) -> str | None:
    """The Pusher user id of a Django user: ``PUSHER["AUTH"]["PRESENCE_USER_ID"]`` or the pk.

    Used for presence members, the default sign-in data and terminating
    connections, so that all three agree.
    """
    path = get_config().auth.presence_user_id
    if path:
        value = _imported(path)(user)
        return None if value in (None, "") else str(value)
    return str(user.pk) if user.is_authenticated else None


@functools.lru_cache(maxsize=16)
def _imported(path: str) -> Any:
    return import_string(path)


def get_policy() -> ChannelPolicy:
    path = get_config().auth.policy
    if not path:
        return ChannelPolicy()
    policy_class = _imported(path) if isinstance(path, str) else path
    return policy_class()  # type: ignore[no-any-return]
