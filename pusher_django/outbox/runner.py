"""The relay loop behind ``manage.py pusher_outbox``, testable without the command.

For projects that run no Celery beat: it delivers whatever the per-commit
hand-off left behind (broker down, a process killed after commit, a lost
task), prunes old rows and warns about an old backlog. Any number may run.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from django.db import close_old_connections
from django.utils import timezone

from pusher_django.conf import get_config

from .relay import deliver, prune, warn_if_behind

logger = logging.getLogger(__name__)

#: Prune at most this often (seconds); a relay pass is much more frequent.
PRUNE_EVERY = 60.0


class RelayRunner:
    def __init__(self, using: str = "default", interval: float | None = None) -> None:
        self.using = using
        self.interval = float(interval or get_config().outbox.relay_interval)
        self.stopped = threading.Event()

    def run_once(self) -> int:
        report = deliver(self.using)
        prune(self.using)
        warn_if_behind(self.using)
        return report.sent

    def run(self) -> None:
        """Relay until SIGINT/SIGTERM; a failing pass is logged and retried next time."""
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        last_prune = 0.0
        try:
            while not self.stopped.is_set():
                try:
                    report = deliver(self.using)
                    now = timezone.now().timestamp()
                    if now - last_prune >= PRUNE_EVERY:
                        prune(self.using)
                        warn_if_behind(self.using)
                        last_prune = now
                    wait = self.interval
                    if report.next_due is not None:
                        due = (report.next_due - timezone.now()).total_seconds()
                        wait = min(wait, max(due, 0.2))
                except Exception:
                    logger.exception("Outbox relay pass failed; trying again")
                    wait = self.interval
                finally:
                    close_old_connections()
                self.stopped.wait(wait)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        logger.info("Outbox relay stopped")

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        logger.info("Outbox relay: %s received, stopping", signal.Signals(signum).name)
        self.stopped.set()
