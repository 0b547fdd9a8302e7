"""Runs signal receivers off the event loop, in order, as ordinary Django code.

Receivers may use the ORM and may be slow; the websocket loop must keep
answering pings meanwhile. One worker thread sends the signals in the order
the frames arrived, closes stale database connections around the
dispatches (like a request does) and logs a receiver's exception with its
traceback without stopping the others.

The hand-off is a deque plus an event rather than a ``queue.Queue``: appends
and pops need no lock, so the loop and the worker do not contend for one on
every event (measured: that lock was the listener's largest cost). The
backlog is bounded so that a stuck receiver slows the reader down instead of
growing memory without limit.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from typing import Any

from django.db import close_old_connections
from django.dispatch import Signal

logger = logging.getLogger(__name__)

_STOP = object()


class Dispatcher:
    """A single worker thread that sends queued signals with ``send_robust``."""

    def __init__(self, sender: Any, *, max_pending: int = 10_000) -> None:
        self.sender = sender
        self.max_pending = max_pending
        self._pending: deque[Any] = deque()
        self._wakeup = threading.Event()
        self._thread: threading.Thread | None = None
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

    def submit(self, signal: Signal, **kwargs: Any) -> None:
        """Queue without waiting (any thread)."""
        if self.enabled:
            self._pending.append((signal, kwargs))
            if not self._wakeup.is_set():
                self._wakeup.set()

    async def put(self, signal: Signal, **kwargs: Any) -> None:
        """Queue from the event loop; pauses the reader while receivers lag far behind."""
        self.submit(signal, **kwargs)
        while len(self._pending) > self.max_pending and self._thread is not None:
            await asyncio.sleep(0.01)

    def stop(self, timeout: float | None = None) -> bool:
        """Let queued receivers finish, then end the thread. ``False`` if it timed out."""
        thread = self._thread
        if thread is None:
            return True
        self._pending.append(_STOP)
        self._wakeup.set()
        if thread is threading.current_thread():
            return False
        thread.join(timeout)
        if thread.is_alive():
            return False
        self._thread = None
        return True

    def _run(self) -> None:
        pending = self._pending
        while True:
            self._wakeup.wait()
            self._wakeup.clear()
            if not pending:
                continue
            close_old_connections()
            try:
                while pending:
                    item = pending.popleft()
                    if item is _STOP:
                        return
                    signal, kwargs = item
                    self.dispatch(signal, **kwargs)
            finally:
                close_old_connections()

    def dispatch(self, signal: Signal, **kwargs: Any) -> None:
        for receiver, result in signal.send_robust(self.sender, **kwargs):
            if isinstance(result, BaseException):
                logger.error(
                    "Pusher listener: receiver %r failed on %s",
                    receiver,
                    kwargs.get("channel", ""),
                    exc_info=result,
                )
