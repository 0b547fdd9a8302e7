"""Listener throughput, latency and memory: pusher_django's Listener vs pysher.

Usage: .venv/bin/python benchmarks/listener.py [--events 100000] [--producers 4]

Starts soketi, then for each client in turn (pusher_django on a plain
channel, pusher_django on an encrypted channel, pysher on a plain channel)
subscribes, triggers ``--events`` events through the REST API in batches of
10 from ``--producers`` processes, and waits until a no-op receiver has seen
them all. Each event carries its send time, so the receiver measures the
trigger-to-receiver latency. pysher cannot decrypt encrypted channels, so it
only runs the plain case. Resident memory (VmRSS) is read before and after
each run; the runs share one process, so compare the deltas.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

import pysher  # noqa: E402
from django.test import override_settings  # noqa: E402

from pusher_django import signals  # noqa: E402
from pusher_django.client import PusherClient  # noqa: E402
from pusher_django.conf import PusherConfig, get_config, reset_config  # noqa: E402
from pusher_django.listener import Listener, ListenerOptions  # noqa: E402
from tests.support.soketi import APP_KEY, APP_SECRET, Soketi  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Sink:
    """Counts events and records latencies; ``done`` is set at the expected count."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.count = 0
        self.latencies: list[float] = []
        self.done = threading.Event()

    def receive(self, data: Any) -> None:
        self.latencies.append(time.time() - data["t"])
        self.count += 1
        if self.count >= self.expected:
            self.done.set()


def _produce_part(config: PusherConfig, channel: str, count: int) -> None:
    client = PusherClient(config)
    sent = 0
    while sent < count:
        size = min(10, count - sent)
        batch = [
            {"channel": channel, "name": "tick", "data": {"t": time.time(), "n": sent + i}}
            for i in range(size)
        ]
        client.trigger_batch(batch)
        sent += size


