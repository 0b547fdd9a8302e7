"""Runs signal receivers off the event loop, in order, as ordinary Django code.

Receivers may use the ORM and may be slow; the websocket loop must keep
answering pings meanwhile. One worker thread sends the signals in the order
the frames arrived, closes stale database connections around each dispatch
(like a request does) and logs a receiver's exception with its traceback
without stopping the others. The queue is bounded so that a stuck receiver
slows the reader down instead of growing memory without limit.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from typing import Any

from django.db import close_old_connections
from django.dispatch import Signal

logger = logging.getLogger(__name__)

_STOP = object()


class Dispatcher:
    """A single worker thread that sends queued signals with ``send_robust``."""

    def __init__(self, sender: Any, *, max_pending: int = 10_000) -> None:
        self.sender = sender
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_pending)
        self._thread: threading.Thread | None = None
        self.dispatched = 0
        self.enabled = True

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._run, name="pusher-listener-dispatch", daemon=True
            )
            self._thread.start()

    def submit(self, signal: Signal, **kwargs: Any) -> bool:
        """Queue without waiting; ``False`` when the queue is full (use :meth:`put`)."""
        if not self.enabled:
            return True
        try:
            self._queue.put_nowait((signal, kwargs))
        except queue.Full:
            return False
        return True

    async def put(self, signal: Signal, **kwargs: Any) -> None:
        """Queue from the event loop; waits in a thread only when receivers lag behind."""
        if not self.submit(signal, **kwargs):
            await asyncio.to_thread(self._queue.put, (signal, kwargs))

    def stop(self, timeout: float | None = None) -> bool:
        """Let queued receivers finish, then end the thread. ``False`` if it timed out."""
        thread = self._thread
        if thread is None:
            return True
        self._queue.put(_STOP)
        thread.join(timeout)
        return not thread.is_alive()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            signal, kwargs = item
            self.dispatch(signal, **kwargs)

    def dispatch(self, signal: Signal, **kwargs: Any) -> None:
        close_old_connections()
        try:
            for receiver, result in signal.send_robust(self.sender, **kwargs):
                if isinstance(result, BaseException):
                    logger.error(
                        "Pusher listener: receiver %r failed on %s",
                        receiver,
                        kwargs.get("channel", ""),
                        exc_info=result,
                    )
        finally:
            close_old_connections()
            self.dispatched += 1
