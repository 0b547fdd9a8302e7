"""Fault injection against the outbox with real parts: Redis, Celery workers, soketi, pusher-js.

"Web processes" are real Python processes (``tests.support.web_process``)
that save messages; the relay is the real ``manage.py pusher_outbox``. Pusher
goes down through the REST proxy (which refuses connections); the broker goes
down by pointing a web process at a port where no Redis listens.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import transaction

from pusher_django.models import Delivery
from pusher_django.outbox import relay, trigger_on_commit
from pusher_django.outbox.writer import capturing
from tests.support.auth import local_authorizer
from tests.support.django_env import django_env
from tests.support.processes import ROOT, free_port, log_path, stop_process
from tests.support.worker import CeleryWorker, unreachable_broker
from tests.testapp.models import Room

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def env(broadcasting: Any, test_database: str, celery_worker: CeleryWorker) -> dict[str, str]:
    return django_env(broadcasting.port, test_database, celery_worker.queue)


@pytest.fixture
def subscribe(broadcasting: Any, pusher_js: Any) -> Callable[[], tuple[Room, Any]]:
    def make() -> tuple[Room, Any]:
        room = Room.objects.create(name="r")
        client = pusher_js(authorizer=local_authorizer())
        client.subscribed(f"private-encrypted-room-{room.pk}")
        return room, client

    return make


def web(env: dict[str, str], *args: Any, expect: int = 0) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.web_process", *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == expect, done.stderr.decode()[-2000:]


@contextmanager
def relay_process(env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """The real ``manage.py pusher_outbox`` relay loop."""
    log = log_path("pusher_outbox-relay.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "pusher_outbox", "--interval", "0.3"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        stop_process(process)


def received(client: Any, event: str = "message.created") -> list[dict[str, Any]]:
    return [r["data"] for r in client.find("event", event=event)]


def texts(client: Any) -> list[str]:
    return [data["text"] for data in received(client)]


def pending() -> int:
    return Delivery.objects.filter(status=Delivery.Status.PENDING).count()


def test_broker_and_pusher_down_at_commit_then_the_relay_delivers_in_order(
    subscribe: Any, env: dict[str, str], broadcasting: Any
) -> None:
    room, client = subscribe()
    broadcasting.down = True
    went_down = time.monotonic()
    no_broker = {**env, "TEST_CELERY_BROKER": unreachable_broker()}
    web(no_broker, room.pk, 20, 10, "down")
    assert pending() == 20
    assert broadcasting.refused > 0  # the inline fallback tried Pusher and was refused
    time.sleep(max(1.0, 10 - (time.monotonic() - went_down)))  # both down for 10 s
    assert client.find("event") == []
    broadcasting.down = False
    with relay_process(env):
        client.wait_for_count("event", 20, timeout=30, event="message.created")
    assert texts(client) == [f"down{n}" for n in range(20)]
    assert pending() == 0


def test_a_web_process_killed_after_commit_before_hand_off(
    subscribe: Any, env: dict[str, str]
) -> None:
    room, client = subscribe()
    web(env, room.pk, 5, 5, "orphan", "--die-after-commit", expect=9)
    assert pending() == 5
    time.sleep(1)
    assert client.find("event") == []  # no task was ever enqueued
    with relay_process(env):
        client.wait_for_count("event", 5, timeout=30, event="message.created")
    assert texts(client) == [f"orphan{n}" for n in range(5)]


def test_a_worker_sigkilled_mid_stream_loses_nothing(
    subscribe: Any,
    env: dict[str, str],
    broadcasting: Any,
    settings: Any,
    test_database: str,
    record_property: Any,
) -> None:
    """Prefork worker killed with SIGKILL while delivering 200 events in 20 transactions.

    Its leased rows come back when the lease (3 s in the test settings) runs
    out; the relay and a fresh worker deliver them. Delivery is at least
    once, so duplicates are counted by event id and bounded.
    """
    queue = f"pusher-kill-{free_port()}"
    # The worker sends (not this process at commit): it is the one killed.
    outbox = {"SEND_AT_COMMIT": False}
    settings.PUSHER = {**settings.PUSHER, "CELERY": {"QUEUE": queue}, "OUTBOX": outbox}
    room, client = subscribe()
    victim = CeleryWorker(broadcasting.port, test_database, queue=queue, concurrency=2)
    replacement = None
    try:
        for batch in range(20):
            with transaction.atomic():
                for n in range(10):
                    Message_create(room, f"k{batch * 10 + n}")
            if batch == 8:
                client.wait_for_count("event", 20, timeout=20, event="message.created")
                victim.kill()
        assert pending() > 0
        replacement = CeleryWorker(broadcasting.port, test_database, queue=queue, concurrency=2)
        with relay_process({**env, "TEST_CELERY_QUEUE": queue}):
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and len(set(texts(client))) < 200:
                time.sleep(0.2)
    finally:
        victim.stop()
        if replacement:
            replacement.stop()
    arrived = texts(client)
    duplicates = len(arrived) - len(set(arrived))
    record_property("duplicates", duplicates)
    with log_path("outbox-duplicates.txt").open("a") as report:
        report.write(f"worker SIGKILL: 200 events, {len(arrived)} arrived, {duplicates} dup\n")
    assert set(arrived) == {f"k{n}" for n in range(200)}
    assert duplicates <= 20  # at most the two claims the killed pool had in flight
    ids = [data["_pusher_id"] for data in received(client)]
    assert len(set(ids)) == 200  # every event carries its stable id, duplicates included
    assert pending() == 0


def test_a_30_second_outage_with_max_retries_2_loses_nothing(
    subscribe: Any, broadcasting: Any, settings: Any, test_database: str, record_property: Any
) -> None:
    """20 transactions of 10 events while the API refuses every connection for 30 s.

    The worker allows ``CELERY["MAX_RETRIES"]`` 2: before OUTBOX["MAX_AGE"]
    that dead-lettered all 200 events within seconds of the outage starting.
    """
    queue = f"pusher-outage-{free_port()}"
    settings.PUSHER = {**settings.PUSHER, "CELERY": {"QUEUE": queue}}
    room, client = subscribe()
    worker = CeleryWorker(
        broadcasting.port, test_database, queue=queue, TEST_CELERY_MAX_RETRIES="2"
    )
    try:
        broadcasting.down = True
        went_down = time.monotonic()
        for batch in range(20):
            with transaction.atomic():
                for n in range(10):
                    Message_create(room, f"o{batch * 10 + n}")
        time.sleep(max(0.0, 30 - (time.monotonic() - went_down)))
        refused = broadcasting.refused
        assert refused > 3  # the worker kept trying through the outage
        assert client.find("event") == []
        assert Delivery.objects.filter(status=Delivery.Status.FAILED).count() == 0
        broadcasting.down = False
        came_back = time.monotonic()
        client.wait_for_count("event", 200, timeout=60, event="message.created")
        record_property("drained_after_s", round(time.monotonic() - came_back, 1))
        record_property("refused_during_outage", refused)
    finally:
        worker.stop()
    assert list(dict.fromkeys(texts(client))) == [f"o{n}" for n in range(200)]
    assert Counter(Delivery.objects.values_list("status", flat=True)) == {"sent": 200}


def Message_create(room: Room, text: str) -> None:  # noqa: N802 - reads like the ORM call
    from tests.testapp.models import Message

    Message.objects.create(room=room, text=text)


def test_four_web_processes_and_two_workers_keep_each_channels_order(
    subscribe: Any, env: dict[str, str], broadcasting: Any, test_database: str, celery_worker: Any
) -> None:
    (room_a, client_a), (room_b, client_b) = subscribe(), subscribe()
    second = CeleryWorker(broadcasting.port, test_database, queue=celery_worker.queue)
    try:
        webs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.support.web_process",
                    str(room.pk),
                    "30",
                    "3",
                    f"p{i}-",
                ],
                cwd=ROOT,
                env=env,
                stderr=subprocess.PIPE,
            )
            for i, room in enumerate([room_a, room_a, room_b, room_b])
        ]
        for process in webs:
            _, err = process.communicate(timeout=120)
            assert process.returncode == 0, err.decode()[-2000:]
        client_a.wait_for_count("event", 60, timeout=60, event="message.created")
        client_b.wait_for_count("event", 60, timeout=60, event="message.created")
    finally:
        second.stop()
    for client, prefixes in ((client_a, ("p0-", "p1-")), (client_b, ("p2-", "p3-"))):
        arrived = texts(client)
        assert sorted(set(arrived)) == sorted(f"{p}{n}" for p in prefixes for n in range(30))
        for prefix in prefixes:
            mine = [int(t[len(prefix) :]) for t in dict.fromkeys(arrived) if t.startswith(prefix)]
            assert mine == list(range(30)), f"{prefix} out of order: {mine}"
    assert pending() == 0


def test_a_refused_event_is_dead_lettered_alone(subscribe: Any, settings: Any) -> None:
    """soketi refuses data over 100 KB with 413; the save-time limit is raised to let it in."""
    settings.PUSHER = {**settings.PUSHER, "MAX_PAYLOAD_BYTES": 200_000}
    room, client = subscribe()
    channel = f"private-encrypted-room-{room.pk}"
    with capturing(), transaction.atomic():  # rows only; delivered below, in this process
        for n in range(5):
            text = "x" * 120_000 if n == 2 else f"t{n}"
            trigger_on_commit(channel, "message.created", {"text": text})
    report = relay.deliver()
    assert (report.sent, report.failed) == (4, 1)
    client.wait_for_count("event", 4, timeout=15, event="message.created")
    assert texts(client) == ["t0", "t1", "t3", "t4"]
    failed = Delivery.objects.get(status=Delivery.Status.FAILED)
    assert "413" in failed.error
    assert Counter(Delivery.objects.values_list("status", flat=True)) == {"sent": 4, "failed": 1}
