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
A rule returns ``True`` to allow, a non-empty mapping (for presence channels,
the member's ``user_info``) to allow, or ``False``/``None`` (or an empty
mapping) to deny; any other
value is a mistake and denies with a warning. Channels that need
authorization and match no rule are denied. Projects that prefer a class can
set ``PUSHER["AUTH"]["POLICY"]`` to the dotted path of a :class:`ChannelPolicy`
subclass. :func:`decide` is the one place verdicts become decisions, for
every endpoint that asks "may this request subscribe?".

Names are compared exactly: patterns match case-sensitively over ASCII, and a
channel's kind comes from the same string the rule sees.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.utils.module_loading import import_string

from .channels import NAME_ALPHABET, SEGMENT_ALPHABET, channel_kind
from .conf import get_config
from .exceptions import PusherConfigurationError
from .identity import request_user, user_id_for, who

logger = logging.getLogger(__name__)

RuleFunction = Callable[..., Any]
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
    func: RuleFunction
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
        self, pattern: str, func: RuleFunction, *, allow_anonymous: bool = False, many: bool = False
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


def _name(func: RuleFunction) -> str:
    return f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', func)}"


registry = RuleRegistry()


def channel(
    pattern: str, *, allow_anonymous: bool = False, many: bool = False
) -> Callable[[RuleFunction], RuleFunction]:
    """Register the decorated function as the rule for channels matching ``pattern``.

    Anonymous users are denied before the rule runs unless ``allow_anonymous``.
    A rule with a ``request`` parameter also receives the request. With
    ``many=True`` the rule is called once per request with ``matches``, the
    list of captured placeholders of every channel of its pattern being
    authorized (one on ``pusher/auth/``, up to a page's worth on
    ``pusher/auth/batch/``), and returns one verdict per match, in order:
    one query can then answer a whole family of channels.
    """

    def decorate(func: RuleFunction) -> RuleFunction:
        registry.register(pattern, func, allow_anonymous=allow_anonymous, many=many)
        return func

    return decorate


#: What a rule returns: ``True``, a mapping of presence ``user_info``, or ``False``/``None``.
Verdict = bool | Mapping[str, Any] | None


class ChannelPolicy:
    """Decides whether a request may subscribe to channels.

    ``authorize`` returns ``True`` (allow), a mapping of presence
    ``user_info`` (allow) or ``False``/``None`` (deny), read by
    :func:`decide`. Subclass it and name the subclass in
    ``PUSHER["AUTH"]["POLICY"]`` to replace (or extend) the rule registry;
    overriding ``authorize`` is enough, ``authorize_many`` then asks it once
    per channel.
    """

    def authorize(self, request: HttpRequest, channel: str) -> Verdict:
        verdict = self.authorize_many(request, [channel])[0]
        if isinstance(verdict, BaseException):
            raise verdict
        return cast(Verdict, verdict)

    def authorize_many(self, request: HttpRequest, channels: Sequence[str]) -> Sequence[Any]:
        """One verdict per channel, in order; a rule that raised gives its exception.

        Rules declared with ``many=True`` are called once for all their
        channels; a failing rule only fails its own channels.
        """
        if type(self).authorize is not ChannelPolicy.authorize:
            return [_guarded(self.authorize, request, name) for name in channels]
        verdicts: list[Any] = [False] * len(channels)
        groups: dict[str, tuple[ChannelRule, list[tuple[int, dict[str, Any]]]]] = {}
        user = request_user(request)
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


class _WrongVerdictCount(Exception):
    """A ``many=True`` rule answered a different number of verdicts than it had matches."""


def _call_many(
    rule: ChannelRule, user: Any, matches: list[dict[str, Any]], extra: dict[str, Any]
) -> list[Any]:
    results = list(rule.func(user, matches, **extra))
    if len(results) != len(matches):
        raise _WrongVerdictCount(
            f"{_name(rule.func)} returned {len(results)} verdicts for {len(matches)} matches."
        )
    return results


