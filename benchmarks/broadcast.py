"""Broadcast throughput: pusher_django (Celery, batched after commit) vs the naive way.

Usage: .venv/bin/python benchmarks/broadcast.py [--n 200] [--k 10]

Starts soketi, a REST-counting proxy, a Celery worker (Redis db 11) and a
pusher-js subscriber, then saves N messages in transactions of k and measures
the time until the subscriber has received all N events and how many REST
requests were made. The naive run saves the same N messages, each followed by
one synchronous official-SDK ``trigger`` (as a view would do), to the same
encrypted channel.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

import pusher  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.test import override_settings  # noqa: E402

from pusher_django.broadcasting import suppress_broadcasts  # noqa: E402
from pusher_django.conf import reset_config  # noqa: E402
from tests import celery_app  # noqa: E402, F401
from tests.support.auth import local_authorizer  # noqa: E402
from tests.support.proxy import RestProxy  # noqa: E402
from tests.support.pusherjs import PusherJs  # noqa: E402
from tests.support.soketi import APP_ID, APP_KEY, APP_SECRET, MASTER_KEY_B64, Soketi  # noqa: E402
from tests.support.worker import CeleryWorker  # noqa: E402
from tests.testapp.models import Message, Room  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    call_command("migrate", run_syncdb=True, verbosity=0)
    soketi = Soketi(name="bench-soketi")
    soketi.start()
    proxy = RestProxy(soketi.port)
    worker = CeleryWorker(proxy.port)
    subscriber = None
    try:
        settings = soketi.pusher_settings(CELERY={"QUEUE": worker.queue})
        with override_settings(PUSHER=settings):
            reset_config()
            room = Room.objects.create(name="bench")
            channel = f"private-encrypted-room-{room.pk}"
            subscriber = PusherJs(key=APP_KEY, ws_port=soketi.port, authorizer=local_authorizer())
            subscriber.subscribed(channel)

            proxy.reset()
            started = time.perf_counter()
            for batch in range(args.n // args.k):
                with transaction.atomic():
                    for i in range(args.k):
                        Message.objects.create(room=room, text=f"p{batch}-{i}")
            subscriber.wait_for_count("event", args.n, timeout=300, event="message.created")
            ours = time.perf_counter() - started
            ours_requests = sum(proxy.requests.values())

            official = pusher.Pusher(
                app_id=APP_ID,
                key=APP_KEY,
                secret=APP_SECRET,
                host="127.0.0.1",
                port=proxy.port,
                ssl=False,
                encryption_master_key_base64=MASTER_KEY_B64,
            )
            proxy.reset()
            started = time.perf_counter()
            with suppress_broadcasts():
                for n in range(args.n):
                    message = Message.objects.create(room=room, text=f"n{n}")
                    official.trigger(channel, "naive", {"id": message.pk, "text": message.text})
            subscriber.wait_for_count("event", args.n, timeout=300, event="naive")
            naive = time.perf_counter() - started
            naive_requests = sum(proxy.requests.values())
    finally:
        if subscriber:
            subscriber.close()
        worker.stop()
        proxy.close()
        soketi.stop()

    print(f"N={args.n} saves, transactions of k={args.k}, encrypted channel")
    row = "{:<34}{:>9.2f}{:>10.0f}{:>15}"
    print(f"{'approach':<34}{'seconds':>9}{'events/s':>10}{'REST requests':>15}")
    print(row.format("pusher_django (Celery, batched)", ours, args.n / ours, ours_requests))
    print(row.format("naive (SDK trigger per save)", naive, args.n / naive, naive_requests))
    print(
        f"requests ratio: {naive_requests / max(ours_requests, 1):.1f}x fewer; "
        f"throughput ratio: {(args.n / ours) / (args.n / naive):.2f}x"
    )


if __name__ == "__main__":
    main()
