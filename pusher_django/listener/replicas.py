"""Each ``pusher_listen`` replica's heartbeat record, for Pusher → Overview.

A :class:`ReplicaReporter` thread watches its listener twice a second and
writes a record to the shared cache (``PUSHER["HEALTH"]["CACHE"]``) every
``PUSHER["HEALTH"]["HEARTBEAT"]`` seconds: state, whether it holds the
``--lock``, since when it is connected, its last frame, reconnects and the
channels it joined. A record whose heartbeat is three intervals old belongs
to a replica that is *gone* (killed, frozen, cut off from the cache); a
replica that stops cleanly says so in its last record.

It only reads the listener, so the listener's hot path does not change: a
reconnect is a new socket id seen by the watch (connections shorter than the
half-second watch are not counted).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

from django.core.cache import BaseCache, caches

from pusher_django import metrics
from pusher_django.conf import get_config

from .core import Listener
from .leader import LeaderLock
from .session import State

logger = logging.getLogger(__name__)

PREFIX = "pusher_django:health:replica"
#: The ids of the replicas seen recently, ``{id: last heartbeat}``.
REGISTRY = f"{PREFIX}s"
#: Records of replicas that stopped are forgotten after this long.
KEEP_SECONDS = 24 * 3600
#: Missing this many heartbeats in a row makes a replica gone.
MISSED_BEATS = 3
WATCH_SECONDS = 0.5


@dataclass(frozen=True)
class Replica:
    """One replica as its last heartbeat described it."""

    id: str
    state: str
    holding: bool | None  # None: the replica runs without --lock
    connected_since: float | None
    last_frame: float | None
    reconnects: int
    channels: tuple[str, ...]
    beat_at: float
    interval: float
    stopped: bool = False

    def gone(self, now: float) -> bool:
        return not self.stopped and now - self.beat_at > MISSED_BEATS * self.interval

    def status(self, now: float) -> str:
        """``stopped``, ``gone``, or the connection state (``connected``, ``connecting``...)."""
        if self.stopped:
            return "stopped"
        return "gone" if self.gone(now) else self.state


def _cache() -> BaseCache:
    return caches[get_config().health.cache]


def _key(replica_id: str) -> str:
    return f"{PREFIX}:{replica_id}"


def replicas(now: float | None = None) -> list[Replica]:
    """Every replica seen in the last day: live ones first, then gone, then stopped."""
    now = time.time() if now is None else now
    try:
        cache = _cache()
        ids = cache.get(REGISTRY) or {}
        stored = cache.get_many([_key(replica_id) for replica_id in ids])
    except Exception as err:
        logger.warning("Pusher listener heartbeats cannot be read: %s", err)
        return []
    found = []
    for record in stored.values():
        try:
            found.append(Replica(**{**record, "channels": tuple(record["channels"])}))
        except (TypeError, KeyError):
            logger.warning("Pusher listener heartbeat record is unreadable; ignored")
    rank = {"stopped": 2, "gone": 1}
    return sorted(found, key=lambda r: (rank.get(r.status(now), 0), r.id))


class ReplicaReporter:
    """Watches one listener and keeps its heartbeat record current (a daemon thread)."""

    def __init__(self, listener: Listener, lock: LeaderLock | None = None) -> None:
        self.listener = listener
        self.lock = lock
        self.id = f"{socket.gethostname()}:{os.getpid()}"
        self.interval = get_config().health.heartbeat
        self._socket_id: str | None = None
        self._connections = 0
        self._connected_since: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._written = 0.0
        self._failing = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pusher-listener-beat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        metrics.listener_connected(False)
        self._write(time.time(), stopped=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.time()
            self.observe(now)
            if now - self._written >= self.interval:
                self._write(now)
            self._stop.wait(WATCH_SECONDS)

    def observe(self, now: float) -> None:
        """Notice a new connection (a new socket id) or a lost one."""
        listener = self.listener
        socket_id = listener.socket_id if listener.state is State.CONNECTED else None
        if socket_id == self._socket_id:
            return
        if socket_id is not None:
            if self._connections:
                metrics.listener_reconnected()
            self._connections += 1
            self._connected_since = now
        else:
            self._connected_since = None
        metrics.listener_connected(socket_id is not None)
        self._socket_id = socket_id

    def record(self, now: float, *, stopped: bool = False) -> Replica:
        last = self.listener.session.heartbeat.last_activity  # the loop's clock: monotonic
        return Replica(
            id=self.id,
            state=self.listener.state.value,
            holding=None if self.lock is None else self.lock.holding,
            connected_since=self._connected_since,
            last_frame=now - (time.monotonic() - last) if last else None,
            reconnects=max(0, self._connections - 1),
            channels=tuple(self.listener.channels),
            beat_at=now,
            interval=self.interval,
            stopped=stopped,
        )

    def _write(self, now: float, *, stopped: bool = False) -> None:
        self._written = now
        record: dict[str, Any] = asdict(self.record(now, stopped=stopped))
        try:
            cache = _cache()
            cache.set(_key(self.id), record, KEEP_SECONDS)
            seen = {
                replica_id: beat
                for replica_id, beat in (cache.get(REGISTRY) or {}).items()
                if now - beat < KEEP_SECONDS
            }
            seen[self.id] = now
            cache.set(REGISTRY, seen, KEEP_SECONDS)
        except Exception as err:
            if not self._failing:
                logger.warning("Pusher listener heartbeat not written: %s", err)
            self._failing = True
        else:
            self._failing = False
