"""Pusher webhooks: verify a delivery, then send one signal per event, at most once.

Webhooks see every channel of the app (the listener only the channels it
joins) and feed the same :mod:`pusher_django.signals` with the same keyword
arguments, plus ``source="webhook"``. Pusher retries a delivery that did not
get a 2xx for five minutes, so each event is remembered in the cache once
all of its receivers succeeded: a retry re-sends only the events whose
receivers failed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.cache import caches
from django.dispatch import Signal

from . import signals
from .conf import get_config, section
from .exceptions import PusherWebhookError
from .payloads import decode_data
from .signing import verify_signature

logger = logging.getLogger(__name__)


class Webhook:
    """The ``sender`` of signals that came from a webhook."""


class WebhookAuthenticationError(PusherWebhookError):
    """Wrong key, wrong signature or a stale delivery: answered with 401."""


class WebhookFormatError(PusherWebhookError):
    """Not JSON or not the shape Pusher sends: answered with 400."""


@dataclass(frozen=True)
class Delivery:
    time_ms: int
    events: list[dict[str, Any]]


def _channel(event: Mapping[str, Any]) -> dict[str, Any]:
    return {"channel": event["channel"]}


def _member(event: Mapping[str, Any]) -> dict[str, Any]:
    return {"channel": event["channel"], "user_id": str(event["user_id"]), "user_info": None}


def _client_event(event: Mapping[str, Any]) -> dict[str, Any]:
    user_id = event.get("user_id")
    return {
        "channel": event["channel"],
        "event": event["event"],
        "data": decode_data(event.get("data")),
        "socket_id": event.get("socket_id"),
        "user_id": str(user_id) if user_id is not None else None,
    }


def _count(event: Mapping[str, Any]) -> dict[str, Any]:
    return {"channel": event["channel"], "subscription_count": int(event["subscription_count"])}


#: webhook event name -> (signal, kwargs builder)
EVENTS: dict[str, tuple[Signal, Any]] = {
    "channel_occupied": (signals.channel_occupied, _channel),
    "channel_vacated": (signals.channel_vacated, _channel),
    "member_added": (signals.member_added, _member),
    "member_removed": (signals.member_removed, _member),
    "client_event": (signals.client_event, _client_event),
    "cache_miss": (signals.cache_miss, _channel),
    "subscription_count": (signals.subscription_count, _count),
}


def verify(body: bytes, key: str | None, signature: str | None) -> Delivery:
    """Check the key, the HMAC of the raw body, its freshness and its shape."""
    config = get_config()
    if not key or key != config.key:
        raise WebhookAuthenticationError("Unknown X-Pusher-Key.")
    if not signature or not verify_signature(config.secret, body, signature):
        raise WebhookAuthenticationError("Invalid X-Pusher-Signature.")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as err:
        raise WebhookFormatError("The webhook body is not valid JSON.") from err
    if not isinstance(payload, dict):
        raise WebhookFormatError("The webhook body must be a JSON object.")
    time_ms, events = payload.get("time_ms"), payload.get("events")
    if isinstance(time_ms, bool) or not isinstance(time_ms, int) or not isinstance(events, list):
        raise WebhookFormatError("The webhook body needs an integer time_ms and an events list.")
    max_age = section("WEBHOOKS")["MAX_AGE"]
    if max_age is not None and abs(time.time() * 1000 - time_ms) > max_age * 1000:
        raise WebhookAuthenticationError(
            f"The delivery's time_ms is more than {max_age} s away from now "
            "(a replay, or a clock out of sync)."
        )
    for event in events:
        _check_event(event)
    return Delivery(time_ms, events)


def _check_event(event: Any) -> None:
    if not isinstance(event, dict) or not isinstance(event.get("name"), str):
        raise WebhookFormatError("Each webhook event must be an object with a name.")
    entry = EVENTS.get(event["name"])
    if entry is None:
        return
    try:
        entry[1](event)
    except (KeyError, TypeError, ValueError) as err:
        raise WebhookFormatError(f"Malformed {event['name']} event: missing {err}.") from err
    if not isinstance(event["channel"], str):
        raise WebhookFormatError(f"Malformed {event['name']} event: channel is not a string.")


def _memory_key(time_ms: int, event: Mapping[str, Any]) -> str:
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256(f"{time_ms}:{canonical}".encode()).hexdigest()
    return f"pusher_django:webhook:{digest}"


def dispatch(time_ms: int, events: Sequence[Mapping[str, Any]]) -> int:
    """Send the signals of every event not handled before; return how many failed.

    An event is claimed in the cache before its receivers run (so two
    concurrent deliveries do not both run it) and released if a receiver
    raised, so that Pusher's retry runs it again.
    """
    options = section("WEBHOOKS")
    cache = caches[options["CACHE"]]
    failures = 0
    for event in events:
        entry = EVENTS.get(str(event.get("name")))
        if entry is None:
            logger.info("Pusher webhook: ignoring unknown event %r", event.get("name"))
            continue
        signal, build = entry
        key = _memory_key(time_ms, event)
        if not cache.add(key, 1, options["DEDUP_TTL"]):
            logger.debug("Pusher webhook: %s already handled", event["name"])
            continue
        failed = False
        for receiver, result in signal.send_robust(Webhook, source=signals.WEBHOOK, **build(event)):
            if isinstance(result, BaseException):
                failed = True
                logger.error(
                    "Pusher webhook: receiver %r failed on %s %s",
                    receiver,
                    event["name"],
                    event.get("channel"),
                    exc_info=result,
                )
        if failed:
            failures += 1
            cache.delete(key)
    return failures
