"""A reconnect storm: 500 pusher-js clients recover after a soketi restart, losing nothing.

Real soketi, Redis and a Celery worker relaying the outbox; Django served by
gunicorn with several worker processes on the test database; 500 pusher-js
clients in one Node process (``tests/js/storm.js``), each with the shipped
``pusher-django.js`` (batched authorization, ``recover()``) and three channels.
The clients start from positions taken before a producer starts saving, as
pages rendered at those positions would. soketi is restarted while the
producer keeps saving; afterwards every client must hold every event of its
channels exactly once and in the order they were sent, no request may have
answered 5xx, and every catch-up must have recovered. The latency and
database time of the batch-auth and history requests are printed and written
to ``test-output/reconnect-storm.txt``. ``pytest -m storm`` runs it alone
(about a minute).
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test import Client

from pusher_django.history import positions
from pusher_django.models import Delivery
from pusher_django.outbox import trigger_on_commit
from tests.support.django_env import django_env
from tests.support.processes import ROOT, free_port, log_path, port_open, stop_process, wait_until
from tests.support.soketi import APP_KEY, Soketi
from tests.support.worker import CeleryWorker

pytestmark = [
    pytest.mark.integration,
    pytest.mark.storm,
    pytest.mark.django_db(transaction=True),
]
CLIENTS = int(os.environ.get("STORM_CLIENTS", "500"))
GROUPS = 4
WORKERS = 6


def channels_of(group: int) -> list[str]:
    return [f"private-room-s{group}", f"private-encrypted-room-s{group}", f"news-s{group}"]


ALL_CHANNELS = [name for group in range(GROUPS) for name in channels_of(group)]


class Gunicorn:
    """``tests.support.wsgi`` under gunicorn, joined to the test database."""

    def __init__(self, env: dict[str, str], requests: Path) -> None:
        self.requests = requests
        self.port = free_port()
        self.log = log_path(f"gunicorn-{self.port}.log")
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "tests.support.wsgi:application",
                f"--bind=127.0.0.1:{self.port}",
                f"--workers={WORKERS}",
                "--worker-class=sync",  # one request at a time; the rest wait in the backlog
                "--backlog=2048",
                "--no-control-socket",
                "--preload",
                "--timeout=120",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        wait_until(lambda: port_open(self.port), 30, "gunicorn")

    def stop(self) -> None:
        stop_process(self.process, timeout=15)


class Storm:
    """The Node process with the clients; one command in, one JSON line out."""

    def __init__(self, plan: dict[str, Any]) -> None:
        self.plan_file = log_path(f"storm-plan-{os.getpid()}.json")
        self.plan_file.write_text(json.dumps(plan))
        self.process = subprocess.Popen(
            ["node", str(ROOT / "tests" / "js" / "storm.js"), str(self.plan_file)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log_path("storm-node.log").open("ab"),
            text=True,
        )
        assert json.loads(self._line())["type"] == "ready"

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the Node storm process exited; see test-output/storm-node.log")
        return line

    def ask(self, command: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return dict(json.loads(self._line()))

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.write("close\n")
            self.process.stdin.flush()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


class Producer(threading.Thread):
    """Saves one event per transaction, round robin over the channels, until stopped."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stopped = threading.Event()
        self.count = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stopped.is_set():
                channel = ALL_CHANNELS[self.count % len(ALL_CHANNELS)]
                # Every fifth event's data is not an object: it carries no id on the wire.
                data: Any = f"tick-{self.count}" if self.count % 5 == 4 else {"n": self.count}
                with transaction.atomic():
                    trigger_on_commit(channel, "tick", data)
                self.count += 1
                time.sleep(0.02)
        except BaseException as err:  # reported by the test
            self.error = err
        finally:
            connection.close()


