"""The ``info`` attributes of the REST API, and where each one applies.

The server answers 400 to an attribute that does not apply (``user_count``
outside presence channels, for one), so the client refuses it before sending
with a message that says why.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .channels import ChannelKind, channel_kind
from .exceptions import PusherValidationError

SUBSCRIPTION_COUNT = "subscription_count"
USER_COUNT = "user_count"
CACHE = "cache"

InfoArg = str | Sequence[str] | None


def normalize_info(info: InfoArg) -> list[str]:
    """A list of attribute names from a list/tuple or a comma-separated string."""
    if info is None:
        return []
    items: Iterable[object] = info.split(",") if isinstance(info, str) else info
    result: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise PusherValidationError(f"info attributes must be strings, got {item!r}.")
        name = item.strip()
        if name and name not in result:
            result.append(name)
    return result


def _applies(attribute: str, kind: ChannelKind) -> bool:
    if attribute == USER_COUNT:
        return kind.is_presence
    if attribute == SUBSCRIPTION_COUNT:
        return not kind.is_presence
    if attribute == CACHE:
        return kind.is_cache
    return False


def _known(attributes: list[str], allowed: tuple[str, ...]) -> None:
    for attribute in attributes:
        if attribute not in allowed:
            raise PusherValidationError(
                f"Unknown info attribute {attribute!r}; use one of {', '.join(allowed)}."
            )


def for_trigger(info: InfoArg, channels: Sequence[str]) -> list[str]:
    """Attributes for ``trigger``: each must apply to at least one of the channels."""
    attributes = normalize_info(info)
    _known(attributes, (SUBSCRIPTION_COUNT, USER_COUNT))
    kinds = [channel_kind(name) for name in channels]
    for attribute in attributes:
        if not any(_applies(attribute, kind) for kind in kinds):
            raise PusherValidationError(
                f"info={attribute!r} applies to none of the channels {', '.join(channels)}: "
                "user_count is for presence channels, subscription_count for the others."
            )
    return attributes


def for_channel(info: InfoArg, channel: str) -> list[str]:
    """Attributes for ``get_channel``: each must apply to that channel's kind."""
    attributes = normalize_info(info)
    _known(attributes, (SUBSCRIPTION_COUNT, USER_COUNT, CACHE))
    kind = channel_kind(channel)
    for attribute in attributes:
        if not _applies(attribute, kind):
            raise PusherValidationError(
                f"info={attribute!r} does not apply to {kind.label} channel {channel!r}."
            )
    return attributes


def for_channel_list(info: InfoArg, filter_by_prefix: str | None) -> list[str]:
    """Attributes for ``get_channels``: ``user_count`` needs a presence prefix filter."""
    attributes = normalize_info(info)
    _known(attributes, (SUBSCRIPTION_COUNT, USER_COUNT))
    if USER_COUNT in attributes and not (filter_by_prefix or "").startswith("presence-"):
        raise PusherValidationError(
            "info='user_count' needs filter_by_prefix='presence-' (Pusher answers 400 otherwise)."
        )
    return attributes
