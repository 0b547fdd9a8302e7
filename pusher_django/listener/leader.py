"""``pusher_listen --lock``: of several replicas, one dispatches signals at a time.

Every replica stays connected and keeps its member maps current (a hot
standby), but only the holder of a Redis lock sends signals. The holder
renews the lock every third of its TTL; when it dies the lock expires and
another replica takes over within ``LOCK_TTL`` seconds. Built on redis-py's
:class:`redis.lock.Lock`, which releases only a lock it still owns.

A member ledger in Redis holds, per presence channel, the members as last
reported to the receivers. The holder keeps it current; a replica that
takes over compares its own (hot) member map with it and reports the
difference, so a join or leave that happened while the old holder was dead
is reported once, and one it had reported is not reported again. Replicas
also start from the ledger, so a restart reports what changed while no
listener was running.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import redis
from django.dispatch import Signal
from redis.exceptions import LockError, RedisError

from pusher_django import notices, safe_json, signals
from pusher_django.exceptions import UnsafeJSON

from .core import Listener

__all__ = ["LeaderLock", "MemberLedger"]

logger = logging.getLogger(__name__)

#: Queued on taking the lock, in order with the live notices: its receiver reconciles.
_TAKEN_OVER = Signal()


class MemberLedger:
    """Per presence channel, the members last reported to receivers (a Redis hash each)."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def _key(self, channel: str) -> str:
        return f"{self.prefix}:{channel}"

    def load(self, channel: str) -> dict[str, Any]:
        stored = self.client.hgetall(self._key(channel))
        members = {}
        for user_id, info in stored.items():
            try:
                name = user_id.decode() if isinstance(user_id, bytes) else str(user_id)
                members[name] = safe_json.loads(info)
            except (UnsafeJSON, UnicodeDecodeError):
                logger.warning("Pusher listener: ledger entry of %s is unreadable", channel)
        return members

    def add(self, channel: str, user_id: str, user_info: Any) -> None:
        self.client.hset(self._key(channel), user_id, json.dumps(user_info))

    def remove(self, channel: str, user_id: str) -> None:
        self.client.hdel(self._key(channel), user_id)

    def replace(self, channel: str, members: dict[str, Any]) -> None:
        pipe = self.client.pipeline()
        pipe.delete(self._key(channel))
        if members:
            pipe.hset(self._key(channel), mapping={k: json.dumps(v) for k, v in members.items()})
        pipe.execute()


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
        self.ledger = MemberLedger(self._redis, f"{name}:members")
        self._uid = f"pusher-listener-ledger-{id(self)}"
        listener.dispatcher.enabled = False

    def start(self) -> None:
        for channel in self.listener.channels:
            try:
                self.listener.seed_members(channel, self.ledger.load(channel))
            except RedisError as err:
                logger.warning("Pusher listener: cannot read the member ledger (%s)", err)
        for signal, receiver in self._receivers():
            signal.connect(receiver, sender=Listener, weak=False, dispatch_uid=self._uid)
        self._thread = threading.Thread(target=self._run, name="pusher-listener-lock", daemon=True)
        self._thread.start()

    def _receivers(self) -> list[tuple[Any, Any]]:
        return [
            (signals.member_added, self._added),
            (signals.member_removed, self._removed),
            (signals.subscription_succeeded, self._snapshot),
            (_TAKEN_OVER, self._reconcile),
        ]

    def _added(self, sender: Any, channel: str, user_id: str, user_info: Any, **kw: Any) -> None:
        self.ledger.add(channel, user_id, user_info)

    def _removed(self, sender: Any, channel: str, user_id: str, **kw: Any) -> None:
        self.ledger.remove(channel, user_id)

    def _snapshot(self, sender: Any, channel: str, members: dict[str, Any], **kw: Any) -> None:
        if members or channel in self.listener.known_members():
            self.ledger.replace(channel, members)

    def _take_over(self) -> None:
        """Dispatch from now on, and queue the reconcile with the members as of now.

        Run on the loop's thread (:meth:`Listener.on_loop`): the events before
        this moment are in the snapshot and were not dispatched, those after
        it are not in it and are queued behind the reconcile. Reconciling
        elsewhere reported a join twice that arrived as dispatching began:
        live, and again because its ledger entry was not written yet.
        """
        if not self.holding:
            return  # lost again before the loop got to it
        self.listener.dispatcher.enabled = True
        snapshot = {channel: dict(m) for channel, m in self.listener.known_members().items()}
        kwargs = {"source": signals.LISTENER, "members": snapshot}
        self.listener.dispatcher.submit(notices.Notice(_TAKEN_OVER, kwargs))

    def _reconcile(self, sender: Any, members: dict[str, dict[str, Any]], **kw: Any) -> None:
        """Report what changed since the last holder reported (on the dispatcher's thread)."""
        try:
            for channel, local in members.items():
                reported = self.ledger.load(channel)
                gone = [
                    notices.member_removed(channel, user_id, reported[user_id])
                    for user_id in reported.keys() - local.keys()
                ]
                new = [
                    notices.member_added(channel, user_id, local[user_id])
                    for user_id in local.keys() - reported.keys()
                ]
                for notice in gone + new:
                    notices.send(notice, sender)
        except RedisError as err:
            logger.warning("Pusher listener: cannot read the member ledger (%s)", err)

    def stop(self) -> None:
        for signal, _ in self._receivers():
            signal.disconnect(sender=Listener, dispatch_uid=self._uid)
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
        taking_over = holding and not self.holding
        self.holding = holding
        if not taking_over:
            self.listener.dispatcher.enabled = holding
        elif not self.listener.on_loop(self._take_over):
            self._take_over()  # not connected yet: no live event can race it
