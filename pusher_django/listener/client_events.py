"""Client events the listener publishes: built and checked, queued, and paced.

Pusher closes a connection that sends more than 10 client events per second
(4301), so publishing is queued and paced (never dropped), waits for the
channel's subscription, and survives reconnects; each event's future
completes when its frame leaves, or fails when it never can. Pure: the
session passes in the time and collects the frames.
"""

from __future__ import annotations

import concurrent.futures
import json
import math
from collections import deque
from collections.abc import Mapping
from typing import Any

from pusher_django.channels import channel_kind, validate_channel_name
from pusher_django.conf import PusherConfig
from pusher_django.exceptions import PusherError, PusherValidationError
from pusher_django.payloads import encode_event_data
from pusher_django.validation import validate_event_name

from . import protocol
from .pacing import RateWindow
from .subscriptions import Subscription, SubscriptionState

__all__ = ["CLIENT_EVENT_PREFIX", "ClientEvents"]

CLIENT_EVENT_PREFIX = "client-"

Publication = tuple[str, str, concurrent.futures.Future[None]]


class ClientEvents:
    """The queue of client events, paced to ``limit`` per rolling second."""

    def __init__(self, config: PusherConfig, limit: int) -> None:
        self.config = config
        self.queue: deque[Publication] = deque()
        self._rate = RateWindow(limit)

    def build(
        self, channel: str, event: str, data: Any, joined: Mapping[str, Any]
    ) -> tuple[str, str]:
        """``(channel, frame)`` of a client event, or :class:`PusherValidationError`.

        ``event`` gets the ``client-`` prefix if it lacks it; data for an
        encrypted channel is encrypted with the channel's shared secret.
        """
        name = validate_channel_name(channel)
        kind = channel_kind(name)
        if not kind.needs_auth:
            raise PusherValidationError(
                f"Client events are only allowed on private and presence channels, "
                f"not on {kind.label} channel {name!r}."
            )
        if not event.startswith(CLIENT_EVENT_PREFIX):
            event = CLIENT_EVENT_PREFIX + event
        validate_event_name(event)
        if name not in joined:
            raise PusherValidationError(
                f"The listener has not joined {name!r}; call subscribe({name!r}) first."
            )
        encoded = encode_event_data(
            [name],
            data,
            master_key=self.config.encryption_master_key,
            max_bytes=self.config.max_payload_bytes,
        )
        payload = encoded if kind.is_encrypted or isinstance(data, str) else json.loads(encoded)
        return name, protocol.frame(event, payload, name)

    def put(self, channel: str, frame: str, future: concurrent.futures.Future[None]) -> None:
        """Queue a built event (any thread: a deque append)."""
        self.queue.append((channel, frame, future))

    def pump(
        self, now: float, subscriptions: Mapping[str, Subscription], outbound: list[str]
    ) -> float:
        """Move what the rate window allows to ``outbound``; return when to try again."""
        queue = self.queue
        while queue:
            name, text, future = queue[0]
            subscription = subscriptions.get(name)
            if subscription is None or subscription.state is SubscriptionState.FAILED:
                queue.popleft()
                if not future.done():
                    future.set_exception(
                        PusherValidationError(f"The listener is not subscribed to {name!r}.")
                    )
                continue
            if subscription.state is SubscriptionState.PENDING:
                return math.inf  # the subscription's answer pumps again
            wait = self._rate.wait_time(now)
            if wait > 0:
                return now + wait
            outbound.append(text)
            self._rate.record(now)
            queue.popleft()
            if not future.done():
                future.set_result(None)
        return math.inf

    def fail_all(self, reason: str) -> None:
        while self.queue:
            future = self.queue.popleft()[2]
            if not future.done():
                future.set_exception(PusherError(reason))
