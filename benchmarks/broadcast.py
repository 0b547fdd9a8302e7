"""Broadcast cost: the durable outbox vs the previous in-memory hand-off vs the naive way.

Usage: .venv/bin/python benchmarks/broadcast.py [--n 200] [--k 10] [--database-url URL]
       [--save-path]

Runs on PostgreSQL (``--database-url``, default ``$DATABASE_URL`` or the local
server at 127.0.0.1:5432, database ``pusher_django_bench``, created if
missing). Starts soketi, a REST-counting proxy (in a process of its own, as
a real Pusher would be), a Celery worker (Redis db 11) and a pusher-js
subscriber, then saves N messages in transactions of k four ways, each to its
own encrypted channel, in ``--repeat`` rounds that take turns (medians are
reported). The proxy adds ``--latency-ms`` to
every REST request (default 20 ms, a typical round trip to hosted Pusher;
0 measures against soketi on this machine):

- outbox, pusher_django.db: the product as the tutorial sets it up
  (``@broadcasts`` through ``pusher_django.db``'s backend of the database, alias
  ``flush``, which writes a transaction's rows in one ``INSERT`` before its
  commit; the committing process sends them);
- outbox, Django's backend: the same through Django's own backend, one outbox
  ``INSERT`` per save;
- in-memory: the previous hand-off, rebuilt here with public APIs only (events
  kept in a list during the transaction, one ``trigger_batch`` task with the
  events as arguments registered with ``on_commit``);
- naive: one synchronous official-SDK ``trigger`` per save, as a view would do.

``--save-path`` measures the save path alone (no worker, no subscriber), both
ways too. For each it prints the REST requests, the save-path time (the transactions,
commit and hand-off included, delivery excluded) and the time until the
subscriber has all N events.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/pusher_django_bench"


def _database_url() -> str:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_DB)
    url: str = parser.parse_known_args()[0].database_url
    return url


os.environ["DATABASE_URL"] = _database_url()

import django  # noqa: E402

django.setup()

from tests.support.flush_alias import add_flush_alias  # noqa: E402

FLUSH = add_flush_alias()

import pusher  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import override_settings  # noqa: E402

from pusher_django import tasks  # noqa: E402
from pusher_django.broadcasting import suppress_broadcasts  # noqa: E402
from pusher_django.conf import get_config, reset_config  # noqa: E402
from pusher_django.models import Delivery  # noqa: E402
from pusher_django.outbox import make_event, trigger_on_commit  # noqa: E402
from pusher_django.outbox.writer import capturing as capturing_rows  # noqa: E402
from tests import celery_app  # noqa: E402, F401
from tests.support.auth import local_authorizer  # noqa: E402
from tests.support.postgres import ensure_database, settle_outbox  # noqa: E402
from tests.support.proxy import RestProxyProcess  # noqa: E402
from tests.support.pusherjs import PusherJs  # noqa: E402
from tests.support.soketi import APP_ID, APP_KEY, APP_SECRET, MASTER_KEY_B64, Soketi  # noqa: E402
from tests.support.worker import CeleryWorker  # noqa: E402
from tests.testapp.models import Message, Room  # noqa: E402


def in_memory_save(room: Room, text: str, pending: list[dict[str, Any]]) -> None:
    """The previous path: the event is built at save time and kept in memory."""
    with suppress_broadcasts():
        message = Message.objects.create(room=room, text=text)
    event = make_event(f"private-encrypted-room-{room.pk}", "message.created", {"id": message.pk})
    if not pending:
        transaction.on_commit(lambda: tasks.enqueue(tasks.trigger_batch, list(pending)))
    pending.append({"channel": event.channel, "name": event.name, "data": {"text": text}})


def save_path(n: int, k: int, repeat: int = 5) -> None:
    """Per save: a plain save against one broadcast to an encrypted and a plain channel.

    The median over ``repeat`` runs of ``n`` saves in transactions of ``k``:
    plain; durable with the Celery hand-off (``SEND_AT_COMMIT`` off; no worker
    consumes the queue, so the hand-off is the broker write); durable sending
    at commit with the sender held until the run ends, so the figure is the
    committing thread's own (the save, the commit and the hand-off: delivery
    excluded, as in the Celery line); and sending at commit with this
    process's sender delivering to a real soketi meanwhile, sharing this
    process's CPU and GIL as it would in a web process. Each run ends when
    the sender is idle. The durable lines run twice: through
    ``pusher_django.db``'s backend (one outbox ``INSERT`` per transaction, as
    the tutorial sets up) and through Django's own (one per save).
    """
    soketi = Soketi(name="save-path-soketi")
    soketi.start()
    try:
        _save_path(soketi, n, k, repeat)
    finally:
        soketi.stop()


@contextmanager
def sender_held() -> Iterator[threading.Event]:
    """The sender takes jobs but sends none until the event is set."""
    from pusher_django.outbox import sender

    release = threading.Event()
    send = sender.send

    def held(jobs: Any) -> Any:
        release.wait()
        return send(jobs)

    sender.send = held
    try:
        yield release
    finally:
        release.set()
        sender.send = send


def _save_path(soketi: Soketi, n: int, k: int, repeat: int) -> None:
    from pusher_django.outbox.sender import get_sender

    base = soketi.pusher_settings(CELERY={"QUEUE": "pd-save-path"})
    room = Room.objects.create(name="save-path")
    channels = [f"private-encrypted-room-{room.pk}", f"private-room-{room.pk}"]

    def plain(using: str = "default") -> None:
        with suppress_broadcasts(), transaction.atomic(using=using):
            for i in range(k):
                Message.objects.using(using).create(room=room, text=f"p{i}")

    def durable(using: str = "default") -> None:  # what a broadcast to these two channels writes
        with suppress_broadcasts(), transaction.atomic(using=using):
            for i in range(k):
                message = Message.objects.using(using).create(room=room, text=f"d{i}")
                trigger_on_commit(channels, "message.created", {"id": message.pk}, using=using)

    ways = [
        ("plain save", plain, "default", False, False),
        ("pusher_django.db, Celery hand-off", durable, FLUSH, False, False),
        ("pusher_django.db, at commit, held", durable, FLUSH, True, True),
        ("pusher_django.db, at commit, sending", durable, FLUSH, True, False),
        ("Django's backend, Celery hand-off", durable, "default", False, False),
        ("Django's backend, at commit, held", durable, "default", True, True),
        ("Django's backend, at commit, sending", durable, "default", True, False),
    ]
    if connection.vendor == "sqlite":  # the committing thread sends: there is no sender to hold
        ways = [way for way in ways if not way[0].endswith(", held")]
    figures = {}
    for name, transaction_of_k, using, at_commit, hold in ways:
        with override_settings(PUSHER={**base, "OUTBOX": {"SEND_AT_COMMIT": at_commit}}):
            reset_config()
            transaction_of_k(using)  # warm
            get_sender().wait_idle()
            runs = []
            for _ in range(repeat):
                with sender_held() if hold else nullcontext() as release:
                    started = time.perf_counter()
                    for _ in range(n // k):
                        transaction_of_k(using)
                    runs.append((time.perf_counter() - started) / n * 1e6)
                    if release is not None:
                        release.set()
                get_sender().wait_idle()
            figures[name] = sorted(runs)[repeat // 2]
    reset_config()
    print(
        f"{connection.vendor}: per save, {n} saves in transactions of {k}, median of {repeat}; "
        "a broadcast writes two outbox rows (one for an encrypted channel): one INSERT per "
        "transaction (pusher_django.db, as the tutorial sets up) or per save (Django's backend); "
        "held: the sender sends nothing until the run ends"
    )
    plain_us = figures["plain save"]
    for name, figure in figures.items():
        print(f"{name:<38}{figure:>9.0f} us{figure / plain_us:>8.2f}x")
    print("target: durable save path <= 2x the plain save")
    Delivery.objects.all().delete()


def drain(n: int, channels: int = 10) -> None:
    """Sustained delivery: ``n`` pending rows, one process's relay, time until all are sent.

    The rows are pre-filled (unleased, as a backlog after an outage leaves
    them) on ``channels`` encrypted channels; ``relay.deliver()`` claims
    ``OUTBOX["CLAIM_SIZE"]`` at a time and sends ten per request to a real
    soketi. The time inside the HTTP calls is reported apart from the rest
    (claims, marks, encryption), which is what limits one process.
    """
    from pusher_django import client as client_module
    from pusher_django.outbox import relay

    soketi = Soketi(name="drain-soketi")
    soketi.start()
    try:
        with override_settings(PUSHER=soketi.pusher_settings()):
            reset_config()
            with capturing_rows(), transaction.atomic():
                for i in range(n):
                    channel = f"private-encrypted-drain-{i % channels}"
                    trigger_on_commit(channel, "drained", {"n": i, "text": "x" * 100})
            spent = {"send_events": 0.0, "claim": 0.0}
            originals: dict[str, Callable[..., Any]] = {
                "send_events": client_module.send_events,
                "claim": relay.claim,
            }

            def timer(name: str) -> Callable[..., Any]:
                def timed(*args: Any, **kwargs: Any) -> Any:
                    t0 = time.perf_counter()
                    try:
                        return originals[name](*args, **kwargs)
                    finally:
                        spent[name] += time.perf_counter() - t0

                return timed

            for name in originals:
                setattr(relay, name, timer(name))
            try:
                started = time.perf_counter()
                report = relay.deliver()
                elapsed = time.perf_counter() - started
            finally:
                for name, original in originals.items():
                    setattr(relay, name, original)
    finally:
        soketi.stop()
    http, claims = spent["send_events"], spent["claim"]
    print(
        f"{connection.vendor}: drain {n} pending events on {channels} encrypted channels, "
        f"one process (relay.deliver, CLAIM_SIZE {get_config().outbox.claim_size}, "
        "10 per request), soketi on loopback"
    )
    print(
        f"sent {report.sent} in {elapsed:.2f} s: {report.sent / elapsed:,.0f} events/s; "
        f"of the time: requests (signing, encryption, HTTP) {100 * http / elapsed:.0f}%, "
        f"claims {100 * claims / elapsed:.0f}%, marking sent and the rest "
        f"{100 * (1 - (http + claims) / elapsed):.0f}%"
    )
    Delivery.objects.all().delete()


def run(
    name: str,
    save: Callable[[int, int], None],
    n: int,
    k: int,
    subscriber: PusherJs,
    event: str,
    proxy: RestProxyProcess,
    round_: int = 0,
) -> dict[str, Any]:
    """One run of ``n`` saves; end to end is until the subscriber's process had the last event.

    The subscriber keeps every event it got, so round ``round_`` waits for
    its ``n`` more and times the newest (as it arrived, not as polled).
    """
    proxy.reset()
    started = time.monotonic()
    save_time = 0.0
    batches = n // k
    for batch in range(round_ * batches, (round_ + 1) * batches):
        t0 = time.perf_counter()
        save(batch, k)
        save_time += time.perf_counter() - t0
    found = subscriber.wait_for_count("event", n * (round_ + 1), timeout=300, event=event)
    total = max(report["received"] for report in found) - started
    return {"name": name, "requests": proxy.total(), "save": save_time, "e2e": total}


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--database-url", default=None, help="default: $DATABASE_URL or local")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=20.0,
        help="added to every REST request, as the round trip to hosted Pusher (0: local soketi)",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds of the end-to-end run; medians reported"
    )
    parser.add_argument(
        "--drain", type=int, default=0, help="only sustained delivery: drain this many rows"
    )
    parser.add_argument(
        "--save-path",
        action="store_true",
        help="only the save path: plain saves against durable ones, no server or worker",
    )
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    ensure_database()
    call_command("migrate", run_syncdb=True, verbosity=0)
    Delivery.objects.all().delete()  # a previous run's leftovers would be sent first
    settle_outbox()
    if args.save_path:
        save_path(args.n, args.k)
        return
    if args.drain:
        drain(args.drain)
        return
    soketi = Soketi(name="bench-soketi")
    soketi.start()
    proxy = RestProxyProcess(soketi.port, latency=args.latency_ms / 1000)
    worker = CeleryWorker(proxy.port, str(connection.settings_dict["NAME"]))
    subscribers: list[PusherJs] = []
    results = []
    try:
        # This process sends at commit: through the proxy too, counted and delayed alike.
        settings = soketi.pusher_settings(PORT=proxy.port, CELERY={"QUEUE": worker.queue})
        with override_settings(PUSHER=settings):
            reset_config()
            rooms = [Room.objects.create(name=f"bench-{i}") for i in range(4)]
            for room in rooms:
                subscriber = PusherJs(
                    key=APP_KEY, ws_port=soketi.port, authorizer=local_authorizer()
                )
                subscriber.subscribed(f"private-encrypted-room-{room.pk}")
                subscribers.append(subscriber)

            def outbox(batch: int, k: int) -> None:
                with transaction.atomic():
                    for i in range(k):
                        Message.objects.create(room=rooms[0], text=f"o{batch}-{i}")

            def flush(batch: int, k: int) -> None:
                with transaction.atomic(using=FLUSH):
                    for i in range(k):
                        Message.objects.using(FLUSH).create(room=rooms[3], text=f"f{batch}-{i}")

            def in_memory(batch: int, k: int) -> None:
                pending: list[dict[str, Any]] = []
                with transaction.atomic():
                    for i in range(k):
                        in_memory_save(rooms[1], f"m{batch}-{i}", pending)

            official = pusher.Pusher(
                app_id=APP_ID,
                key=APP_KEY,
                secret=APP_SECRET,
                host="127.0.0.1",
                port=proxy.port,
                ssl=False,
                encryption_master_key_base64=MASTER_KEY_B64,
            )

            def naive(batch: int, k: int) -> None:
                channel = f"private-encrypted-room-{rooms[2].pk}"
                for i in range(k):
                    with suppress_broadcasts():
                        message = Message.objects.create(room=rooms[2], text=f"n{batch}-{i}")
                    official.trigger(channel, "naive", {"id": message.pk, "text": message.text})

            ways = [
                ("outbox, pusher_django.db", flush, subscribers[3], "message.created"),
                ("outbox, Django's backend", outbox, subscribers[0], "message.created"),
                ("in-memory (previous)", in_memory, subscribers[1], "message.created"),
                ("naive SDK trigger per save", naive, subscribers[2], "naive"),
            ]
            # Rounds interleave the ways, so a slow spell of the machine hits them alike.
            runs: dict[str, list[dict[str, Any]]] = {name: [] for name, *_ in ways}
            for round_ in range(args.repeat):
                for name, save, subscriber, event in ways:
                    runs[name].append(
                        run(name, save, args.n, args.k, subscriber, event, proxy, round_)
                    )
            results = [_median(rounds) for rounds in runs.values()]
    finally:
        for subscriber in subscribers:
            subscriber.close()
        worker.stop()
        proxy.close()
        soketi.stop()

    report(results, args)


def _median(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The round of median end-to-end time."""
    return sorted(rounds, key=lambda r: r["e2e"])[len(rounds) // 2]


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    vendor = connection.vendor
    print(
        f"N={args.n} saves in transactions of k={args.k}, encrypted channel, {vendor}, "
        f"{args.latency_ms:g} ms added per REST request; median of {args.repeat} rounds"
    )
    print(f"{'approach':<30}{'REST requests':>14}{'save path s':>13}{'end to end s':>14}")
    for r in results:
        print(f"{r['name']:<30}{r['requests']:>14}{r['save']:>13.3f}{r['e2e']:>14.2f}")
    flushed, ours, memory, naive_r = results
    for name, r in (("outbox, pusher_django.db", flushed), ("outbox, Django's backend", ours)):
        print(
            f"{name} vs naive: {naive_r['requests'] / max(r['requests'], 1):.1f}x fewer "
            f"requests, {naive_r['e2e'] / r['e2e']:.2f}x faster end to end (target >= 3x); "
            f"save path {100 * (r['save'] / memory['save'] - 1):+.0f}% vs in-memory"
        )


if __name__ == "__main__":
    main()
