"""Running a listener as a process: signals, the optional lock, exit codes.

Kept out of the management command so that it can be tested without
``call_command`` and reused by other process managers.
"""

from __future__ import annotations

import logging
import os
import signal
from types import FrameType

from pusher_django.exceptions import ListenerFailed

from .core import Listener
from .leader import LeaderLock
from .replicas import ReplicaReporter

__all__ = ["EXIT_FORCED", "EXIT_OK", "EXIT_REFUSED", "ListenerRunner"]

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_REFUSED = 2  # the server refused the app (close codes 4000-4099): fix the settings
EXIT_FORCED = 3  # a second SIGINT/SIGTERM arrived before the clean stop finished


class ListenerRunner:
    """Runs ``listener`` in the calling (main) thread until SIGINT/SIGTERM."""

    def __init__(self, listener: Listener, lock: LeaderLock | None = None) -> None:
        self.listener = listener
        self.lock = lock
        self._signals = 0

    def run(self) -> int:
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        if self.lock is not None:
            self.lock.start()
        beat = ReplicaReporter(self.listener, self.lock)
        beat.start()
        try:
            self.listener.run()
        except ListenerFailed as err:
            logger.error("Pusher listener refused by the server: %s", err)
            return EXIT_REFUSED
        finally:
            beat.stop()
            if self.lock is not None:
                self.lock.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        logger.info("Pusher listener stopped")
        return EXIT_OK

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._signals += 1
        if self._signals > 1:
            logger.warning("Pusher listener: second %s, exiting now", signal.Signals(signum).name)
            os._exit(EXIT_FORCED)
        logger.info(
            "Pusher listener: %s received, finishing receivers and closing "
            "(send it again to force)",
            signal.Signals(signum).name,
        )
        self.listener.stop(timeout=0)
