"""One relay pass, and the loop behind ``manage.py pusher_outbox`` that repeats it.

For projects that run no Celery beat: it delivers whatever the per-commit
hand-off left behind (broker down, a process killed after commit, a lost
task), prunes old rows and warns about an old backlog. Any number may run.
The ``pusher_django.relay_outbox`` periodic task runs the same pass.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from types import FrameType

from django.db import DEFAULT_DB_ALIAS, close_old_connections
from django.utils import timezone

from pusher_django.conf import get_config

from .relay import Report, deliver, prune, warn_if_behind

logger = logging.getLogger(__name__)

#: Prune at most this often (seconds) in the loop; a relay pass is much more frequent.
PRUNE_EVERY = 60.0
#: The loop never sleeps less than this, even when a row is due sooner.
MIN_WAIT = 0.2


def relay_pass(using: str = DEFAULT_DB_ALIAS, *, housekeeping: bool = True) -> Report:
    """Deliver what is due; with ``housekeeping``, also prune and warn about an old backlog."""
    report = deliver(using)
    if housekeeping:
        prune(using)
        warn_if_behind(using)
    return report


class RelayRunner:
    def __init__(self, using: str = DEFAULT_DB_ALIAS, interval: float | None = None) -> None:
        self.using = using
        self.interval = float(interval or get_config().outbox.relay_interval)
        self.stopped = threading.Event()
        self._last_housekeeping: float | None = None

    def run_once(self) -> Report:
        """One pass, housekeeping included."""
        return self._pass(housekeeping=True)

    def run(self) -> None:
        """Relay until SIGINT/SIGTERM; a failing pass is logged and retried next time."""
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            while not self.stopped.is_set():
                self.stopped.wait(self._step())
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        logger.info("Outbox relay stopped")

    def _step(self) -> float:
        """Run a pass; return how long to wait before the next one."""
        last = self._last_housekeeping
        try:
            report = self._pass(housekeeping=last is None or time.monotonic() - last >= PRUNE_EVERY)
        except Exception:
            logger.exception("Outbox relay pass failed; trying again")
            return self.interval
        finally:
            close_old_connections()
        if report.next_due is None:
            return self.interval
        due = (report.next_due - timezone.now()).total_seconds()
        return min(self.interval, max(due, MIN_WAIT))

    def _pass(self, *, housekeeping: bool) -> Report:
        report = relay_pass(self.using, housekeeping=housekeeping)
        if housekeeping:
            self._last_housekeeping = time.monotonic()
        return report

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        logger.info("Outbox relay: %s received, stopping", signal.Signals(signum).name)
        self.stopped.set()
