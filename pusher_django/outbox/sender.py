"""Send-at-commit: the committing process sends its own due rows, without broker or claim.

With ``OUTBOX["SEND_AT_COMMIT"]`` the writer inserts rows that are due now
already leased to their transaction (the lease token is the transaction's
batch id), so once the commit is done nobody else may claim them and no
claim transaction is needed. The hand-off gives the token to one daemon
thread per process, which sends the rows in id order with the relay's own
send, mark, defer and dead-letter steps.

The committing thread hands over the rows as it wrote them, so the sender
reads none back unless a merge changed one. Every guarantee is the relay's.
Before a channel's rows go out, the channel must have no older pending row
of someone else (a retry waiting, another process's transaction, a worker's
claim); if it has, those rows are released to the Celery task, which sends
each channel's unbroken run in order. A full queue, a transient failure or
anything unexpected also ends in the Celery task, and a process that dies
with rows in its queue only delays them until their lease runs out and the
relay or a worker takes them.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import queue
import threading
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connections
from django.utils import timezone

from pusher_django.client import get_client
from pusher_django.models import Delivery
from pusher_django.tracing import traced

from . import relay, statements
from .writer import LeasedRow

logger = logging.getLogger(__name__)

#: Transactions waiting for the sender; past this a commit hands off to Celery instead.
QUEUE_SIZE = 1000
#: Event data the waiting transactions may hold; past this, too, Celery gets the commit.
QUEUE_BYTES = 16_000_000
#: The sender closes its database connections after this long without work.
IDLE_CLOSE = 1.0
#: Rows sent as one group when transactions queue up (ten per request).
MAX_ROWS = 100
#: At interpreter exit, how long the queue may take to drain before Celery gets the rest.
EXIT_DRAIN = 5.0


@dataclass(frozen=True)
class Job:
    """One committed transaction's leased rows."""

    using: str
    token: Any
    rows: tuple[LeasedRow, ...]
    #: ``False`` when a merge may have changed a row since it was written: read them back.
    exact: bool = True

    @property
    def ids(self) -> list[int]:
        return [row.pk for row in self.rows]

    @property
    def size(self) -> int:
        """The event data it holds (none when the sender reads its rows back)."""
        return sum(len(row.data) for row in self.rows)


class _Close:
    """A request to close this thread's connections (tests, before their database goes)."""

    def __init__(self) -> None:
        self.done = threading.Event()


class Sender:
    """The per-process sending thread and its bounded queue."""

    def __init__(self, size: int = QUEUE_SIZE, max_bytes: int = QUEUE_BYTES) -> None:
        self.pid = os.getpid()
        self.jobs: queue.Queue[Job | _Close | None] = queue.Queue(size)
        self.max_bytes = max_bytes
        self.queued_bytes = 0
        self._bytes = threading.Lock()
        self.thread = threading.Thread(target=self._run, name="pusher-outbox-sender", daemon=True)
        self.thread.start()

    def submit(self, job: Job) -> bool:
        """Queue ``job``; ``False`` when the queue is full or the thread is gone."""
        if not self.thread.is_alive():
            return False
        size = job.size
        with self._bytes:
            if self.queued_bytes + size > self.max_bytes and self.queued_bytes:
                return False
            self.queued_bytes += size
        try:
            self.jobs.put_nowait(job)
        except queue.Full:
            self._taken(job)
            return False
        return True

    def _taken(self, item: Job | _Close | None) -> None:
        if isinstance(item, Job):
            with self._bytes:
                self.queued_bytes -= item.size

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until every queued job is done and the thread's connections are closed."""
        if not self.thread.is_alive():
            return True
        request = _Close()
        try:
            self.jobs.put(request, timeout=timeout)
        except queue.Full:
            return False
        return request.done.wait(timeout)

    def stop(self, timeout: float = EXIT_DRAIN) -> None:
        """Drain for up to ``timeout``; what is left goes to Celery from this thread."""
        deadline = time.monotonic() + timeout
        with contextlib.suppress(queue.Full):
            self.jobs.put(None, timeout=timeout)
        self.thread.join(max(deadline - time.monotonic(), 0))
        while True:
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                return
            self._taken(job)
            if isinstance(job, Job):
                hand_to_celery(job.using, {job.token}, job.ids)

    def _run(self) -> None:
        held: list[Job | _Close | None] = []  # taken from the queue, not part of the group
        while True:
            if held:
                item = held.pop()
            else:
                try:
                    item = self.jobs.get(timeout=IDLE_CLOSE)
                except queue.Empty:
                    connections.close_all()
                    continue
                self._taken(item)
            if not isinstance(item, Job):
                connections.close_all()
                if item is None:
                    return
                item.done.set()
                continue
            jobs = [item]
            # Transactions that queued up meanwhile go out together: fewer requests.
            while sum(len(job.rows) for job in jobs) < MAX_ROWS:
                try:
                    queued = self.jobs.get_nowait()
                except queue.Empty:
                    break
                self._taken(queued)
                if not isinstance(queued, Job) or queued.using != item.using:
                    held.append(queued)
                    break
                jobs.append(queued)
            send(jobs)


