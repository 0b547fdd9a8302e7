"""Listener CPU and memory per event: pusher_django's Listener vs pysher 1.0.8.

Usage: .venv/bin/python benchmarks/listener.py [--events 20000] [--memory-events 100000]

Every client runs in its own process (so its CPU time is its own) and its
receiver writes one line per event to a file, like a small real receiver.
CPU per event is the client process's CPU time from "subscribed" to the last
event, divided by the events received.

1. Replay server: a local websocket server replays pre-encoded frames of
   ~200 B as fast as it can; only the client's cost is measured.
   pusher_django on a private channel, pysher on the same, pusher_django on
   an encrypted channel (pysher cannot decrypt).
2. Memory: pusher_django's RSS after subscribing and after ``--memory-events``
   replayed events.
3. soketi: both clients subscribed at once to the same private channel while
   producer processes trigger ``--events`` events in batches of 10; then the
   listener on an encrypted channel while pysher listens to a private one
   fed by the same batches.
4. Memory through soketi: pusher_django's RSS over ``--memory-events``.

Targets (issues #16 and #23): pusher_django at least 2x less CPU per event
than pysher through soketi with this per-event receiver work, 3x on the replay
server; RSS growth at most 5 MB over 100,000 events. Each line also gives the
process's context switches per event: through soketi, wake-ups cost more CPU
than the events themselves.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

MASTER_KEY = "OHRXNUZRTG5pUTFzQlFGd3J3N3Q2VFZFc0paZDEweVk="
PADDING = "x" * 150  # with the time and the counter: ~200 B of data per event


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def switches() -> int:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_nvcsw + usage.ru_nivcsw


def event_data(n: int) -> dict[str, Any]:
    return {"t": time.time(), "n": n, "text": PADDING}


# -- the clients, each in its own process ---------------------------------------------------


class Sink:
    """Writes one line per event; notes the CPU clock at the start and at the last event."""

    def __init__(self, expected: int, path: str) -> None:
        self.expected = expected
        self.count = 0
        self.out = open(path, "w")  # noqa: SIM115 (closed in finish)
        self.done = threading.Event()
        self.cpu_start = 0.0
        self.cpu_end = 0.0
        self.wall_start = 0.0
        self.wall_end = 0.0
        # os.times() for the user/sys split (10 ms ticks); process_time() for the total.
        self.times_start = os.times()
        self.times_end: os.times_result | None = None
        # Context switches: how often the process slept and woke (per event, a cost of its own).
        self.switches_start = self.switches_end = 0

    def start(self) -> None:
        self.switches_start = switches()
        self.times_start = os.times()
        self.cpu_start = time.process_time()
        self.wall_start = time.perf_counter()

    def receive(self, data: dict[str, Any]) -> None:
        self.out.write(f"{data['n']}\n")
        self.count += 1
        if self.count >= self.expected:
            self.cpu_end = time.process_time()
            self.times_end = os.times()
            self.switches_end = switches()
            self.wall_end = time.perf_counter()
            self.done.set()

    def finish(self) -> dict[str, float]:
        self.out.close()
        cpu = (self.cpu_end or time.process_time()) - self.cpu_start
        wall = (self.wall_end or time.perf_counter()) - self.wall_start
        end = self.times_end or os.times()
        count = max(self.count, 1)
        switched = (self.switches_end or switches()) - self.switches_start
        return {
            "switches": switched / count,
            "count": self.count,
            "cpu_us": cpu / count * 1e6,
            "user_us": (end.user - self.times_start.user) / count * 1e6,
            "sys_us": (end.system - self.times_start.system) / count * 1e6,
            "wall": wall,
        }


def measure(sink: Sink, subscribed: threading.Event, pipe: Any) -> None:
    """Once subscribed: report "ready", count until the last event, send the figures."""
    subscribed.wait(20)
    time.sleep(0.3)
    rss_before = rss_mb()
    sink.start()
    pipe.send("ready")
    sink.done.wait(600)
    result = sink.finish()
    result.update(rss_before=rss_before, rss_after=rss_mb())
    pipe.send(result)


def _listener_client(
    pusher: dict[str, Any], channel: str, events: int, path: str, pipe: Any
) -> None:
    import django

    django.setup()
    from django.test import override_settings

    from pusher_django import signals
    from pusher_django.conf import ListenerSettings, get_config
    from pusher_django.listener import Listener

    sink = Sink(events, path)
    subscribed = threading.Event()
    signals.event_received.connect(
        lambda sender, data, **kw: sink.receive(data), weak=False, dispatch_uid="bench"
    )
    signals.subscription_succeeded.connect(
        lambda sender, **kw: subscribed.set(), weak=False, dispatch_uid="bench-sub"
    )
    with override_settings(PUSHER=pusher):
        listener = Listener([channel], options=ListenerSettings(signin=False), config=get_config())
    listener.start()
    measure(sink, subscribed, pipe)
    listener.stop()


def _pysher_client(pusher: dict[str, Any], channel: str, events: int, path: str, pipe: Any) -> None:
    import logging

    import pysher

    sink = Sink(events, path)
    subscribed = threading.Event()
    client = pysher.Pusher(
        pusher["KEY"],
        secure=False,
        custom_host=pusher["HOST"],
        port=pusher["PORT"],
        secret=pusher["SECRET"],
        log_level=logging.WARNING,
    )

    def on_connect(data: Any) -> None:
        sub = client.subscribe(channel)
        sub.bind("tick", lambda payload: sink.receive(json.loads(payload)))
        sub.bind("pusher_internal:subscription_succeeded", lambda *a: subscribed.set())

    client.connection.bind("pusher:connection_established", on_connect)
    client.connect()
    measure(sink, subscribed, pipe)
    client.disconnect()


CLIENTS: dict[str, Any] = {"pusher_django": _listener_client, "pysher": _pysher_client}


class Client:
    """One client process; ``ready()`` blocks until it is subscribed and measuring."""

    def __init__(self, kind: str, pusher: dict[str, Any], channel: str, events: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipe, child = context.Pipe()
        handle, self.path = tempfile.mkstemp(prefix=f"bench-{kind}-", suffix=".txt")
        os.close(handle)
        self.process = context.Process(
            target=CLIENTS[kind], args=(pusher, channel, events, self.path, child), daemon=True
        )
        self.process.start()

    def ready(self) -> None:
        if not self.pipe.poll(60):
            raise RuntimeError("client did not subscribe")
        assert self.pipe.recv() == "ready"

    def result(self) -> dict[str, float]:
        if not self.pipe.poll(900):
            raise RuntimeError("client did not finish")
        result: dict[str, float] = self.pipe.recv()
        self.process.join(10)
        lines = Path(self.path).read_text().count("\n")
        Path(self.path).unlink()
        assert lines == result["count"], (lines, result)
        return result


def line(label: str, result: dict[str, float]) -> None:
    rate = result["count"] / result["wall"] if result["wall"] else float("nan")
    print(
        f"  {label:<38} {int(result['count']):>7} events  {rate:>8.0f} ev/s  "
        f"CPU {result['cpu_us']:>6.1f} us/event "
        f"(user {result['user_us']:.0f}, sys {result['sys_us']:.0f})  "
        f"{result['switches']:.2f} switches/event  "
        f"RSS {result['rss_before']:>6.1f} -> {result['rss_after']:>6.1f} MB",
        flush=True,
    )


def ratio(ours: dict[str, float], theirs: dict[str, float], target: float) -> None:
    value = theirs["cpu_us"] / ours["cpu_us"]
    verdict = "met" if value >= target else "NOT met"
    print(f"  pysher CPU / pusher_django CPU = {value:.2f}x (target >= {target:g}x: {verdict})")


# -- the replay server ------------------------------------------------------------------------


def _replay_server(port: int, events: int, ready: Any) -> None:
    """Per connection: after each subscribe, ``events`` pre-encoded ~200 B frames at full speed."""
    import asyncio

    import django
    from websockets.asyncio.server import serve

    django.setup()
    from pusher_django.conf import parse_master_key
    from pusher_django.crypto import encrypt

    master = parse_master_key(MASTER_KEY)

    def frames(channel: str) -> list[str]:
        out = []
        for n in range(events):
            data = json.dumps({"t": 0, "n": n, "text": PADDING})
            if channel.startswith("private-encrypted-"):
                data = encrypt(channel, data, master)
            out.append(json.dumps({"event": "tick", "channel": channel, "data": data}))
        return out

    async def handle(ws: Any) -> None:
        established = json.dumps({"socket_id": "1.1", "activity_timeout": 120})
        await ws.send(json.dumps({"event": "pusher:connection_established", "data": established}))
        async for raw in ws:
            message = json.loads(raw)
            if message["event"] != "pusher:subscribe":
                continue
            channel = message["data"]["channel"]
            burst = frames(channel)
            succeeded = {"event": "pusher_internal:subscription_succeeded", "channel": channel}
            await ws.send(json.dumps({**succeeded, "data": "{}"}))
            await asyncio.sleep(1.0)  # the client reports "ready" meanwhile
            for frame in burst:
                await ws.send(frame)

    async def run() -> None:
        async with serve(handle, "127.0.0.1", port, max_queue=None):
            ready.set()
            await asyncio.Future()

    asyncio.run(run())


def replay(events: int, memory_events: int) -> None:
    from tests.support.processes import free_port

    port = free_port()
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    server = context.Process(target=_replay_server, args=(port, events, ready), daemon=True)
    server.start()
    ready.wait(30)
    pusher = {
        "APP_ID": "1",
        "KEY": "replay-key",
        "SECRET": "replay-secret",
        "HOST": "127.0.0.1",
        "PORT": port,
        "USE_TLS": False,
        "ENCRYPTION_MASTER_KEY_BASE64": MASTER_KEY,
    }
    print(f"1. Replay server: {events} frames of ~200 B per client, one client at a time")
    results = {}
    try:
        for kind, channel in (
            ("pusher_django", "private-bench"),
            ("pysher", "private-bench"),
            ("pusher_django", "private-encrypted-bench"),
        ):
            client = Client(kind, pusher, channel, events)
            client.ready()
            results[kind, channel] = result = client.result()
            line(f"{kind}, {channel}", result)
        ratio(results["pusher_django", "private-bench"], results["pysher", "private-bench"], 3)
    finally:
        server.terminate()
    port = free_port()
    ready = context.Event()
    server = context.Process(target=_replay_server, args=(port, memory_events, ready), daemon=True)
    server.start()
    ready.wait(30)
    print(f"2. Memory: pusher_django over {memory_events} replayed events")
    try:
        for channel in ("private-bench", "private-encrypted-bench"):
            client = Client("pusher_django", {**pusher, "PORT": port}, channel, memory_events)
            client.ready()
            result = client.result()
            line(f"pusher_django, {channel}", result)
            rss_growth(result)
    finally:
        server.terminate()


# -- soketi -------------------------------------------------------------------------------------


def _produce_part(pusher: dict[str, Any], channels: list[str], count: int) -> None:
    import django

    django.setup()
    from django.test import override_settings

    from pusher_django.client import PusherClient
    from pusher_django.conf import get_config

    with override_settings(PUSHER=pusher):
        client = PusherClient(get_config())
    per_batch = 10 // len(channels)
    sent = 0
    while sent < count:
        size = min(per_batch, count - sent)
        batch = [
            {"channel": channel, "name": "tick", "data": event_data(sent + i)}
            for i in range(size)
            for channel in channels
        ]
        client.trigger_batch(batch)
        sent += size


def produce(pusher: dict[str, Any], channels: list[str], events: int, producers: int) -> None:
    """Separate processes keep the producers' CPU out of the clients' processes."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(producers) as pool:
        pool.starmap(_produce_part, [(pusher, channels, events // producers)] * producers)


def rss_growth(result: dict[str, float]) -> None:
    growth = result["rss_after"] - result["rss_before"]
    verdict = "met" if growth <= 5 else "NOT met"
    print(f"  RSS growth {growth:+.1f} MB (target <= 5 MB: {verdict})")


def through_soketi(events: int, producers: int, memory_events: int) -> None:
    from tests.support.soketi import Soketi

    soketi = Soketi(name="bench-listener-soketi")
    soketi.start()
    pusher = {
        **soketi.pusher_settings(),
        "MAX_PAYLOAD_BYTES": 102400,
        "ENCRYPTION_MASTER_KEY_BASE64": MASTER_KEY,
    }
    try:
        print(f"3. soketi: {events} events, {producers} producer processes, batches of 10")
        ours = Client("pusher_django", pusher, "private-bench", events)
        theirs = Client("pysher", pusher, "private-bench", events)
        ours.ready()
        theirs.ready()
        produce(pusher, ["private-bench"], events, producers)
        mine, other = ours.result(), theirs.result()
        line("pusher_django, private-bench", mine)
        line("pysher, private-bench (same events)", other)
        ratio(mine, other, 2)
        ours = Client("pusher_django", pusher, "private-encrypted-bench", events)
        theirs = Client("pysher", pusher, "private-bench2", events)
        ours.ready()
        theirs.ready()
        produce(pusher, ["private-encrypted-bench", "private-bench2"], events, producers)
        mine, other = ours.result(), theirs.result()
        line("pusher_django, private-encrypted-bench", mine)
        line("pysher, private-bench2 (same batches)", other)
        ratio(mine, other, 2)
        print(f"4. Memory through soketi: pusher_django over {memory_events} events")
        ours = Client("pusher_django", pusher, "private-memory", memory_events)
        ours.ready()
        produce(pusher, ["private-memory"], memory_events, producers)
        result = ours.result()
        line("pusher_django, private-memory", result)
        rss_growth(result)
    finally:
        soketi.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--memory-events", type=int, default=100_000)
    parser.add_argument("--producers", type=int, default=4)
    parser.add_argument("--replay-only", action="store_true", help="skip the soketi runs")
    parser.add_argument("--soketi-only", action="store_true", help="skip the replay runs")
    options = parser.parse_args()
    events = options.events - options.events % (10 * options.producers)
    if not options.soketi_only:
        replay(events, options.memory_events)
    if not options.replay_only:
        memory = options.memory_events - options.memory_events % (10 * options.producers)
        through_soketi(events, options.producers, memory)


if __name__ == "__main__":
    main()
