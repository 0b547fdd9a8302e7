"""Save to screen: how long a committed save takes to reach a pusher-js subscriber.

Usage: .venv/bin/python benchmarks/latency.py [--database-url URL] [--n 200] [--rate 20]

Real soketi, a real Celery worker (``-c 2``, prefork) and a pusher-js
subscriber on loopback. Each save is one transaction creating a ``Message``
whose broadcast goes to an encrypted channel; the naive baseline saves the
same row and calls the official SDK's ``trigger`` right after, as a
``post_save`` receiver would. Latency runs from just before the save to the
moment the subscriber's report reaches this process (both sides pay that pipe).

It prints p50 and p99 for saves paced at ``--rate`` per second and the p99 of
a burst of ``--n`` saves, ours and naive side by side. The default database
is PostgreSQL (``pd_scale_latency``); ``--database-url sqlite:///path`` runs it
on SQLite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
DEFAULT_DB = "postgres://postgres:postgres@127.0.0.1:5432/pd_scale_latency"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_DB)
    parser.add_argument("--n", type=int, default=200, help="saves per run")
    parser.add_argument("--rate", type=float, default=20.0, help="paced saves per second")
    return parser.parse_args()


ARGS = _arguments()
os.environ["DATABASE_URL"] = ARGS.database_url

import django  # noqa: E402

django.setup()

import pusher  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import override_settings  # noqa: E402

from pusher_django.broadcasting import suppress_broadcasts  # noqa: E402
from pusher_django.conf import reset_config  # noqa: E402
from pusher_django.models import Delivery  # noqa: E402
from tests import celery_app  # noqa: E402, F401
from tests.support.auth import local_authorizer  # noqa: E402
from tests.support.postgres import ensure_database, settle_outbox  # noqa: E402
from tests.support.pusherjs import PusherJs  # noqa: E402
from tests.support.soketi import APP_ID, APP_KEY, APP_SECRET, MASTER_KEY_B64, Soketi  # noqa: E402
from tests.support.worker import CeleryWorker  # noqa: E402
from tests.testapp.models import Message, Room  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)]


def run(
    save: Callable[[str], int], subscriber: PusherJs, event: str, n: int, rate: float | None
) -> list[float]:
    """Latencies (ms) of ``n`` saves, paced at ``rate`` per second or all at once."""
    started: dict[int, float] = {}
    before = len(subscriber.find("event", event=event))
    begin = time.monotonic()
    for i in range(n):
        if rate:
            time.sleep(max(begin + i / rate - time.monotonic(), 0))
        t0 = time.monotonic()
        started[save(f"{event}-{i}")] = t0
    reports = subscriber.wait_for_count("event", before + n, timeout=120, event=event)[before:]
    return [(r["received"] - started[r["data"]["id"]]) * 1000 for r in reports]


def main() -> None:
    ensure_database()
    call_command("migrate", run_syncdb=True, verbosity=0)
    Delivery.objects.all().delete()
    settle_outbox()
    soketi = Soketi(name="latency-soketi")
    soketi.start()
    worker = CeleryWorker(soketi.port, str(connection.settings_dict["NAME"]), concurrency=2)
    subscribers: list[PusherJs] = []
    results: dict[str, list[float]] = {}
    try:
        with override_settings(PUSHER=soketi.pusher_settings(CELERY={"QUEUE": worker.queue})):
            reset_config()
            ours_room, naive_room = (Room.objects.create(name=f"latency-{i}") for i in range(2))
            for room in (ours_room, naive_room):
                subscriber = PusherJs(
                    key=APP_KEY, ws_port=soketi.port, authorizer=local_authorizer()
                )
                subscriber.subscribed(f"private-encrypted-room-{room.pk}")
                subscribers.append(subscriber)
            official = pusher.Pusher(
                app_id=APP_ID,
                key=APP_KEY,
                secret=APP_SECRET,
                host="127.0.0.1",
                port=soketi.port,
                ssl=False,
                encryption_master_key_base64=MASTER_KEY_B64,
            )
            naive_channel = f"private-encrypted-room-{naive_room.pk}"

            def ours(text: str) -> int:
                with transaction.atomic():
                    return Message.objects.create(room=ours_room, text=text).pk

            def naive(text: str) -> int:
                with suppress_broadcasts(), transaction.atomic():
                    message = Message.objects.create(room=naive_room, text=text)
                official.trigger(naive_channel, "naive", {"id": message.pk, "text": text})
                return message.pk

            run(ours, subscribers[0], "message.created", 20, ARGS.rate)  # warm both paths
            run(naive, subscribers[1], "naive", 20, ARGS.rate)
            results["ours paced"] = run(ours, subscribers[0], "message.created", ARGS.n, ARGS.rate)
            results["naive paced"] = run(naive, subscribers[1], "naive", ARGS.n, ARGS.rate)
            results["ours burst"] = run(ours, subscribers[0], "message.created", ARGS.n, None)
            results["naive burst"] = run(naive, subscribers[1], "naive", ARGS.n, None)
    finally:
        for subscriber in subscribers:
            subscriber.close()
        worker.stop()
        soketi.stop()
    report(results)


def report(results: dict[str, list[float]]) -> None:
    print(
        f"{connection.vendor}: save -> pusher-js subscriber, {ARGS.n} saves per run, one per "
        f"transaction, paced at {ARGS.rate:g}/s or in a burst; Celery worker -c 2; ms"
    )
    print(f"{'run':<14}{'p50':>9}{'p99':>9}{'max':>9}")
    for name, values in results.items():
        print(
            f"{name:<14}{statistics.median(values):>9.1f}{percentile(values, 0.99):>9.1f}"
            f"{max(values):>9.1f}"
        )
    ours, naive = results["ours paced"], results["naive paced"]
    print(
        f"paced: p50 ours - naive {statistics.median(ours) - statistics.median(naive):+.1f} ms "
        "(target <= +5), p99 "
        f"{percentile(ours, 0.99) - percentile(naive, 0.99):+.1f} ms (target <= +15); "
        f"burst p99 ours {percentile(results['ours burst'], 0.99):.1f} ms (target <= 100)"
    )


if __name__ == "__main__":
    main()