_lock = threading.Lock()
_senders: dict[int, Sender] = {}  # by process id: a forked child starts its own


def get_sender() -> Sender:
    """This process's sender, started on first use (again in a forked child)."""
    with _lock:
        sender = _senders.get(os.getpid())
        if sender is None:
            sender = _senders[os.getpid()] = Sender()
        return sender


def running_sender() -> Sender | None:
    """The sender if this process started one (none is started by asking)."""
    return _senders.get(os.getpid())


@atexit.register
def _drain_at_exit() -> None:
    sender = running_sender()
    if sender is not None:
        sender.stop()


def hand_off(using: str, token: Any, rows: Sequence[LeasedRow], *, exact: bool = True) -> None:
    """After the commit: give the transaction's leased rows to the sender, else to Celery.

    When the callback runs inside an atomic block (a test's transaction), the
    sender's own connection could not see the rows: they go to Celery. On
    SQLite the committing thread sends them itself: SQLite lets one writer at
    a time hold the database, and a sender thread marking rows sent waited
    behind the next commits (measured: a burst of 200 saves, p99 0.4-0.8 s).
    """
    connection = connections[using]
    job = Job(using, token, tuple(rows), exact)
    if rows and not connection.in_atomic_block:
        if connection.vendor == "sqlite":
            send([job])  # one writer at a time: a sender thread would queue behind commits
            return
        if get_sender().submit(job):
            return
        logger.warning("The outbox sender is busy; Celery delivers this transaction's events")
    hand_to_celery(using, {token}, job.ids)


def hand_to_celery(using: str, tokens: Collection[Any] = (), ids: Sequence[int] = ()) -> None:
    """Release the leases on ``ids`` (if any), enqueue ``deliver_outbox``; inline if no broker."""
    from pusher_django import tasks

    if ids:
        relay.release(ids, using, tokens)

    def deliver_here() -> None:
        logger.warning("The broker is unreachable; delivering the outbox from this process")
        try:
            relay.deliver(using, max_rounds=1)
        except Exception:
            logger.exception("Inline delivery failed; the relay will deliver the committed events")

    tasks.enqueue_or_run(tasks.deliver_outbox, using, fallback=deliver_here)


def send(jobs: Sequence[Job]) -> relay.Report:
    """Send queued transactions' rows as one group; on any error Celery gets them."""
    using = jobs[0].using
    tokens = frozenset(job.token for job in jobs)
    try:
        return _send(using, tokens, jobs)
    except Exception:
        logger.exception("The outbox sender failed; Celery delivers these transactions' events")
        connections[using].close()  # a broken connection is not reused
        try:
            hand_to_celery(using, tokens, [row_id for job in jobs for row_id in job.ids])
        except Exception:
            logger.exception("Outbox hand-off failed; the relay delivers after the lease")
        return relay.Report()


def _as_written(jobs: Sequence[Job], now: datetime) -> list[LeasedRow] | None:
    """The jobs' rows in id order as written; ``None`` if one may have changed since."""
    if not all(job.exact for job in jobs):
        return None
    rows = [row for job in jobs for row in job.rows]
    if any(row.lease_until <= now for row in rows):
        return None  # a lease that ran out before the commit: someone may have claimed the row
    return sorted(rows, key=lambda row: row.pk)


@traced("pusher_django.outbox.send_at_commit")
def _send(using: str, tokens: frozenset[Any], jobs: Sequence[Job]) -> relay.Report:
    """Send rows leased to ``tokens`` the relay's way, or leave them to Celery.

    Celery is asked when a channel is held by someone else's older row (its
    rows here are released), when a transient failure deferred rows, or when
    a later row on one of these channels was released by a sender that found
    these rows in its way.
    """
    now = timezone.now()
    report = relay.Report()
    ids = [row_id for job in jobs for row_id in job.ids]
    written = _as_written(jobs, now)  # the usual case: no row read, one query
    ready: Sequence[relay.OutboxRow] | None = written
    if written is not None and statements.others_before(ids, {r.channel for r in written}, using):
        ready = None
    held: list[Delivery] = []
    # Rows missing here had their lease run out before the commit (or were merged away).
    missing = False
    if ready is None:
        rows = relay.leased(ids, using, tokens, now)
        missing = len(rows) < len(ids)
        runs = set(relay.unbroken_runs([(row.pk, row.channel) for row in rows], using))
        held = [row for row in rows if row.pk not in runs]
        ready = [row for row in rows if row.pk in runs]
    celery = bool(held) or missing
    if held:
        relay.release([row.pk for row in held], using, tokens)
    if ready and not relay.send_rows(get_client(), ready, using, report):
        celery = True
    if not celery and ready:
        channels = {row.channel for row in ready}
        celery = statements.free_after(channels, max(row.pk for row in ready), using)
    if celery:
        logger.debug("Outbox at commit: %d row(s) held back, Celery delivers them", len(held))
        hand_to_celery(using)
    if report.failed or report.deferred:
        logger.info(
            "Outbox at commit: %d sent, %d failed, %d deferred",
            report.sent,
            report.failed,
            report.deferred,
        )
    return report
