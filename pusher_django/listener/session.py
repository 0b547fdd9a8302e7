"""A Pusher connection's protocol state without I/O: frames and time in; frames, notices out.

A :class:`Session` never touches a socket, a clock, a thread or an HTTP
client. The driver (:mod:`pusher_django.listener.core`) feeds it each
received frame with the current time (:meth:`Session.receive`), wakes it at
the deadline it asked for (:meth:`Session.tick`), tells it when the
connection closed (:meth:`Session.closed`), and then carries out what it
produced, taken out with draining calls in the manner of ``websockets``'
sans-I/O protocol: the frames of :meth:`Session.data_to_send`, the
:class:`~pusher_django.notices.Notice` list of :meth:`Session.events_received`
and a close in :attr:`Session.close_request`. Every call on the event loop
passes the current time, so nothing is decided on a stale clock. All
of the listener's decisions live here — subscriptions and presence members,
signing (:mod:`pusher_django.signing`), decryption, the routing of every
event kind, pings and pongs
(:mod:`.heartbeat`), client events and their pacing (:mod:`.client_events`),
close-code rules (:mod:`.protocol`) — so they are tested by calling methods,
with no server, thread or sleep.

Adding a listener event is one entry in :data:`SYSTEM_HANDLERS` and one
method.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Any

import nacl.secret

from pusher_django import notices
from pusher_django.channels import is_server_to_user, validate_channel_name
from pusher_django.client import presence_channel_data, signin_user_data
from pusher_django.conf import ListenerSettings, PusherConfig
from pusher_django.crypto import decrypt, shared_secret
from pusher_django.exceptions import (
    ConnectionRefused,
    ProtocolError,
    PusherEncryptionError,
    PusherValidationError,
)
from pusher_django.payloads import decode_data
from pusher_django.signing import channel_auth_token, user_auth_token

from . import protocol
from .client_events import ClientEvents
from .heartbeat import Beat, Heartbeat
from .protocol import CloseAction, Message
from .subscriptions import Subscription, SubscriptionState, presence_members

logger = logging.getLogger(__name__)

_SYSTEM_PREFIXES = ("pusher:", "pusher_internal:")


class State(StrEnum):
    """Connection states, named like pusher-js's."""

    INITIALIZED = "initialized"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    UNAVAILABLE = "unavailable"
    DISCONNECTED = "disconnected"
    FAILED = "failed"


