"""Async vs sync: the coroutine client, and async views under uvicorn, against real soketi.

Usage: .venv/bin/python benchmarks/async_client.py [--triggers 1000] [--requests 1000]
       [--database-url URL] [--part client|views|all]

1. Client: ``--triggers`` triggers at concurrency 50, from one event loop
   (``atrigger``, httpx, one pool) vs the sync client in 50 threads
   (``trigger``, requests, one pooled session): requests/s and this process's
   CPU time per request (user + system).
2. Views: uvicorn (one process, the test project, PostgreSQL) answering
   ``--requests`` POSTs at concurrency 20 from an httpx load generator in
   this process: requests/s, p50 and p99 of
   - a view that saves a Message (which broadcasts through the outbox to a
     Celery worker and on to soketi): sync ``Message.objects.create`` vs async
     ``await Message(...).asave()``;
   - channel authorization of ``private-lobby``: the sync ``pusher/auth/``
     view vs an async variant (same signing, no rule lookup: an upper bound);
   each with the test settings' middleware (all of them sync and async
   capable, SocketIdMiddleware included) and with one sync-only middleware
   added (what SocketIdMiddleware was before: it makes every async view hop
   to a thread and back).

Runs on PostgreSQL (``--database-url``, default ``$DATABASE_URL`` or
``postgres://postgres:postgres@127.0.0.1:5432/pd_async``, created if missing).
The load generator and the server share the machine's cores, so the figures
compare variants of one run with each other, not with another machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
if "--database-url" in sys.argv[:-1]:  # read before Django is set up; main() parses it too
    os.environ["DATABASE_URL"] = sys.argv[sys.argv.index("--database-url") + 1]
os.environ.setdefault("DATABASE_URL", "postgres://postgres:postgres@127.0.0.1:5432/pd_async")

import django

django.setup()

import httpx  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from pusher_django.client import get_client  # noqa: E402
from pusher_django.conf import reset_config  # noqa: E402
from pusher_django.models import Delivery  # noqa: E402
from tests.support.django_env import django_env  # noqa: E402
from tests.support.postgres import ensure_database  # noqa: E402
from tests.support.processes import ROOT, free_port, log_path, stop_process, wait_until  # noqa: E402
from tests.support.soketi import Soketi  # noqa: E402
from tests.support.worker import CeleryWorker  # noqa: E402
from tests.testapp.models import Message, Room  # noqa: E402

CLIENT_CONCURRENCY = 50
VIEW_CONCURRENCY = 20
LOBBY = {"channel_name": "private-lobby"}
#: The auth endpoint checks CSRF as for a page: a cookie and the header that matches it.
CSRF = "b" * 32
HEADERS = {"Cookie": f"csrftoken={CSRF}", "X-CSRFToken": CSRF}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(run: Callable[[], None], n: int) -> tuple[float, float]:
    """(requests/s, CPU ms per request) of ``run``, which makes ``n`` requests."""
    cpu, started = cpu_seconds(), time.perf_counter()
    run()
    wall, used = time.perf_counter() - started, cpu_seconds() - cpu
    return n / wall, used / n * 1000


def client_part(soketi: Soketi, n: int) -> None:
    settings.PUSHER = soketi.pusher_settings()
    reset_config()
    client = get_client()

    def sync_run(count: int) -> None:
        with ThreadPoolExecutor(CLIENT_CONCURRENCY) as pool:
            list(pool.map(lambda i: client.trigger("bench", "e", {"n": i}), range(count)))

    def async_run(count: int) -> None:
        async def main() -> None:
            gate = asyncio.Semaphore(CLIENT_CONCURRENCY)

            async def one(i: int) -> None:
                async with gate:
                    await client.atrigger("bench", "e", {"n": i})

            await asyncio.gather(*(one(i) for i in range(count)))
            await client.aclose()

        asyncio.run(main())

    sync_run(CLIENT_CONCURRENCY)  # warm both pools
    async_run(CLIENT_CONCURRENCY)
    sync = measure(lambda: sync_run(n), n)
    coroutine = measure(lambda: async_run(n), n)
    print(f"\n1. {n} triggers at concurrency {CLIENT_CONCURRENCY} against soketi")
    print(f"   {'':34} {'requests/s':>11} {'CPU ms/request':>15}")
    print(f"   {'sync trigger(), 50 threads':34} {sync[0]:11.0f} {sync[1]:15.3f}")
    print(f"   {'atrigger(), one event loop':34} {coroutine[0]:11.0f} {coroutine[1]:15.3f}")


class Uvicorn:
    """uvicorn serving ``tests/asgi.py`` in its own process, joined to soketi and the worker."""

    def __init__(self, soketi: Soketi, worker: CeleryWorker, database: str, module: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = django_env(soketi.port, database, worker.queue, DJANGO_SETTINGS_MODULE=module)
        self.log = log_path(f"bench-uvicorn-{module}.log").open("wb")
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("uvicorn")),
                "tests.asgi:application",
                "--port",
                str(self.port),
                "--lifespan",
                "off",
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_until(self._up, 30, "uvicorn")

    def _up(self) -> bool:
        try:
            return httpx.get(f"{self.url}/admin/login/", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        stop_process(self.process)
        self.log.close()


def load(url: str, form: Callable[[int], dict[str, str]], n: int) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) of ``n`` POSTs at concurrency 20."""
    errors: list[int] = []

    async def main() -> tuple[float, list[float]]:
        latencies: list[float] = []
        limits = httpx.Limits(max_connections=VIEW_CONCURRENCY)
        async with httpx.AsyncClient(timeout=30, limits=limits, headers=HEADERS) as http:
            queue = iter(range(n))

            async def worker() -> None:
                for i in queue:
                    started = time.perf_counter()
                    try:
                        answer = await http.post(url, data=form(i))
                    except (
                        httpx.TransportError
                    ):  # a dropped keep-alive connection: counted, retried
                        errors.append(i)
                        answer = await http.post(url, data=form(i))
                    latencies.append((time.perf_counter() - started) * 1000)
                    if answer.status_code != 200:
                        raise RuntimeError(f"{url} answered {answer.status_code}: {answer.text}")

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(VIEW_CONCURRENCY)))
            return time.perf_counter() - started, latencies

    wall, latencies = asyncio.run(main())
    if errors:
        print(f"   ({len(errors)} requests retried after a connection error)")
    cuts = statistics.quantiles(latencies, n=100)
    return n / wall, cuts[49], cuts[98]


