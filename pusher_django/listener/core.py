"""The listener's driver: the socket, the asyncio loop, reconnects and the hand-off to receivers.

Everything the listener decides lives in the sans-I/O
:class:`~pusher_django.listener.session.Session`; this module only moves
bytes and time between it and a ``websockets`` connection. A
:class:`Listener` runs an asyncio loop (in the calling thread with
:meth:`Listener.run`, or in a background thread with :meth:`Listener.start`),
hands the session's notices to the
:class:`~pusher_django.listener.dispatcher.Dispatcher` (which runs Django
receivers in another thread) and reconnects with backoff when the session
says so. Methods meant for other threads (:meth:`subscribe`,
:meth:`unsubscribe`, :meth:`publish`, :meth:`stop`) are thread-safe.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import math
import selectors
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from pusher_django.channels import validate_channel_name
from pusher_django.conf import ListenerSettings, PusherConfig, get_config
from pusher_django.exceptions import ConnectionRefused, ListenerFailed, ProtocolError

from . import protocol
from .backoff import Backoff
from .dispatcher import Dispatcher
from .protocol import CloseAction
from .session import Session, State

logger = logging.getLogger(__name__)

__all__ = ["Listener", "listener_settings"]


class _WakingSelector(selectors.DefaultSelector):
    """The loop's selector: wakes the receiver thread just before the loop sleeps.

    By then every frame that had arrived is parsed and queued, so a burst
    wakes the receiver thread once and its receivers start at once; and the
    loop thread is about to release the GIL, so the receiver thread does not
    wake only to wait for it. Measured through soketi: each thread wake-up
    costs more CPU than handling an event, and this saves one per burst
    against a timer that woke the loop again to wake the receivers.
    """

    def __init__(self, before_sleep: Callable[[], None]) -> None:
        super().__init__()
        self._before_sleep = before_sleep

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is None or timeout > 0:
            self._before_sleep()
        return super().select(timeout)


def listener_settings(extra_channels: Iterable[str] = ()) -> ListenerSettings:
    """``PUSHER["LISTENER"]`` with ``extra_channels`` (e.g. ``--channel``) joined to its own."""
    base = get_config().listener
    extra = (validate_channel_name(name) for name in extra_channels)
    return replace(base, channels=tuple(dict.fromkeys((*base.channels, *extra))))


class Listener:
    """A Pusher websocket client whose events become :mod:`pusher_django.signals`."""

    def __init__(
        self,
        channels: Iterable[str] = (),
        *,
        options: ListenerSettings | None = None,
        config: PusherConfig | None = None,
        dispatch: bool = True,
    ) -> None:
        self.options = options if options is not None else listener_settings()
        self.config = config if config is not None else get_config()
        self.session = Session(self.options, self.config, channels)
        self.dispatcher = Dispatcher(Listener)
        self.dispatcher.enabled = dispatch
        # The floor honours Pusher's "at least 1 s" for 4100-4199 at default settings.
        self._backoff = Backoff(
            base=self.options.reconnect_backoff,
            cap=self.options.reconnect_backoff_max,
            minimum=self.options.reconnect_backoff,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ws: ClientConnection | None = None
        self._stop_event = asyncio.Event()
        self._wake = asyncio.Event()
        self._thread: threading.Thread | None = None
        self._connected = threading.Event()
        self._closing: set[asyncio.Future[None]] = set()

    def __repr__(self) -> str:
        return f"<Listener {self.state.value} socket_id={self.socket_id} channels={self.channels}>"

    # -- public API (any thread) -------------------------------------------------------

    @property
    def state(self) -> State:
        return self.session.state

    @property
    def socket_id(self) -> str | None:
        return self.session.socket_id

    @property
    def failure(self) -> str | None:
        """Why the server refused the app for good, or ``None``."""
        return self.session.failure

    @property
    def channels(self) -> list[str]:
        return list(self.session.subscriptions)

    def members(self, channel: str) -> dict[str, Any]:
        """The current presence members of a joined channel, ``{user_id: user_info}``."""
        return self.session.members(channel)

    def known_members(self) -> dict[str, dict[str, Any]]:
        """``{channel: members}`` of the presence channels whose member list has arrived."""
        return self.session.known_members()

    def seed_members(self, channel: str, members: dict[str, Any]) -> None:
        """Start from ``members`` as the last reported state of a joined presence channel.

        The first member list from the server is then compared with it, so
        the joins and leaves that happened before it are reported (see
        :mod:`pusher_django.listener.leader`). Ignored once a list arrived.
        """
        self.session.seed_members(channel, members)

    def subscribe(self, channel: str) -> None:
        """Join a channel now (if connected) and after every reconnect."""
        if self.session.add_channel(channel):
            self._call_soon(self._join, channel)

    def unsubscribe(self, channel: str) -> None:
        """Leave a channel; its events stop reaching the signals."""
        if self.session.remove_channel(channel):
            self._call_soon(self._leave, channel)

    def publish(self, channel: str, event: str, data: Any) -> concurrent.futures.Future[None]:
        """Send a client event on a joined private, presence or encrypted channel.

        ``event`` gets the ``client-`` prefix if it lacks it. Data for an
        encrypted channel is encrypted with the channel's shared secret, so
        pusher-js subscribers decrypt it like any server event. Events are
        paced to ``CLIENT_EVENTS_PER_SECOND`` and kept across reconnects;
        the returned future completes when the frame has been sent.
        """
        name, frame = self.session.publication(channel, event, data)
        future: concurrent.futures.Future[None] = concurrent.futures.Future()
        self.session.queue_publication(name, frame, future)
        self._call_soon()
        return future

    def run(self) -> None:
        """Connect and dispatch until :meth:`stop` or a permanent refusal.

        Raises :class:`ListenerFailed` when the server refuses the app
        (close codes 4000-4099); every other fault is retried.
        """
        with asyncio.Runner(loop_factory=self._new_loop) as runner:
            runner.run(self._main())
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
        self.session.stopping = True
        self._call_soon(self._wake_stop)
        # A receiver may call stop(): never wait on the calling thread itself.
        own = (self._thread, self.dispatcher.thread)
        if self._thread is not None and threading.current_thread() not in own:
            self._thread.join(timeout)

    # -- loop ----------------------------------------------------------------------------

    def _new_loop(self) -> asyncio.AbstractEventLoop:
        return asyncio.SelectorEventLoop(_WakingSelector(self.dispatcher.wake))

    def _run_quietly(self) -> None:
        try:
            self.run()
        except ListenerFailed as err:
            logger.error("Pusher listener stopped: %s", err)

    def on_loop(self, func: Callable[[], object]) -> bool:
        """Run ``func`` on the event loop's thread, between two frames; ``False`` if none runs.

        That thread alone updates the member maps and queues the notices of
        what arrives, so ``func`` sees both in one consistent state.
        """
        loop = self._loop
        if loop is None or loop.is_closed():
            return False
        try:
            loop.call_soon_threadsafe(func)
        except RuntimeError:  # closed between the check and the call
            return False
        return True

    def _call_soon(self, func: Callable[..., object] | None = None, *args: Any) -> None:
        """Run ``func`` on the loop (if any), then let the timer task send what it produced."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # closed between the check and the call
                loop.call_soon_threadsafe(self._then_wake, func, *args)

    def _then_wake(self, func: Callable[..., object] | None, *args: Any) -> None:
        if func is not None:
            func(*args)
        self._wake.set()

    def _join(self, channel: str) -> None:
        if self._loop is not None:
            self.session.join(channel, self._loop.time())

    def _leave(self, channel: str) -> None:
        if self._loop is not None:
            self.session.leave(channel, self._loop.time())

    def _wake_stop(self) -> None:
        self._stop_event.set()
        if self._ws is not None:
            task = asyncio.ensure_future(self._ws.close())
            self._closing.add(task)  # the loop keeps only a weak reference to tasks
            task.add_done_callback(self._closing.discard)

    async def _main(self) -> None:
        self._stop_event = asyncio.Event()
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self.dispatcher.start()
        try:
            while not self.session.stopping:
                action = await self._connection()
                self._hand_over()
                if self.session.stopping or action is CloseAction.STOP:
                    break
                delay = 0.0 if action is CloseAction.RECONNECT else self._backoff.next_delay()
                if delay:
                    logger.info("Pusher listener: reconnecting in %.1f s", delay)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop_event.wait(), delay)
        finally:
            self.session.finished(asyncio.get_running_loop().time())
            self._hand_over()
            self.dispatcher.stop()
            self._loop = None

    async def _connection(self) -> CloseAction:
        """One connection from open to close; returns what to do next."""
        session = self.session
        clock = asyncio.get_running_loop().time
        session.connecting(clock())
        self._hand_over()
        try:
            async with connect(
                protocol.connection_url(self.config.ws_url),
                ping_interval=None,
                # No permessage-deflate: inflating small events costs more CPU than the bytes
                # saved, and one read of compressed frames inflated into thousands at once
                # (measured: +10 MB RSS in a burst).
                compression=None,
                open_timeout=self.options.open_timeout,
                close_timeout=2,
                max_size=protocol.MAX_FRAME_BYTES,
            ) as ws:
                self._ws = ws
                if session.stopping:
                    return CloseAction.STOP
                async with asyncio.timeout(self.options.open_timeout):
                    first = await ws.recv()
                session.receive(first, clock())
                self._backoff.reset()
                self._connected.set()
                timer = asyncio.create_task(self._timer(ws))
                try:
                    await self._read(ws)
                finally:
                    timer.cancel()
                return session.closed(ws.close_code, ws.close_reason or "", clock())
        except ConnectionClosed as err:
            rcvd = err.rcvd
            code, reason = (rcvd.code, rcvd.reason) if rcvd else (None, "")
            return session.closed(code, reason, clock())
        except ConnectionRefused as err:
            return session.closed(err.code, err.text, clock())
        except (OSError, InvalidHandshake, TimeoutError, ProtocolError) as err:
            return session.connect_failed(err, clock())
        except Exception:
            logger.exception("Pusher listener: the connection failed unexpectedly; reconnecting")
            return session.connect_failed("unexpected error", clock())
        finally:
            self._ws = None
            self._connected.clear()

    async def _read(self, ws: ClientConnection) -> None:
        """The hot path: every frame to the session, its output to the socket and receivers."""
        session = self.session
        clock = asyncio.get_running_loop().time
        dispatcher = self.dispatcher
        async for frame in ws:
            session.receive(frame, clock())
            received = session.events_received()
            if received:
                dispatcher.extend(received, wake=False)  # woken before the loop sleeps
                if dispatcher.backlogged:
                    dispatcher.wake()
                    await dispatcher.room()
            if session.wants_tick():
                self._wake.set()

    async def _timer(self, ws: ClientConnection) -> None:
        """Sends what the session produced outside a frame and wakes it at its deadlines."""
        session = self.session
        loop = asyncio.get_running_loop()
        try:
            while True:
                self._wake.clear()
                deadline = session.tick(loop.time())
                while frames := session.data_to_send():
                    for text in frames:
                        await ws.send(text)
                self._hand_over()
                if session.close_request is not None:
                    await ws.close(*session.close_request)
                    return
                delay = deadline - loop.time()
                if delay > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            self._wake.wait(), None if math.isinf(delay) else delay
                        )
        except ConnectionClosed:
            logger.debug("Pusher listener: frames not sent, connection closed")

    def _hand_over(self) -> None:
        received = self.session.events_received()
        if received:
            self.dispatcher.extend(received)