def _guarded(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a rule; its exception becomes the verdict (:func:`decide` denies and logs it)."""
    try:
        return func(*args, **kwargs)
    except Exception as err:
        return err


def get_policy() -> ChannelPolicy:
    path = get_config().auth.policy
    if not path:
        return ChannelPolicy()
    policy_class = import_string(path) if isinstance(path, str) else path
    return policy_class()  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Decision:
    """Whether a request may subscribe to one channel and, for presence, as whom."""

    allowed: bool
    #: Presence channels: the member's Pusher user id (never ``None`` when allowed).
    user_id: str | None = None
    #: Presence channels: the ``user_info`` the rule returned, if any.
    user_info: Mapping[str, Any] | None = None


DENIED = Decision(False)
_ALLOWED = Decision(True)


def decide(request: HttpRequest, channels: Sequence[str]) -> list[Decision]:
    """What subscribing to each channel would be answered, in order.

    Auth, batch auth and history all ask here, so they cannot disagree. The
    kind of each channel is read from the exact string given, which is the
    string the rules match (and the string a caller should query with).
    Channels that need no authorization are allowed. A presence channel also
    needs the user's Pusher id. A rule that raises, or answers with something
    that is not a verdict, denies only its own channels, with a log line.

    Raises :class:`PusherConfigurationError` when the policy, a rule or the
    presence user id setting is misconfigured (the endpoints answer 503).
    """
    asked = [name for name in channels if channel_kind(name).needs_auth]
    try:
        answers = get_policy().authorize_many(request, asked) if asked else []
    except (ImproperlyConfigured, ImportError) as err:
        raise PusherConfigurationError("The channel policy cannot be loaded.") from err
    if len(answers) != len(asked):
        logger.error(
            "The channel policy answered %d verdicts for %d channels; all denied",
            len(answers),
            len(asked),
        )
        answers = [False] * len(asked)
    verdicts = dict(zip(asked, answers, strict=True))
    presence_id = _PresenceId(request)
    decisions = []
    for name in channels:
        if name not in verdicts:
            decisions.append(_ALLOWED)
            continue
        decision = _decision(name, verdicts[name])
        if decision.allowed and channel_kind(name).is_presence:
            user_id = presence_id.get()
            decision = Decision(True, user_id, decision.user_info) if user_id else DENIED
        if not decision.allowed:
            logger.info("Denied %s to user %s", name, who(request))
        decisions.append(decision)
    return decisions


def _decision(channel: str, verdict: Any) -> Decision:
    """The one reading of a verdict: ``True``, a mapping, or a denial."""
    if isinstance(verdict, ImproperlyConfigured | ImportError):
        raise PusherConfigurationError(f"The channel rule for {channel} is misconfigured.") from (
            verdict
        )
    if isinstance(verdict, BaseException):
        logger.error("Channel rule for %s raised; denied", channel, exc_info=verdict)
        return DENIED
    if verdict is True:
        return _ALLOWED
    if isinstance(verdict, Mapping) and verdict:
        return Decision(True, user_info=verdict)
    if not isinstance(verdict, Mapping) and verdict is not None and verdict is not False:
        logger.warning(
            "Channel rule for %s returned a %s, which is not a verdict "
            "(True, a mapping of user info, False or None); denied",
            channel,
            type(verdict).__name__,
        )
    return DENIED


class _PresenceId:
    """The request user's Pusher id, looked up once and only if a presence channel needs it."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        self.looked_up = False
        self.value: str | None = None

    def get(self) -> str | None:
        if not self.looked_up:
            self.looked_up = True
            try:
                self.value = user_id_for(request_user(self.request))
            except (ImproperlyConfigured, ImportError) as err:
                raise PusherConfigurationError("PUSHER['AUTH']['PRESENCE_USER_ID'] fails.") from err
            except Exception:
                logger.exception("The presence user id of user %s raised", who(self.request))
            if self.value is None:
                logger.info("User %s has no Pusher user id", who(self.request))
        return self.value
