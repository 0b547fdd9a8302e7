"""``pusher_listen --lock``: of several replicas, one dispatches signals at a time.

Every replica stays connected and keeps its member maps current (a hot
standby), but only the holder of a Redis lock sends signals. The holder
renews the lock every third of its TTL; when it dies the lock expires and
another replica takes over within ``LOCK_TTL`` seconds. Built on redis-py's
:class:`redis.lock.Lock`, which releases only a lock it still owns.
"""

from __future__ import annotations

import logging
import threading

import redis
from redis.exceptions import LockError, RedisError

from .core import Listener

logger = logging.getLogger(__name__)


class LeaderLock:
    """Toggles ``listener.dispatcher.enabled`` with ownership of a Redis lock."""

    def __init__(self, listener: Listener, url: str, *, ttl: float, name: str) -> None:
        self.listener = listener
        self.ttl = ttl
        self._redis = redis.Redis.from_url(url, socket_timeout=max(1.0, ttl / 3))
        self._lock = self._redis.lock(name, timeout=ttl, thread_local=False)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.holding = False
        listener.dispatcher.enabled = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pusher-listener-lock", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if self.holding:
            try:
                self._lock.release()
            except (LockError, RedisError):
                logger.debug("Pusher listener: lock already gone on release")
            self._set_holding(False)
        self._redis.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._tick()
            self._stop.wait(self.ttl / 3)

    def _tick(self) -> None:
        try:
            if self.holding:
                self._lock.reacquire()
            else:
                self._set_holding(self._lock.acquire(blocking=False))
        except (LockError, RedisError) as err:
            if self.holding:
                logger.warning("Pusher listener: lost the lock (%s); standing by", err)
            self._set_holding(False)

    def _set_holding(self, holding: bool) -> None:
        if holding != self.holding:
            logger.info(
                "Pusher listener: %s",
                "holding the lock; dispatching signals" if holding else "standing by",
            )
        self.holding = holding
        self.listener.dispatcher.enabled = holding