Variant = tuple[str, str, Callable[[int], dict[str, str]]]


def views_part(soketi: Soketi, worker: CeleryWorker, database: str, n: int) -> None:
    room = Room.objects.create(name="bench")
    socket = {"socket_id": "1234.5678"}

    def message(i: int) -> dict[str, str]:
        return {"room": str(room.pk), "text": f"bench {i}"}

    variants: list[Variant] = [
        ("save + broadcast, sync view", "/test-pages/save/", message),
        ("save + broadcast, async view", "/test-pages/asave/", message),
        ("auth private-lobby, sync view", "/pusher/auth/", lambda i: {**socket, **LOBBY}),
        ("auth private-lobby, async variant", "/test-pages/aauth/", lambda i: socket),
    ]  # fmt: skip
    print(f"\n2. {n} POSTs at concurrency {VIEW_CONCURRENCY} to one uvicorn process")
    for module, title in (
        ("tests.settings", "test settings: every middleware sync and async capable"),
        ("benchmarks.asgi_settings", "the same plus one sync-only middleware"),
    ):
        server = Uvicorn(soketi, worker, database, module)
        try:
            print(f"   {title}")
            print(f"   {'':36} {'requests/s':>11} {'p50 ms':>8} {'p99 ms':>8}")
            for name, path, form in variants:
                load(server.url + path, form, VIEW_CONCURRENCY * 2)  # warm-up
                rate, p50, p99 = load(server.url + path, form, n)
                print(f"   {name:36} {rate:11.0f} {p50:8.1f} {p99:8.1f}")
        finally:
            server.stop()
    expected = Message.objects.count()
    wait_until(
        lambda: Delivery.objects.filter(status=Delivery.Status.SENT).count() >= expected,
        120,
        "every broadcast sent to soketi",
    )
    print(f"   ({expected} broadcasts saved, all sent to soketi by the worker)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--triggers", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--part", choices=["client", "views", "all"], default="all")
    args = parser.parse_args()
    ensure_database()
    call_command("migrate", run_syncdb=True, verbosity=0)
    Delivery.objects.all().delete()
    Message.objects.all().delete()
    database = str(connection.settings_dict["NAME"])
    soketi = Soketi(name="bench-async-soketi")
    soketi.start()
    worker = CeleryWorker(soketi.port, database)
    print(f"Django {django.get_version()}, {connection.vendor}, 2 cores shared with the server")
    try:
        if args.part in ("client", "all"):
            client_part(soketi, args.triggers)
        if args.part in ("views", "all"):
            views_part(soketi, worker, database, args.requests)
    finally:
        worker.stop()
        soketi.stop()


if __name__ == "__main__":
    main()