@pytest.fixture
def storm_soketi() -> Iterator[Soketi]:
    """A soketi of its own: the session's closes connections that do not sign in (4009)."""
    server = Soketi(
        name="storm-soketi", extra_env={"SOKETI_DEFAULT_APP_USER_AUTHENTICATION": "false"}
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def web(storm_soketi: Soketi, settings: Any, test_database: str) -> Iterator[Gunicorn]:
    """gunicorn, and a Celery worker relaying the outbox, both on the storm's soketi."""
    worker = CeleryWorker(storm_soketi.port, test_database)
    settings.PUSHER = storm_soketi.pusher_settings(CELERY={"QUEUE": worker.queue})
    requests = log_path(f"storm-requests-{os.getpid()}.jsonl")
    requests.write_text("")
    server = Gunicorn(
        django_env(storm_soketi.port, test_database, worker.queue, TEST_REQUEST_LOG=str(requests)),
        requests,
    )
    yield server
    server.stop()
    worker.stop()


def token(row: Mapping[str, Any]) -> Any:
    return row["id"] if row["data_is_object"] else row["data"]


def expected(start: dict[str, int]) -> dict[str, list[Any]]:
    """Each channel's events after its start position, in the order they were sent."""
    out = {}
    for channel in ALL_CHANNELS:
        rows = list(
            Delivery.objects.filter(channel=channel, status=Delivery.Status.SENT)
            .order_by("sent_at", "id")
            .values("id", "data_is_object", "data")
        )
        ids = [row["id"] for row in rows]
        after = ids.index(start[channel]) + 1 if start[channel] else 0
        out[channel] = [token(row) for row in rows[after:]]
    return out


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return statistics.median(ordered), cuts[98]


def figures(lines: list[dict[str, Any]]) -> str:
    out = []
    paths = (
        ("batch auth", "/pusher/auth/batch/"),
        ("history", "/pusher/history/"),
        ("sign-in", "/pusher/user-auth/"),
    )
    for label, prefix in paths:
        rows = [line for line in lines if line["path"] == prefix]
        if len(rows) < 2:
            continue
        wall = percentiles([row["ms"] for row in rows])
        db = percentiles([row["db_ms"] for row in rows])
        out.append(
            f"{label:>10}: {len(rows):5d} requests  wall p50 {wall[0]:7.1f} ms  p99 {wall[1]:7.1f}"
            f" ms   db p50 {db[0]:6.1f} ms  p99 {db[1]:6.1f} ms"
            f"   queries/request {statistics.mean(row['queries'] for row in rows):.1f}"
        )
    return "\n".join(out)


def test_500_clients_recover_every_event_once_and_in_order_after_a_soketi_restart(
    web: Gunicorn, storm_soketi: Soketi
) -> None:
    soketi = storm_soketi
    User.objects.create_user("member", password="pw")
    client = Client()
    client.login(username="member", password="pw")
    csrf = secrets.token_hex(16)  # 32 characters: a CSRF secret Django accepts as it is
    cookie = f"sessionid={client.cookies['sessionid'].value}; csrftoken={csrf}"
    for channel in ALL_CHANNELS:  # every channel starts with a retained event, and one does not
        if channel != "news-s3":
            with transaction.atomic():
                trigger_on_commit(channel, "tick", {"n": -1})
    wait_until(lambda: not Delivery.objects.exclude(status="sent").exists(), 30, "the relay")
    start = positions(ALL_CHANNELS)
    producer = Producer()
    producer.start()  # saving from now on: the clients subscribe later than their positions
    time.sleep(1)
    plan = {
        "key": APP_KEY,
        "wsPort": soketi.port,
        "base": f"http://127.0.0.1:{web.port}",
        "cookie": cookie,
        "csrfToken": csrf,
        "limit": 500,
        "positions": start,
        "clients": [channels_of(index % GROUPS) for index in range(CLIENTS)],
    }
    storm = Storm(plan)
    began = time.monotonic()
    try:
        wanted = CLIENTS * 3

        last: dict[str, Any] = {}

        def settled(recoveries: int) -> bool:
            state = last["state"] = storm.ask("status")
            assert not state["notRecovered"], state["notRecovered"]
            assert not state["errors"], state["errors"]
            return bool(state["subscribed"] >= recoveries and state["outcomes"] >= recoveries)

        def wait_settled(recoveries: int, timeout: float) -> None:
            try:
                wait_until(lambda: settled(recoveries), timeout, f"{recoveries} catch-ups")
            except TimeoutError as err:
                raise TimeoutError(f"{err}; the clients: {last['state']}") from None

        wait_settled(wanted, 600)
        connected = time.monotonic() - began
        time.sleep(1)
        soketi.stop()
        time.sleep(3)  # the producer keeps saving; the relay waits for soketi
        soketi.start()
        restarted = time.monotonic()
        wait_settled(2 * wanted, 600)
        recovered = time.monotonic() - restarted
        time.sleep(2)
        producer.stopped.set()
        producer.join(10)
        assert producer.error is None, producer.error
        wait_until(lambda: not Delivery.objects.exclude(status="sent").exists(), 60, "the relay")
        want = expected(start)

        def complete() -> bool:
            received = storm.ask("report")["received"]
            return all(got[name][-1:] == want[name][-1:] for got in received for name in got)

        wait_until(complete, 300, "every client to receive the last event of its channels")
        received = storm.ask("report")["received"]
    finally:
        storm.close()
        producer.stopped.set()
    for index, got in enumerate(received):
        for channel, tokens in got.items():
            assert tokens == want[channel], (index, channel)
    lines = [json.loads(line) for line in web.requests.read_text().splitlines()]
    assert [line for line in lines if line["status"] >= 500] == []
    report = (
        f"{CLIENTS} clients x 3 channels, {producer.count} events saved, gunicorn "
        f"{WORKERS} sync workers, {connection.vendor}; all subscribed and caught up in "
        f"{connected:.1f} s, recovered {recovered:.1f} s after soketi came back\n{figures(lines)}"
    )
    log_path("reconnect-storm.txt").open("a").write(report + "\n")
    print("\n" + report)
