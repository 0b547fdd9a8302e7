"""The scale-out topology of the README, run on this machine.

Two soketi nodes share state through soketi's Redis adapter; pages reach
them through a round-robin TCP balancer; two "web" processes save messages;
two Celery workers (one per node's REST API) deliver the outbox; two
``manage.py pusher_listen --lock`` replicas (one per node) report to Django
signals, which they append to a file. Then one listener and one soketi node
are killed.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.support.auth import local_authorizer
from tests.support.django_env import django_env
from tests.support.processes import ROOT, log_path, stop_process, wait_until
from tests.support.pusherjs import PusherJs
from tests.support.soketi import APP_ID, APP_KEY, Soketi
from tests.support.tcp_proxy import TcpProxy
from tests.support.worker import CeleryWorker
from tests.testapp import signal_log
from tests.testapp.models import Room

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
LOCK_TTL = 3
PRESENCE = "presence-scale"


@pytest.fixture
def nodes() -> Iterator[tuple[Soketi, Soketi]]:
    adapter = {
        "SOKETI_ADAPTER_DRIVER": "redis",
        "SOKETI_ADAPTER_REDIS_PREFIX": f"scale-{uuid.uuid4().hex[:8]}",
        "SOKETI_DB_REDIS_HOST": "127.0.0.1",
        "SOKETI_DB_REDIS_PORT": "6379",
        "SOKETI_DB_REDIS_DB": "14",
    }
    a = Soketi(name="node-a", extra_env=adapter)
    b = Soketi(name="node-b", extra_env=adapter)
    a.start()
    b.start()
    yield a, b
    for node in (a, b):
        if node.process is not None:
            node.stop()


def listen(env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "manage.py", "pusher_listen", "--lock", "-c", PRESENCE],
        cwd=ROOT,
        env={**env, "TEST_LISTENER_ID": name},
        stdout=log_path(f"scale-{name}.log").open("ab"),
        stderr=subprocess.STDOUT,
    )


def client(port: int, user: str, settings: Any) -> PusherJs:
    pusher = PusherJs(
        key=APP_KEY, ws_port=port, authorizer=local_authorizer(user, {"name": user.upper()})
    )
    pusher.subscribed(PRESENCE, timeout=20)
    return pusher


def members(pusher: PusherJs) -> set[str]:
    """Who pusher-js thinks is on the presence channel now."""
    current: set[str] = set()
    for report in list(pusher.reports):
        if report.get("channel") != PRESENCE:
            continue
        if report.get("type") == "subscribed":
            current = set(report.get("members") or {})
        elif report.get("type") == "member_added":
            current.add(report["id"])
        elif report.get("type") == "member_removed":
            current.discard(report["id"])
    return current


def resubscribed(pusher: PusherJs) -> bool:
    return len(pusher.find("subscribed", channel=PRESENCE)) >= 2


def test_two_nodes_two_workers_two_web_processes_two_listeners(
    nodes: tuple[Soketi, Soketi], settings: Any, test_database: str, tmp_path: Path, own_redis: str
) -> None:
    a, b = nodes
    settings.PUSHER = a.pusher_settings()
    balancer = TcpProxy([a.port, b.port])  # what pages connect to
    queue = f"scale-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "signals.jsonl"
    common = {
        "TEST_SIGNAL_LOG": str(log),
        "TEST_LOCK_URL": f"{own_redis}/0",  # the lock's name is fixed: no other run may take it
        "TEST_LOCK_TTL": str(LOCK_TTL),
    }
    env_a = django_env(a.port, test_database, queue, **common)
    env_b = django_env(b.port, test_database, queue, **common)
    workers = [CeleryWorker(node.port, test_database, queue=queue) for node in (a, b)]
    lock = redis.Redis.from_url(common["TEST_LOCK_URL"])
    lock_name = f"pusher_django:listener:{APP_ID}"
    lock.delete(lock_name, *lock.keys(f"{lock_name}:members:*"))  # a clean ledger
    listeners = [listen(env_a, "listener-a")]
    processes: list[subprocess.Popen[bytes]] = []
    clients: list[PusherJs] = []
    try:
        wait_until(lambda: bool(lock.exists(lock_name)), 30, "listener-a to take the lock")
        listeners.append(listen(env_b, "listener-b"))
        x = client(balancer.port, "x", settings)  # round-robin: node a
        y = client(balancer.port, "y", settings)  # node b
        clients += [x, y]
        wait_until(lambda: {"x", "y"} <= members(x) and {"x", "y"} <= members(y), 20,
                   "x and y to see each other across the nodes")  # fmt: skip

        room = Room.objects.create(name="scale")
        channel = f"private-encrypted-room-{room.pk}"
        x.subscribed(channel)
        y.subscribed(channel)
        webs = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.support.web_process", str(room.pk), "20", "4", p],
                cwd=ROOT,
                env=env,
            )
            for p, env in (("a-", env_a), ("b-", env_b))
        ]
        processes += webs
        for web in webs:
            assert web.wait(120) == 0
        for pusher in (x, y):
            pusher.wait_for_count("event", 40, timeout=60, event="message.created")
            texts = [r["data"]["text"] for r in pusher.find("event", event="message.created")]
            assert sorted(set(texts)) == sorted(f"{p}-{n}" for p in "ab" for n in range(20))

        # Kill the listener holding the lock; a member joins before the lock expires.
        listeners[0].send_signal(signal.SIGKILL)
        listeners[0].wait(10)
        killed_at = time.monotonic()
        z = client(balancer.port, "z", settings)
        clients.append(z)
        wait_until(lambda: any(e["signal"] == "member_added" and e["user_id"] == "z"
                               for e in signal_log.read(log)), LOCK_TTL + 10,
                   "the standby to report z")  # fmt: skip
        assert time.monotonic() - killed_at < LOCK_TTL + 5
        time.sleep(1)
        added = Counter(e["user_id"] for e in signal_log.read(log) if e["signal"] == "member_added")
        assert added["z"] == 1
        assert {"x", "y", "z"} <= set(added)
        assert max(added.values()) == 1  # no member reported twice across the hand-over

        # Kill node a: its clients reconnect through the balancer to node b.
        a.stop()
        wait_until(lambda: resubscribed(x) and resubscribed(z), 30,
                   "the clients of node a to re-subscribe on node b")  # fmt: skip
        wait_until(lambda: {"x", "y", "z"} <= members(y), 20, "y to see everyone again")
        settings.PUSHER = b.pusher_settings()
        from pusher_django.client import get_client

        get_client().trigger(channel, "after-failover", {"n": 1})
        for pusher in (x, y):
            pusher.wait_for("event", event="after-failover", timeout=20)
    finally:
        for pusher in clients:
            pusher.close()
        for process in listeners + processes:
            stop_process(process)
        for worker in workers:
            worker.stop()
        balancer.close()