class Session:
    """The protocol state of a listener across its connections (see the module docstring).

    Methods run on the driver's event loop, except :meth:`add_channel`,
    :meth:`remove_channel`, :meth:`queue_publication` and the member reads,
    which only touch structures that are safe to change from another thread
    and leave the frames to the next call on the loop.
    """

    def __init__(
        self, options: ListenerSettings, config: PusherConfig, channels: Iterable[str] = ()
    ) -> None:
        self.options = options
        self.config = config
        self.subscriptions: dict[str, Subscription] = {}
        for name in (*options.channels, *channels):
            self.add_channel(name)
        self.state = State.INITIALIZED
        self.socket_id: str | None = None
        self.failure: str | None = None
        self.stopping = False
        self._outbound: list[str] = []
        self._notices: list[notices.Notice] = []
        self._close_request: tuple[int, str] | None = None
        self._retime = False  # a deadline may have moved earlier than the last tick said
        self._now = 0.0  # the time of the call being handled
        self.client_events = ClientEvents(config, options.client_events_per_second)
        self.heartbeat = Heartbeat(options.activity_timeout, options.pong_timeout)
        self._boxes: dict[str, nacl.secret.SecretBox] = {}
        self._last_error: tuple[int | None, str] | None = None

    # -- output (event loop) ------------------------------------------------------------

    def data_to_send(self) -> list[str]:
        """The frames to send, in order; the session forgets them."""
        frames, self._outbound = self._outbound, []
        return frames

    def events_received(self) -> list[notices.Notice]:
        """The notices for the signal receivers, in order; the session forgets them."""
        produced, self._notices = self._notices, []
        return produced

    @property
    def close_request(self) -> tuple[int, str] | None:
        """``(code, reason)`` when the session wants the connection closed (until it reconnects)."""
        return self._close_request

    def wants_tick(self) -> bool:
        """Whether the driver should call :meth:`tick` and send now, not at the last deadline.

        True when frames wait, a close is asked for, or a deadline may have
        moved earlier; the last is cleared, as the driver is about to tick.
        """
        retime, self._retime = self._retime, False
        return retime or bool(self._outbound) or self._close_request is not None

    # -- channels and publications (any thread) ---------------------------------------

    def add_channel(self, name: str) -> bool:
        """Remember a channel to join; ``False`` if it was already there."""
        name = validate_channel_name(name)
        if name in self.subscriptions:
            return False
        self.subscriptions[name] = Subscription(name)
        return True

    def remove_channel(self, name: str) -> bool:
        return self.subscriptions.pop(name, None) is not None

    def publication(self, channel: str, event: str, data: Any) -> tuple[str, str]:
        """``(channel, frame)`` of a client event (see :meth:`ClientEvents.build`)."""
        return self.client_events.build(channel, event, data, self.subscriptions)

    def queue_publication(
        self, channel: str, frame: str, future: concurrent.futures.Future[None]
    ) -> None:
        self.client_events.put(channel, frame, future)

    def members(self, channel: str) -> dict[str, Any]:
        subscription = self.subscriptions.get(channel)
        if subscription is None:
            raise PusherValidationError(f"The listener has not joined {channel!r}.")
        return subscription.snapshot()

    def known_members(self) -> dict[str, dict[str, Any]]:
        return {
            name: subscription.snapshot()
            for name, subscription in list(self.subscriptions.items())
            if subscription.kind.is_presence and subscription.has_members
        }

    def seed_members(self, channel: str, members: dict[str, Any]) -> None:
        subscription = self.subscriptions.get(channel)
        if subscription is not None and subscription.kind.is_presence:
            subscription.seed(members)

    # -- connection lifecycle (event loop) -----------------------------------------------

    def connecting(self, now: float) -> None:
        """A new connection is being opened."""
        self._now = now
        self._last_error = None
        self._close_request = None
        self._set_state(State.CONNECTING)

    def join(self, name: str, now: float) -> None:
        """Send the subscription of a channel added while connected."""
        self._now = now
        subscription = self.subscriptions.get(name)
        if subscription is not None and self.state is State.CONNECTED:
            self._subscribe(subscription)

    def leave(self, name: str, now: float) -> None:
        """Unsubscribe from a removed channel; its queued client events fail now."""
        self._now = now
        if self.state is State.CONNECTED:
            self._outbound.append(protocol.unsubscribe(name))
        self._pumped()

    def closed(self, code: int | None, reason: str, now: float) -> CloseAction:
        """The connection ended with ``code``: what to do next (Pusher's close-code rules)."""
        self._now = now
        pong_missed = self._close_request is not None and self._close_request[0] == 4201
        self._lost()
        if self.stopping:
            return CloseAction.STOP
        if pong_missed:
            return CloseAction.RECONNECT
        action = protocol.close_action(code)
        detail = reason or (self._last_error[1] if self._last_error else "")
        if action is CloseAction.STOP:
            hint = protocol.refusal_hint(code)
            self.failure = f"closed with code {code} ({detail or 'no reason given'}): {hint}."
            logger.error("Pusher listener: %s", self.failure)
            self._set_state(State.FAILED)
        else:
            logger.warning(
                "Pusher listener: connection closed (code %s%s); reconnecting",
                code,
                f", {detail}" if detail else "",
            )
            self._set_state(State.UNAVAILABLE)
        return action

    def connect_failed(self, error: BaseException | str, now: float) -> CloseAction:
        """The connection could not be opened (or broke without a close frame)."""
        self._now = now
        self._lost()
        if self.stopping:
            return CloseAction.STOP
        logger.warning("Pusher listener: cannot connect to %s: %s", self.config.ws_url, error)
        self._set_state(State.UNAVAILABLE)
        return CloseAction.BACKOFF

    def finished(self, now: float) -> None:
        """The driver stopped for good: pending publications fail, the state says so."""
        self._now = now
        if self.state is not State.FAILED:
            self._set_state(State.DISCONNECTED)
        self.client_events.fail_all("the listener stopped before the event was sent")

    def _lost(self) -> None:
        self.socket_id = None
        for subscription in list(self.subscriptions.values()):
            subscription.state = SubscriptionState.PENDING

    # -- time (event loop) ----------------------------------------------------------------

    def tick(self, now: float) -> float:
        """Ping on silence, give up on a missing pong, send paced client events.

        Returns the time at which to call again.
        """
        self._now, self._retime = now, False
        heartbeat = self.heartbeat
        if self.state is not State.CONNECTED:
            return now + heartbeat.activity_timeout
        beat, deadline = heartbeat.check(now)
        if beat is Beat.PING:
            self._outbound.append(protocol.ping())
        elif beat is Beat.DEAD and self._close_request is None:
            logger.warning(
                "Pusher listener: no pong within %.0f s; reconnecting", heartbeat.pong_timeout
            )
            self._close_request = (4201, "pong not received")
        return min(deadline, self._pump())

    def _pump(self) -> float:
        return self.client_events.pump(self._now, self.subscriptions, self._outbound)

    def _pumped(self) -> None:
        """Pump after a subscription changed; the deadline the driver waits for may be earlier."""
        self._pump()
        self._retime = True

    # -- frames (event loop) ----------------------------------------------------------------

    def receive(self, frame: str | bytes, now: float) -> None:
        """Handle one frame. The first of a connection must be the handshake.

        Raises :class:`ConnectionRefused` or :class:`ProtocolError` for a
        handshake that fails (the driver reconnects or stops); after it,
        nothing a frame holds can raise — a bad frame becomes a
        ``frame_rejected`` notice.
        """
        self._now = self.heartbeat.last_activity = now
        if self.state is not State.CONNECTED:
            self._handshake(protocol.parse(frame), now)
            return
        event: str | None = None
        try:
            message = protocol.parse(frame)
            event = message.event
            if message.channel is None or event.startswith(_SYSTEM_PREFIXES):
                self._system_event(message)
            else:
                self._channel_event(message)
        except ProtocolError as err:
            logger.warning("Pusher listener: ignoring a frame: %s", err)
            self._notices.append(notices.frame_rejected(None, str(err)))
        except Exception as err:
            logger.exception("Pusher listener: handling a %s frame failed; skipped", event)
            self._notices.append(notices.frame_rejected(event, type(err).__name__))

    def _handshake(self, message: Message, now: float) -> None:
        if message.event == "pusher:error":
            code, text = protocol.error_details(message)
            raise ConnectionRefused(code, text)
        if message.event != "pusher:connection_established":
            raise ProtocolError(f"expected connection_established, got {message.event}")
        self.socket_id, server_timeout = protocol.handshake(message)
        self.heartbeat.start(now, server_timeout)
        self._set_state(State.CONNECTED)
        self._retime = True
        if self.options.signin:
            self._signin(self.socket_id)
        for subscription in list(self.subscriptions.values()):
            self._subscribe(subscription)

    def _channel_event(self, message: Message) -> None:
        channel = message.channel or ""
        subscription = self.subscriptions.get(channel)
        if subscription is None:
            if not is_server_to_user(channel):
                return
            data = message.data
        elif subscription.encrypted:
            try:
                data = self._decrypt(channel, message.raw_data)
            except PusherEncryptionError as err:
                logger.warning("Pusher listener: %s (event %s dropped)", err, message.event)
                self._notices.append(notices.decryption_failed(channel, message.event, str(err)))
                return
        else:
            data = message.data
        self._notices.append(notices.event_received(channel, message.event, data, message.user_id))

    def _decrypt(self, channel: str, raw: Any) -> Any:
        key = self.config.encryption_master_key
        if key is None:
            raise PusherEncryptionError(
                f"Cannot decrypt {channel!r}: PUSHER['ENCRYPTION_MASTER_KEY_BASE64'] is not set"
            )
        box = self._boxes.get(channel)
        if box is None:
            box = self._boxes[channel] = nacl.secret.SecretBox(shared_secret(channel, key))
        return decode_data(decrypt(channel, raw, key, box=box))

    def _system_event(self, message: Message) -> None:
        handler = SYSTEM_HANDLERS.get(message.event)
        if handler is not None:
            handler(self, message)
        elif message.event.startswith("pusher"):
            logger.debug("Pusher listener: %s ignored", message.event)
        # Events whose channel is missing are not channel events: nothing to route.

    def _on_ping(self, message: Message) -> None:
        self._outbound.append(protocol.pong())

    def _on_error(self, message: Message) -> None:
        code, text = protocol.error_details(message)
        self._last_error = (code, text)
        logger.warning("Pusher listener: server error %s: %s", code, text)
        self._notices.append(notices.connection_error(code, text))

    def _on_signin(self, message: Message) -> None:
        logger.info("Pusher listener: signed in as %s", self.options.user_id)

    def _subscription_of(self, message: Message) -> Subscription | None:
        subscription = self.subscriptions.get(message.channel) if message.channel else None
        if subscription is None:
            logger.debug("Pusher listener: %s for %s ignored", message.event, message.channel)
        return subscription

    def _on_subscribed(self, message: Message) -> None:
        subscription = self._subscription_of(message)
        if subscription is None:
            return
        subscription.state = SubscriptionState.SUBSCRIBED
        name = subscription.name
        members: dict[str, Any] = {}
        added: dict[str, Any] = {}
        removed: dict[str, Any] = {}
        if subscription.kind.is_presence:
            members = presence_members(message.data)
            added, removed = subscription.replace_members(members)
        logger.info("Pusher listener: subscribed to %s", name)
        self._notices.append(notices.subscription_succeeded(name, members))
        for user_id, info in removed.items():
            self._notices.append(notices.member_removed(name, user_id, info))
        for user_id, info in added.items():
            self._notices.append(notices.member_added(name, user_id, info))
        self._pumped()

    def _on_subscription_error(self, message: Message) -> None:
        subscription = self._subscription_of(message)
        if subscription is None:
            return
        data = message.data if isinstance(message.data, dict) else {}
        status = data.get("status")
        text = str(data.get("error") or data.get("message") or message.data or "")
        self._subscription_failed(subscription, status if isinstance(status, int) else None, text)

    def _on_member_added(self, message: Message) -> None:
        subscription = self._subscription_of(message)
        user_id, info = _member(message.data)
        if subscription is not None and user_id is not None:
            subscription.add_member(user_id, info)
            self._notices.append(notices.member_added(subscription.name, user_id, info))

    def _on_member_removed(self, message: Message) -> None:
        subscription = self._subscription_of(message)
        user_id, _ = _member(message.data)
        if subscription is not None and user_id is not None:
            info = subscription.remove_member(user_id)
            self._notices.append(notices.member_removed(subscription.name, user_id, info))

    def _on_subscription_count(self, message: Message) -> None:
        subscription = self._subscription_of(message)
        data = message.data if isinstance(message.data, dict) else {}
        count = data.get("subscription_count")
        if subscription is not None and isinstance(count, int) and not isinstance(count, bool):
            self._notices.append(notices.subscription_count(subscription.name, count))

    def _on_cache_miss(self, message: Message) -> None:
        subscription = self._subscription_of(message)
        if subscription is not None:
            self._notices.append(notices.cache_miss(subscription.name))

    # -- outgoing ---------------------------------------------------------------------------

    def _signin(self, socket_id: str) -> None:
        user: dict[str, Any] = {"id": self.options.user_id}
        if self.options.user_info is not None:
            user["user_info"] = dict(self.options.user_info)
        user_data = signin_user_data(user)
        auth = user_auth_token(self.config.key, self.config.secret, socket_id, user_data)
        self._outbound.append(protocol.signin(auth, user_data))

    def _subscribe(self, subscription: Subscription) -> None:
        if self.socket_id is None:
            return
        subscription.state = SubscriptionState.PENDING
        auth: str | None = None
        channel_data: str | None = None
        kind = subscription.kind
        if kind.is_encrypted and self.config.encryption_master_key is None:
            text = "PUSHER['ENCRYPTION_MASTER_KEY_BASE64'] is not set"
            self._subscription_failed(subscription, None, f"cannot decrypt its events: {text}")
            return
        if kind.needs_auth:
            if kind.is_presence:
                member = {"user_id": self.options.user_id, "user_info": self.options.user_info}
                try:
                    channel_data = presence_channel_data(member)
                except PusherValidationError as err:
                    self._subscription_failed(subscription, None, str(err))
                    return
            auth = channel_auth_token(
                self.config.key, self.config.secret, self.socket_id, subscription.name, channel_data
            )
        self._outbound.append(protocol.subscribe(subscription.name, auth, channel_data))

    def _subscription_failed(
        self, subscription: Subscription, status: int | None, text: str
    ) -> None:
        subscription.state = SubscriptionState.FAILED
        logger.warning(
            "Pusher listener: subscription to %s refused (%s): %s", subscription.name, status, text
        )
        self._notices.append(notices.subscription_error(subscription.name, status, text))
        self._pumped()

    def _set_state(self, current: State) -> None:
        previous, self.state = self.state, current
        if previous is not current:
            logger.info("Pusher listener: %s -> %s", previous.value, current.value)
            self._notices.append(
                notices.connection_state_changed(previous.value, current.value, self.socket_id)
            )


def _member(data: Any) -> tuple[str | None, Any]:
    if not isinstance(data, dict) or data.get("user_id") is None:
        return None, None
    return str(data["user_id"]), data.get("user_info")


#: system event name -> the session method that handles it
SYSTEM_HANDLERS: dict[str, Callable[[Session, Message], None]] = {
    "pusher:ping": Session._on_ping,
    "pusher:error": Session._on_error,
    "pusher:signin_success": Session._on_signin,
    "pusher_internal:subscription_succeeded": Session._on_subscribed,
    "pusher:subscription_error": Session._on_subscription_error,
    "pusher_internal:member_added": Session._on_member_added,
    "pusher_internal:member_removed": Session._on_member_removed,
    "pusher_internal:subscription_count": Session._on_subscription_count,
    "pusher:cache_miss": Session._on_cache_miss,
    "pusher_internal:cache_miss": Session._on_cache_miss,
}

__all__ = ["SYSTEM_HANDLERS", "Session", "State"]
