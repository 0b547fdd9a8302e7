"""Pusher webhooks: the endpoint, verifying a delivery, one signal per event at most once.

Webhooks see every channel of the app (the listener only the channels it
joins) and feed the same :mod:`pusher_django.signals` with the same keyword
arguments, plus ``source="webhook"``. Pusher retries a delivery that did not
get a 2xx for five minutes, so each event is remembered in the cache once
all of its receivers succeeded: a retry re-sends only the events whose
receivers failed. The endpoint is CSRF-exempt because its HMAC signature
authenticates it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.cache import caches
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import counters, notices, safe_json, tasks
from .channels import validate_channel_name
from .conf import get_config
from .endpoints import endpoint, error
from .exceptions import UnsafeJSON, WebhookAuthenticationError, WebhookFormatError
from .notices import Notice
from .payloads import decode_data
from .signals import WEBHOOK
from .signing import verify_signature

logger = logging.getLogger(__name__)


class Webhook:
    """The ``sender`` of signals that came from a webhook."""


@dataclass(frozen=True)
class VerifiedWebhook:
    """A webhook request whose key, signature, age and shape were checked."""

    time_ms: int
    events: list[dict[str, Any]]
    #: Events left out because they were malformed (each one logged).
    skipped: int = 0


#: Larger than any delivery Pusher sends (batched events of at most 10 KB each).
MAX_BODY_BYTES = 4 * 1024 * 1024
#: ``time_ms`` beyond this is not a time (and cannot be compared with one).
_MAX_TIME_MS = 2**53


def _channel(event: Mapping[str, Any]) -> str:
    return validate_channel_name(event["channel"], allow_server_to_user=True)


def _user_id(event: Mapping[str, Any], key: str = "user_id") -> str | None:
    value = event.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{key} is not a string")
    return str(value)


def _member_id(event: Mapping[str, Any]) -> str:
    user_id = _user_id(event)
    if user_id is None:
        raise KeyError("user_id")
    return user_id


def _client_event(event: Mapping[str, Any]) -> Notice:
    name, socket_id = event["event"], event.get("socket_id")
    if not isinstance(name, str) or not isinstance(socket_id, str | None):
        raise ValueError("event and socket_id must be strings")
    data = decode_data(event.get("data"))
    return notices.client_event(_channel(event), name, data, socket_id, _user_id(event), WEBHOOK)


def _count(event: Mapping[str, Any]) -> Notice:
    count = event["subscription_count"]
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError("subscription_count is not a count")
    return notices.subscription_count(_channel(event), count, WEBHOOK)


#: webhook event name -> its notice, built from the event (raises on a malformed one).
#: Webhooks do not carry a member's info, so ``user_info`` is ``None``.
EVENTS: dict[str, Callable[[Mapping[str, Any]], Notice]] = {
    "channel_occupied": lambda e: notices.channel_occupied(_channel(e), WEBHOOK),
    "channel_vacated": lambda e: notices.channel_vacated(_channel(e), WEBHOOK),
    "member_added": lambda e: notices.member_added(_channel(e), _member_id(e), None, WEBHOOK),
    "member_removed": lambda e: notices.member_removed(_channel(e), _member_id(e), None, WEBHOOK),
    "client_event": _client_event,
    "cache_miss": lambda e: notices.cache_miss(_channel(e), WEBHOOK),
    "subscription_count": _count,
}


def verify(body: bytes, key: str | None, signature: str | None) -> VerifiedWebhook:
    """Check the key, the HMAC of the raw body, its freshness and its shape.

    A malformed event (a missing field, a value of the wrong type, data too
    deep to decode) is skipped and logged, never the whole delivery.
    """
    config = get_config()
    if not key or key != config.key:
        raise WebhookAuthenticationError("Unknown X-Pusher-Key.")
    if not signature or not verify_signature(config.secret, body, signature):
        raise WebhookAuthenticationError("Invalid X-Pusher-Signature.")
    payload, raw_events = _decode(body)
    if not isinstance(payload, dict):
        raise WebhookFormatError("The webhook body must be a JSON object.")
    time_ms, events = payload.get("time_ms"), payload.get("events")
    if raw_events is not None:
        events = raw_events
    if (
        isinstance(time_ms, bool)
        or not isinstance(time_ms, int)
        or not 0 <= time_ms < _MAX_TIME_MS
        or not isinstance(events, list)
    ):
        raise WebhookFormatError("The webhook body needs an integer time_ms and an events list.")
    max_age = config.webhooks.max_age
    if max_age is not None and abs(time.time() * 1000 - time_ms) > max_age * 1000:
        raise WebhookAuthenticationError(
            f"The delivery's time_ms is more than {max_age} s away from now "
            "(a replay, or a clock out of sync)."
        )
    accepted = []
    for index, event in enumerate(events):
        try:
            accepted.append(_check_event(event))
        except WebhookFormatError as err:
            logger.warning("Pusher webhook: event %d skipped: %s", index, err)
    return VerifiedWebhook(time_ms, accepted, len(events) - len(accepted))


def _decode(body: bytes) -> tuple[Any, list[Any] | None]:
    """The body; when it is too deep as a whole, its events one by one (``None``: not split).

    soketi embeds a client event's data as an object, so one client can nest
    it deeper than any decoder should go; splitting keeps the other events.
    """
    try:
        return safe_json.loads(body, max_bytes=MAX_BODY_BYTES), None
    except UnsafeJSON as err:
        whole = err
    try:
        members, items = safe_json.split_array(body.decode("utf-8"), "events")
    except (UnsafeJSON, UnicodeDecodeError):
        raise WebhookFormatError(f"The webhook body is not valid JSON ({whole}).") from whole
    events: list[Any] = []
    for item in items:
        try:
            events.append(safe_json.loads(item))
        except UnsafeJSON as err:
            events.append(_Undecodable(str(err)))
    return members, events


class _Undecodable:
    def __init__(self, reason: str) -> None:
        self.reason = reason


def _check_event(event: Any) -> dict[str, Any]:
    if isinstance(event, _Undecodable):
        raise WebhookFormatError(event.reason)
    if not isinstance(event, dict) or not isinstance(event.get("name"), str):
        raise WebhookFormatError("a webhook event must be an object with a name")
    build = EVENTS.get(event["name"])
    if build is None:
        return event  # unknown kinds are logged and ignored by dispatch()
    try:
        build(event)
    except (KeyError, TypeError, ValueError) as err:
        raise WebhookFormatError(f"malformed {event['name']} event: {err}") from err
    return event


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
    options = get_config().webhooks
    cache = caches[options.cache]
    failures = 0
    for event in events:
        build = EVENTS.get(str(event.get("name")))
        if build is None:
            logger.info("Pusher webhook: ignoring unknown event %r", event.get("name"))
            continue
        key = _memory_key(time_ms, event)
        if not cache.add(key, 1, options.dedup_ttl):
            logger.debug("Pusher webhook: %s already handled", event["name"])
            continue
        if not notices.send(build(event), Webhook):
            failures += 1
            cache.delete(key)
    return failures


@endpoint("webhook")
@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> JsonResponse:
    """``pusher/webhook/``: verify, then dispatch (or enqueue) one signal per event.

    Events that are malformed are skipped and logged; the others still run.
    A receiver that raises makes the answer 500 so that Pusher retries the
    delivery; the other events were dispatched first and are not re-run.
    """
    try:
        verified = verify(
            request.body,
            request.headers.get("X-Pusher-Key"),
            request.headers.get("X-Pusher-Signature"),
        )
    except WebhookAuthenticationError as err:
        logger.warning("Pusher webhook refused: %s", err)
        return error(str(err), 401)
    except WebhookFormatError as err:
        logger.warning("Pusher webhook malformed: %s", err)
        return error(str(err), 400)
    counters.webhook_events(len(verified.events), verified.skipped)
    answer: dict[str, Any] = {"ok": True}
    if verified.skipped:
        answer["skipped"] = verified.skipped
    if get_config().webhooks.asynchronous and tasks.enqueue(
        tasks.dispatch_webhook, verified.time_ms, verified.events
    ):
        return JsonResponse({**answer, "queued": len(verified.events)})
    failures = dispatch(verified.time_ms, verified.events)
    if failures:
        return error(f"{failures} event(s) failed in a receiver; retry.", 500)
    return JsonResponse(answer)
