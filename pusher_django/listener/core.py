"""The websocket listener: one Pusher connection kept alive, frames turned into signals.

A :class:`Listener` runs an asyncio loop (in the calling thread with
:meth:`Listener.run`, or in a background thread with :meth:`Listener.start`).
It authorizes its own private, presence and encrypted subscriptions with the
app secret, answers and sends pings, reconnects by the Pusher close-code
rules, re-subscribes after each reconnect and hands every fact to the
:class:`~pusher_django.listener.dispatcher.Dispatcher`, which runs the Django
receivers in another thread. Methods meant for other threads
(:meth:`subscribe`, :meth:`unsubscribe`, :meth:`publish`, :meth:`stop`) are
thread-safe.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import math
import threading
from collections import deque
from collections.abc import Coroutine, Iterable
from enum import StrEnum
from typing import Any

from django.dispatch import Signal
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from pusher_django import signals
from pusher_django.channels import channel_kind, is_server_to_user, validate_channel_name
from pusher_django.client import PusherClient
from pusher_django.conf import PusherConfig, get_config
from pusher_django.crypto import decrypt
from pusher_django.exceptions import PusherEncryptionError, PusherError, PusherValidationError
from pusher_django.payloads import decode_data, encode_event_data
from pusher_django.validation import validate_event_name

from . import protocol
from .backoff import Backoff
from .dispatcher import Dispatcher
from .options import ListenerOptions
from .pacing import RateWindow
from .protocol import CloseAction, Message, ProtocolError
from .subscriptions import Subscription, SubscriptionState, presence_members

logger = logging.getLogger(__name__)

CLIENT_EVENT_PREFIX = "client-"
_SUBSCRIBE_WAIT = 0.05

_CLOSE_HINTS = {
    4000: "the app accepts only TLS connections: set PUSHER['USE_TLS'] = True",
    4001: "the app does not exist: check PUSHER['APP_ID'] / KEY and the cluster or host",
    4003: "the app is disabled in the Pusher dashboard",
    4004: "the app is over its connection quota",
    4009: "the connection is unauthorized (signed out or terminated by the app)",
}


class State(StrEnum):
    """Connection states, named like pusher-js's."""

    INITIALIZED = "initialized"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    UNAVAILABLE = "unavailable"
    DISCONNECTED = "disconnected"
    FAILED = "failed"


class ListenerFailed(PusherError):
    """The server refused the connection in a way that retrying cannot fix (4000-4099)."""


