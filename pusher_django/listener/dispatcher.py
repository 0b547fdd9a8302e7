"""Runs signal receivers off the event loop, in order, as ordinary Django code.

Receivers may use the ORM and may be slow; the websocket loop must keep
answering pings meanwhile. One worker thread sends the notices in the order
the frames arrived (through :func:`pusher_django.notices.send`, which logs a
receiver's exception without stopping the others) and closes stale database
connections after each run of dispatches, like the end of a request does.

The hand-off is a deque plus a wake-up token rather than a ``queue.Queue``:
appends and pops need no lock, so the loop and the worker do not contend for
one on every event (measured: that lock was the listener's largest cost), and
the token is a C ``SimpleQueue`` holding at most one item, so a wake-up runs
no Python-level ``Condition`` code on either side. The
backlog is bounded (a few hundred notices, measured enough to keep the worker
busy) so that slow receivers slow the reader down instead of growing memory:
the reader waits until the worker has drained half of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import threading
from collections import deque
from collections.abc import Iterable
from typing import Any

from django.db import close_old_connections

from pusher_django.notices import Notice, send

from .references import resolved

__all__ = ["Dispatcher"]

logger = logging.getLogger(__name__)

_STOP: Any = object()


def _no_wakeup_preemption() -> None:
    """On Linux, schedule the calling (receiver) thread as ``SCHED_BATCH``.

    Same CPU share and nice value; only the wake-up differs. The loop thread
    wakes this one just before it sleeps (see ``core._WakingSelector``);
    without this, the woken thread preempts it on the same CPU while it still
    holds the GIL and then waits for it: two more context switches per burst
    (measured through soketi). Threads that receivers start inherit it.
    """
    policy = getattr(os, "SCHED_BATCH", None)
    if policy is not None and hasattr(os, "sched_setscheduler"):
        with contextlib.suppress(OSError):
            os.sched_setscheduler(0, policy, os.sched_param(0))


class Dispatcher:
    """A single worker thread that sends queued notices with ``send_robust``."""

    def __init__(self, sender: Any, *, max_pending: int = 256) -> None:
        self.sender = sender
        self.max_pending = max_pending
        self._pending: deque[Notice] = deque()
        self._wakeup: queue.SimpleQueue[None] = queue.SimpleQueue()
        # True from a wake-up until the worker takes it (and before it drains): while it
        # is set, a notice queued now is seen by that drain, so no second token is needed.
        self._signalled = False
        self._thread: threading.Thread | None = None
        self._drained: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None
        self.enabled = True

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._run, name="pusher-listener-dispatch", daemon=True
            )
            self._thread.start()

    @property
    def thread(self) -> threading.Thread | None:
        return self._thread

    def submit(self, notice: Notice) -> None:
        """Queue one notice (any thread)."""
        self.extend((notice,))

    def extend(self, notices: Iterable[Notice], *, wake: bool = True) -> None:
        """Queue notices in order without waiting (any thread); dropped while disabled.

        ``wake=False`` leaves waking the worker to a later :meth:`wake`, so
        that a burst of events costs one thread wake-up instead of one each.
        """
        if self.enabled:
            self._pending.extend(notices)
            if wake:
                self.wake()

    def wake(self) -> None:
        if self._pending and not self._signalled:
            self._signal()

    def _signal(self) -> None:
        self._signalled = True
        self._wakeup.put(None)

    @property
    def backlogged(self) -> bool:
        return len(self._pending) > self.max_pending and self._thread is not None

    async def room(self) -> None:
        """Pause the reader until the worker has drained half of the backlog."""
        event = asyncio.Event()
        self._drained = (asyncio.get_running_loop(), event)
        while self.backlogged:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), 0.5)  # the worker may have just stopped
            event.clear()
        self._drained = None

    def _maybe_release(self) -> None:
        waiting = self._drained
        if waiting is not None and len(self._pending) <= self.max_pending // 2:
            loop, event = waiting
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(event.set)

    def stop(self, timeout: float | None = None) -> bool:
        """Let queued receivers finish, then end the thread. ``False`` if it timed out."""
        thread = self._thread
        if thread is None:
            return True
        self._pending.append(_STOP)
        self._signal()
        if thread is threading.current_thread():
            return False
        thread.join(timeout)
        if thread.is_alive():
            return False
        self._thread = None
        return True

    def _run(self) -> None:
        _no_wakeup_preemption()
        pending = self._pending
        sender = self.sender
        # Closed after every run, so before the next one there is nothing stale left to close.
        close_old_connections()
        take = self._wakeup.get
        while True:
            take()
            self._signalled = False
            if not pending:
                continue
            try:
                while pending:
                    notice = pending.popleft()
                    if notice is _STOP:
                        return
                    whole = resolved(notice)  # a large event sent by reference: read it
                    if whole is not None:
                        send(whole, sender)
                    if self._drained is not None:
                        self._maybe_release()
            finally:
                close_old_connections()