def produce(channel: str, events: int, producers: int) -> float:
    """Trigger ``events`` events in batches of 10 from separate processes; return start time.

    Separate processes keep the producers' CPU (and GIL) out of the measured one.
    """
    config = get_config()
    context = multiprocessing.get_context("spawn")
    with context.Pool(producers) as pool:
        pool.apply(time.sleep, (0,))  # workers are up before the clock starts
        started = time.time()
        pool.starmap(_produce_part, [(config, channel, events // producers)] * producers)
    return started


def report(name: str, sink: Sink, started: float, rss_before: float, cpu_before: float) -> None:
    finished = time.time()
    cpu_us = (time.process_time() - cpu_before) / max(sink.count, 1) * 1e6
    lat = sorted(sink.latencies)
    p99 = lat[int(len(lat) * 0.99) - 1] if lat else float("nan")
    print(
        f"{name:<34} {sink.count:>7} events  {sink.count / (finished - started):>8.0f} ev/s  "
        f"median {statistics.median(lat) * 1000:>6.1f} ms  p99 {p99 * 1000:>7.1f} ms  "
        f"CPU {cpu_us:>5.0f} us/ev  RSS {rss_before:>6.1f} -> {rss_mb():>6.1f} MB"
    )


def run_ours(channel: str, events: int, producers: int, label: str) -> None:
    sink = Sink(events)

    def receiver(sender: Any, data: Any, **kwargs: Any) -> None:
        sink.receive(data)

    signals.event_received.connect(receiver, weak=False, dispatch_uid="bench")
    listener = Listener([channel], options=ListenerOptions(signin=False), config=get_config())
    subscribed = threading.Event()
    signals.subscription_succeeded.connect(
        lambda sender, **kw: subscribed.set(), weak=False, dispatch_uid="bench-sub"
    )
    rss_before = rss_mb()
    listener.start()
    try:
        subscribed.wait(10)
        cpu_before = time.process_time()
        started = produce(channel, events, producers)
        sink.done.wait(300)
        report(label, sink, started, rss_before, cpu_before)
    finally:
        listener.stop()
        signals.event_received.disconnect(dispatch_uid="bench")
        signals.subscription_succeeded.disconnect(dispatch_uid="bench-sub")


def run_pysher(soketi: Soketi, channel: str, events: int, producers: int) -> None:
    import json
    import logging

    sink = Sink(events)
    subscribed = threading.Event()
    client = pysher.Pusher(
        APP_KEY,
        secure=False,
        custom_host="127.0.0.1",
        port=soketi.port,
        secret=APP_SECRET,
        log_level=logging.WARNING,
    )

    def on_connect(data: Any) -> None:
        sub = client.subscribe(channel)
        sub.bind("tick", lambda payload: sink.receive(json.loads(payload)))
        sub.bind("pusher_internal:subscription_succeeded", lambda *a: subscribed.set())

    client.connection.bind("pusher:connection_established", on_connect)
    rss_before = rss_mb()
    client.connect()
    try:
        subscribed.wait(10)
        time.sleep(0.2)
        cpu_before = time.process_time()
        started = produce(channel, events, producers)
        sink.done.wait(300)
        report("pysher 1.0.8, plain", sink, started, rss_before, cpu_before)
    finally:
        client.disconnect()


def _replay_server(port: int, events: int, ready: Any) -> None:
    """Serve one pre-encoded burst of ``events`` frames per connection, as fast as possible."""
    import asyncio
    import json

    from websockets.asyncio.server import serve

    async def handle(ws: Any) -> None:
        established = json.dumps({"socket_id": "1.1", "activity_timeout": 120})
        await ws.send(json.dumps({"event": "pusher:connection_established", "data": established}))
        async for raw in ws:
            message = json.loads(raw)
            if message["event"] == "pusher:subscribe":
                channel = message["data"]["channel"]
                await ws.send(
                    json.dumps(
                        {"event": "pusher_internal:subscription_succeeded", "channel": channel}
                    )
                )
                frames = [
                    json.dumps(
                        {"event": "tick", "channel": channel, "data": json.dumps({"t": 0, "n": n})}
                    )
                    for n in range(events)
                ]
                await asyncio.sleep(0.5)
                for frame in frames:
                    await ws.send(frame)

    async def run() -> None:
        async with serve(handle, "127.0.0.1", port):
            ready.set()
            await asyncio.Future()

    asyncio.run(run())


class Counter:
    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.count = 0
        self.first = 0.0
        self.done = threading.Event()

    def receive(self, *args: Any, **kwargs: Any) -> None:
        if not self.count:
            self.first = time.perf_counter()
        self.count += 1
        if self.count >= self.expected:
            self.done.set()


def _replay_one(name: str, settings: dict[str, Any], events: int) -> None:
    counter = Counter(events)
    cpu = time.process_time()
    if name == "pusher_django":
        signals.event_received.connect(counter.receive, weak=False, dispatch_uid="replay")
        with override_settings(PUSHER=settings):
            reset_config()
            listener = Listener(
                ["replay"], options=ListenerOptions(signin=False), config=get_config()
            )
        listener.start()
        counter.done.wait(300)
        listener.stop()
        signals.event_received.disconnect(dispatch_uid="replay")
    else:
        client = pysher.Pusher("k", secure=False, custom_host="127.0.0.1", port=settings["PORT"])
        client.connection.bind(
            "pusher:connection_established",
            lambda data: client.subscribe("replay").bind("tick", counter.receive),
        )
        client.connect()
        counter.done.wait(300)
        client.disconnect()
    elapsed = time.perf_counter() - counter.first
    cpu_us = (time.process_time() - cpu) / events * 1e6
    print(
        f"replay {name:<27} {counter.count:>7} events  {counter.count / elapsed:>8.0f} ev/s  "
        f"CPU {cpu_us:>5.0f} us/ev  RSS {rss_mb():>6.1f} MB"
    )


def replay(events: int) -> None:
    """Client cost alone: frames replayed by a local server, no soketi, no producers."""
    from tests.support.processes import free_port

    port = free_port()
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    server = context.Process(target=_replay_server, args=(port, events, ready), daemon=True)
    server.start()
    ready.wait(10)
    settings = {
        "APP_ID": "1",
        "KEY": "k",
        "SECRET": "s",
        "HOST": "127.0.0.1",
        "PORT": port,
        "USE_TLS": False,
    }
    try:
        for name in ("pusher_django", "pysher"):
            _replay_one(name, settings, events)
    finally:
        server.terminate()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--producers", type=int, default=4)
    parser.add_argument(
        "--replay-only", action="store_true", help="skip the soketi runs (client cost only)"
    )
    options = parser.parse_args()
    replay(options.events)
    if options.replay_only:
        return
    events = options.events - options.events % (10 * options.producers)
    soketi = Soketi(name="bench-listener-soketi")
    soketi.start()
    try:
        with override_settings(PUSHER={**soketi.pusher_settings(), "MAX_PAYLOAD_BYTES": 102400}):
            reset_config()
            print(f"{events} events per run, {options.producers} producer processes, batches of 10")
            run_ours("bench-plain", events, options.producers, "pusher_django Listener, plain")
            run_ours(
                "private-encrypted-bench",
                events,
                options.producers,
                "pusher_django Listener, encrypted",
            )
            run_pysher(soketi, "bench-pysher", events, options.producers)
    finally:
        soketi.stop()


if __name__ == "__main__":
    main()