class Listener:
    """A Pusher websocket client whose events become :mod:`pusher_django.signals`."""

    def __init__(
        self,
        channels: Iterable[str] = (),
        *,
        options: ListenerOptions | None = None,
        config: PusherConfig | None = None,
        dispatch: bool = True,
    ) -> None:
        self.options = options if options is not None else ListenerOptions.from_settings()
        self.config = config if config is not None else get_config()
        self._client = PusherClient(self.config)
        self.dispatcher = Dispatcher(Listener)
        self.dispatcher.enabled = dispatch
        self._subscriptions: dict[str, Subscription] = {}
        for name in (*self.options.channels, *channels):
            self._subscriptions.setdefault(validate_channel_name(name), Subscription(name))
        # The floor honours Pusher's "at least 1 s" for 4100-4199 at default settings.
        self._backoff = Backoff(
            base=self.options.reconnect_backoff,
            cap=self.options.reconnect_backoff_max,
            minimum=self.options.reconnect_backoff,
        )
        self._rate = RateWindow(self.options.client_events_per_second)
        self._outbox: deque[tuple[str, str, concurrent.futures.Future[None]]] = deque()
        self._state = State.INITIALIZED
        self.socket_id: str | None = None
        self.failure: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ws: ClientConnection | None = None
        self._stopping = False
        self._stop_event = asyncio.Event()
        self._outbox_ready = asyncio.Event()
        self._thread: threading.Thread | None = None
        self._connected = threading.Event()
        self._last_error: tuple[int | None, str] | None = None
        self._tasks: set[asyncio.Future[Any]] = set()
        self._activity = 0.0
        self._pong_missed = False

    def __repr__(self) -> str:
        return f"<Listener {self._state.value} socket_id={self.socket_id} channels={self.channels}>"

    # -- public API (any thread) -------------------------------------------------------

    @property
    def state(self) -> State:
        return self._state

    @property
    def channels(self) -> list[str]:
        return list(self._subscriptions)

    def members(self, channel: str) -> dict[str, Any]:
        """The current presence members of a joined channel, ``{user_id: user_info}``."""
        subscription = self._subscriptions.get(channel)
        if subscription is None:
            raise PusherValidationError(f"The listener has not joined {channel!r}.")
        return subscription.snapshot()

    def known_members(self) -> dict[str, dict[str, Any]]:
        """``{channel: members}`` of the presence channels whose member list has arrived."""
        return {
            name: subscription.snapshot()
            for name, subscription in list(self._subscriptions.items())
            if subscription.kind.is_presence and subscription.has_members
        }

    def seed_members(self, channel: str, members: dict[str, Any]) -> None:
        """Start from ``members`` as the last reported state of a joined presence channel.

        The first member list from the server is then compared with it, so
        the joins and leaves that happened before it are reported (see
        :mod:`pusher_django.listener.leader`). Ignored once a list arrived.
        """
        subscription = self._subscriptions.get(channel)
        if subscription is not None and subscription.kind.is_presence:
            subscription.seed(members)

    def subscribe(self, channel: str) -> None:
        """Join a channel now (if connected) and after every reconnect."""
        name = validate_channel_name(channel)
        if name in self._subscriptions:
            return
        self._subscriptions[name] = Subscription(name)
        self._call_soon(self._send_subscribe, name)

    def unsubscribe(self, channel: str) -> None:
        """Leave a channel; its events stop reaching the signals."""
        if self._subscriptions.pop(channel, None) is not None:
            self._call_soon(self._send_frame, protocol.unsubscribe(channel))

    def publish(self, channel: str, event: str, data: Any) -> concurrent.futures.Future[None]:
        """Send a client event on a joined private, presence or encrypted channel.

        ``event`` gets the ``client-`` prefix if it lacks it. Data for an
        encrypted channel is encrypted with the channel's shared secret, so
        pusher-js subscribers decrypt it like any server event. Events are
        paced to ``CLIENT_EVENTS_PER_SECOND`` and kept across reconnects;
        the returned future completes when the frame has been sent.
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
        if name not in self._subscriptions:
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
        future: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._outbox.append((name, protocol.frame(event, payload, name), future))
        self._call_soon(self._wake_outbox)
        return future

    def run(self) -> None:
        """Connect and dispatch until :meth:`stop` or a permanent refusal.

        Raises :class:`ListenerFailed` when the server refuses the app
        (close codes 4000-4099); every other fault is retried.
        """
        asyncio.run(self._main())
        if self.failure is not None:
            raise ListenerFailed(self.failure)

    def start(self) -> None:
        """Run in a background thread (for tests and embedding)."""
        self._thread = threading.Thread(
            target=self._run_quietly, name="pusher-listener", daemon=True
        )
        self._thread.start()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def stop(self, timeout: float | None = 10.0) -> None:
        """Close the connection, let queued receivers finish, and return."""
        self._stopping = True
        self._call_soon(self._wake_stop)
        # A receiver may call stop(): never wait on the calling thread itself.
        own = (self._thread, self.dispatcher.thread)
        if self._thread is not None and threading.current_thread() not in own:
            self._thread.join(timeout)

    # -- loop ----------------------------------------------------------------------------

    def _run_quietly(self) -> None:
        try:
            self.run()
        except ListenerFailed as err:
            logger.error("Pusher listener stopped: %s", err)

    def _call_soon(self, func: Any, *args: Any) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # closed between the check and the call
                loop.call_soon_threadsafe(func, *args)

    def _wake_stop(self) -> None:
        self._stop_event.set()
        if self._ws is not None:
            self._background(self._ws.close())

    def _wake_outbox(self) -> None:
        self._outbox_ready.set()

    async def _main(self) -> None:
        self._stop_event = asyncio.Event()
        self._outbox_ready = asyncio.Event()
        if self._outbox:
            self._outbox_ready.set()
        self._loop = asyncio.get_running_loop()
        self.dispatcher.start()
        try:
            while not self._stopping:
                action = await self._session()
                if self._stopping:
                    break
                if action is CloseAction.STOP:
                    self._set_state(State.FAILED)
                    return
                delay = 0.0 if action is CloseAction.RECONNECT else self._backoff.next_delay()
                self._set_state(State.UNAVAILABLE)
                if delay:
                    logger.info("Pusher listener: reconnecting in %.1f s", delay)
                    await self._sleep_unless_stopped(delay)
        finally:
            if self._state is not State.FAILED:
                self._set_state(State.DISCONNECTED)
            self._fail_outbox("the listener stopped before the event was sent")
            self.dispatcher.stop()
            self._loop = None

    async def _sleep_unless_stopped(self, delay: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop_event.wait(), delay)

    async def _session(self) -> CloseAction:
        """One connection from open to close; returns what to do next."""
        self._set_state(State.CONNECTING)
        self._last_error = None
        url = protocol.connection_url(self.config.ws_url)
        try:
            async with connect(
                url,
                ping_interval=None,
                open_timeout=self.options.open_timeout,
                close_timeout=2,
                max_size=2**22,
            ) as ws:
                self._ws = ws
                if self._stopping:
                    return CloseAction.STOP
                timeout = await self._handshake(ws)
                publisher = asyncio.create_task(self._publish_loop(ws, self._outbox_ready))
                try:
                    return await self._read(ws, timeout)
                finally:
                    publisher.cancel()
        except ConnectionClosed as err:
            rcvd = err.rcvd
            return self._closed(rcvd.code if rcvd else None, rcvd.reason if rcvd else "")
        except _Refused as err:
            return self._closed(err.code, err.text)
        except (OSError, InvalidHandshake, TimeoutError, ProtocolError) as err:
            if not self._stopping:
                logger.warning("Pusher listener: cannot connect to %s: %s", self.config.ws_url, err)
            return CloseAction.BACKOFF
        except Exception:
            logger.exception("Pusher listener: the connection failed unexpectedly; reconnecting")
            return CloseAction.BACKOFF
        finally:
            self._ws = None
            self.socket_id = None
            self._connected.clear()
            for subscription in list(self._subscriptions.values()):
                subscription.state = SubscriptionState.PENDING

    async def _handshake(self, ws: ClientConnection) -> float:
        async with asyncio.timeout(self.options.open_timeout):
            message = protocol.parse(await ws.recv())
        if message.event == "pusher:error":
            code, text = protocol.error_details(message)
            raise _Refused(code, text)
        if message.event != "pusher:connection_established":
            raise ProtocolError(f"expected connection_established, got {message.event}")
        self.socket_id, server_timeout = protocol.handshake(message)
        self._backoff.reset()
        self._set_state(State.CONNECTED)
        self._connected.set()
        if self.options.signin:
            self._signin(self.socket_id)
        for name in list(self._subscriptions):
            self._send_subscribe(name)
        return min(self.options.activity_timeout, server_timeout or math.inf)

    async def _read(self, ws: ClientConnection, activity_timeout: float) -> CloseAction:
        """Handle frames until the connection closes; a watchdog pings on silence.

        The watchdog reads a timestamp instead of arming a timer per frame,
        which measurably cut the listener's cost per event.
        """
        loop = asyncio.get_running_loop()
        self._activity = loop.time()
        self._pong_missed = False
        watchdog = asyncio.create_task(self._watch(ws, activity_timeout))
        try:
            async for frame in ws:
                self._activity = loop.time()
                await self._guarded(ws, frame)
        finally:
            watchdog.cancel()
        if self._pong_missed:
            return CloseAction.RECONNECT
        return self._closed(ws.close_code, ws.close_reason or "")

    async def _guarded(self, ws: ClientConnection, frame: str | bytes) -> None:
        """Handle one frame; nothing in it can end the connection or the listener."""
        event: str | None = None
        try:
            message = protocol.parse(frame)
            event = message.event
            await self._handle(ws, message)
        except ConnectionClosed:
            raise
        except ProtocolError as err:
            logger.warning("Pusher listener: ignoring a frame: %s", err)
            await self._emit(signals.frame_rejected, event=None, error=str(err))
        except Exception as err:
            logger.exception("Pusher listener: handling a %s frame failed; skipped", event)
            await self._emit(signals.frame_rejected, event=event, error=f"{type(err).__name__}")

    async def _watch(self, ws: ClientConnection, activity_timeout: float) -> None:
        loop = asyncio.get_running_loop()
        while True:
            idle = loop.time() - self._activity
            if idle < activity_timeout:
                await asyncio.sleep(activity_timeout - idle)
                continue
            pinged = loop.time()
            await ws.send(protocol.ping())
            await asyncio.sleep(self.options.pong_timeout)
            if self._activity < pinged:
                logger.warning(
                    "Pusher listener: no pong within %.0f s; reconnecting",
                    self.options.pong_timeout,
                )
                self._pong_missed = True
                await ws.close(4201, "pong not received")
                return

    def _closed(self, code: int | None, reason: str) -> CloseAction:
        if self._stopping:
            return CloseAction.STOP
        action = protocol.close_action(code)
        detail = reason or (self._last_error[1] if self._last_error else "")
        if action is CloseAction.STOP:
            hint = _CLOSE_HINTS.get(code or 0, "the server refused the connection")
            self.failure = f"closed with code {code} ({detail or 'no reason given'}): {hint}."
            logger.error("Pusher listener: %s", self.failure)
        else:
            logger.warning(
                "Pusher listener: connection closed (code %s%s); reconnecting",
                code,
                f", {detail}" if detail else "",
            )
        return action

    # -- outgoing ----------------------------------------------------------------------

    def _send_frame(self, text: str) -> None:
        ws = self._ws
        if ws is not None and self._state is State.CONNECTED:
            self._background(_send_quietly(ws, text))

    def _signin(self, socket_id: str) -> None:
        user: dict[str, Any] = {"id": self.options.user_id}
        if self.options.user_info is not None:
            user["user_info"] = dict(self.options.user_info)
        auth = self._client.authenticate_user(socket_id, user)
        self._send_frame(protocol.signin(auth["auth"], auth["user_data"]))

    def _send_subscribe(self, name: str) -> None:
        subscription = self._subscriptions.get(name)
        if subscription is None or self.socket_id is None:
            return
        subscription.state = SubscriptionState.PENDING
        auth: str | None = None
        channel_data: str | None = None
        kind = subscription.kind
        if kind.needs_auth:
            user_data = None
            if kind.is_presence:
                user_data = {"user_id": self.options.user_id, "user_info": self.options.user_info}
            try:
                token = self._client.authorize_channel(self.socket_id, name, user_data)
            except PusherValidationError as err:
                self._subscription_failed(subscription, None, str(err))
                return
            auth, channel_data = token["auth"], token.get("channel_data")
        self._send_frame(protocol.subscribe(name, auth, channel_data))

    async def _publish_loop(self, ws: ClientConnection, ready: asyncio.Event) -> None:
        while True:
            await ready.wait()
            ready.clear()
            while self._outbox:
                name, text, future = self._outbox[0]
                subscription = self._subscriptions.get(name)
                if subscription is None or subscription.state is SubscriptionState.FAILED:
                    self._outbox.popleft()
                    future.set_exception(
                        PusherValidationError(f"The listener is not subscribed to {name!r}.")
                    )
                    continue
                if subscription.state is SubscriptionState.PENDING:
                    await asyncio.sleep(_SUBSCRIBE_WAIT)
                    continue
                wait = self._rate.wait_time()
                if wait > 0:
                    await asyncio.sleep(wait)
                    continue
                await ws.send(text)
                self._rate.record()
                self._outbox.popleft()
                if not future.done():
                    future.set_result(None)

    def _fail_outbox(self, reason: str) -> None:
        while self._outbox:
            future = self._outbox.popleft()[2]
            if not future.done():
                future.set_exception(PusherError(reason))

    # -- incoming ----------------------------------------------------------------------

    async def _handle(self, ws: ClientConnection, message: Message) -> None:
        event = message.event
        if event == "pusher:ping":
            await ws.send(protocol.pong())
        elif event.startswith("pusher_internal:") or event.startswith("pusher:"):
            await self._handle_system(message)
        elif message.channel is not None:
            await self._handle_channel_event(message)

    async def _handle_system(self, message: Message) -> None:
        event, channel = message.event, message.channel
        subscription = self._subscriptions.get(channel) if channel else None
        if event == "pusher:error":
            code, text = protocol.error_details(message)
            self._last_error = (code, text)
            logger.warning("Pusher listener: server error %s: %s", code, text)
            await self._emit(signals.connection_error, code=code, message=text)
        elif event == "pusher:signin_success":
            logger.info("Pusher listener: signed in as %s", self.options.user_id)
        elif subscription is None:
            logger.debug("Pusher listener: %s for %s ignored", event, channel)
        elif event == "pusher_internal:subscription_succeeded":
            await self._subscribed(subscription, message.data)
        elif event == "pusher:subscription_error":
            data = message.data if isinstance(message.data, dict) else {}
            status = data.get("status")
            text = str(data.get("error") or data.get("message") or message.data or "")
            status = status if isinstance(status, int) else None
            self._subscription_failed(subscription, status, text)
        elif event == "pusher_internal:member_added":
            user_id, info = _member(message.data)
            if user_id is not None:
                subscription.add_member(user_id, info)
                await self._emit(
                    signals.member_added, channel=channel, user_id=user_id, user_info=info
                )
        elif event == "pusher_internal:member_removed":
            user_id, _ = _member(message.data)
            if user_id is not None:
                info = subscription.remove_member(user_id)
                await self._emit(
                    signals.member_removed, channel=channel, user_id=user_id, user_info=info
                )
        elif event == "pusher_internal:subscription_count":
            data = message.data if isinstance(message.data, dict) else {}
            count = data.get("subscription_count")
            if isinstance(count, int):
                await self._emit(
                    signals.subscription_count, channel=channel, subscription_count=count
                )
        elif event in ("pusher:cache_miss", "pusher_internal:cache_miss"):
            await self._emit(signals.cache_miss, channel=channel)

    async def _subscribed(self, subscription: Subscription, data: Any) -> None:
        subscription.state = SubscriptionState.SUBSCRIBED
        self._wake_outbox()
        name = subscription.name
        members: dict[str, Any] = {}
        added: dict[str, Any] = {}
        removed: dict[str, Any] = {}
        if subscription.kind.is_presence:
            members = presence_members(data)
            added, removed = subscription.replace_members(members)
        logger.info("Pusher listener: subscribed to %s", name)
        await self._emit(signals.subscription_succeeded, channel=name, members=members)
        for user_id, info in removed.items():
            await self._emit(signals.member_removed, channel=name, user_id=user_id, user_info=info)
        for user_id, info in added.items():
            await self._emit(signals.member_added, channel=name, user_id=user_id, user_info=info)

    def _subscription_failed(
        self, subscription: Subscription, status: int | None, text: str
    ) -> None:
        subscription.state = SubscriptionState.FAILED
        self._wake_outbox()
        logger.warning(
            "Pusher listener: subscription to %s refused (%s): %s", subscription.name, status, text
        )
        self._emit_soon(
            signals.subscription_error, channel=subscription.name, status=status, error=text
        )

    async def _handle_channel_event(self, message: Message) -> None:
        channel = message.channel or ""
        subscription = self._subscriptions.get(channel)
        if subscription is None and not is_server_to_user(channel):
            return
        data = message.data
        if subscription is not None and subscription.encrypted:
            try:
                data = self._decrypt(channel, message.raw_data)
            except PusherEncryptionError as err:
                logger.warning("Pusher listener: %s (event %s dropped)", err, message.event)
                await self._emit(
                    signals.decryption_failed, channel=channel, event=message.event, error=str(err)
                )
                return
        await self._emit(
            signals.event_received,
            channel=channel,
            event=message.event,
            data=data,
            user_id=message.user_id,
        )

    def _decrypt(self, channel: str, raw: Any) -> Any:
        key = self.config.encryption_master_key
        if key is None:
            raise PusherEncryptionError(
                f"Cannot decrypt {channel!r}: PUSHER['ENCRYPTION_MASTER_KEY_BASE64'] is not set"
            )
        return decode_data(decrypt(channel, raw, key))

    async def _emit(self, signal: Signal, **kwargs: Any) -> None:
        await self.dispatcher.put(signal, source=signals.LISTENER, **kwargs)

    def _emit_soon(self, signal: Signal, **kwargs: Any) -> None:
        """For the rare facts found outside a coroutine (state changes, refusals)."""
        self.dispatcher.submit(signal, source=signals.LISTENER, **kwargs)

    def _background(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _set_state(self, current: State) -> None:
        previous, self._state = self._state, current
        if previous is not current:
            logger.info("Pusher listener: %s -> %s", previous.value, current.value)
            self._emit_soon(
                signals.connection_state_changed,
                previous=previous.value,
                current=current.value,
                socket_id=self.socket_id,
            )


def _member(data: Any) -> tuple[str | None, Any]:
    if not isinstance(data, dict) or data.get("user_id") is None:
        return None, None
    return str(data["user_id"]), data.get("user_info")


class _Refused(Exception):
    """A ``pusher:error`` instead of ``connection_established``."""

    def __init__(self, code: int | None, text: str) -> None:
        super().__init__(text)
        self.code, self.text = code, text


async def _send_quietly(ws: ClientConnection, text: str) -> None:
    try:
        await ws.send(text)
    except ConnectionClosed:
        logger.debug("Pusher listener: frame not sent, connection closed")
