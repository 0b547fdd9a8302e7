"""Pusher → Overview at 10^7 outbox rows: the page's time beside its time on an empty table.

Usage: .venv/bin/python benchmarks/overview.py [--rows 10000000] [--repeat 15]
       [--database-url URL] [--cache-url redis://127.0.0.1:6379/13]

PostgreSQL (default database ``pd_health_bench`` on 127.0.0.1:5432, created
if missing; the filled table is kept for the next run) and a Redis cache for
the counters, filled for a whole day (every minute and figure has a value, so
the day view reads every key it can). The table is filled the way a busy
day leaves it: ``--rows`` sent events spread over the retention day on 5,000
channels, plus 1,000 pending and 500 failed. Each page is requested
``--repeat`` times through Django's test client as a signed-in superuser
(the whole request: middleware, queries, cache, template) after a first
request, whose time is printed apart (the first day view after the counters
were written seals the day's hours into one key each); the median and the
slowest follow, on the empty table (baseline), then full. Last, what each
counting hook costs the code path that calls it, with Redis and with
``LocMemCache``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
DEFAULT_DB = "postgres://postgres:postgres@127.0.0.1:5432/pd_health_bench"
PARSER = argparse.ArgumentParser(description=__doc__.splitlines()[0])
PARSER.add_argument("--rows", type=int, default=10_000_000)
PARSER.add_argument("--repeat", type=int, default=15)
PARSER.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_DB)
PARSER.add_argument("--cache-url", default="redis://127.0.0.1:6379/13")
ARGS = PARSER.parse_args()
os.environ["DATABASE_URL"] = ARGS.database_url

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.cache import caches  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

from pusher_django import counters, health  # noqa: E402
from pusher_django.listener.replicas import replicas  # noqa: E402
from pusher_django.models import Delivery  # noqa: E402
from tests.support.postgres import ensure_database  # noqa: E402

PAGES = {
    "hour": "/admin/pusher_django/overview/",
    "day": "/admin/pusher_django/overview/?window=day",
}
CHUNK = 1_000_000


def fill_counters() -> None:
    """A value in every key of the last day, as a day of traffic would leave them."""
    cache = caches["default"]
    last = counters.minute_of(time.time())
    names = (*counters.FIGURES, *(f"latency_{i}" for i in range(14)))
    values = {
        f"{counters.PREFIX}:{minute}:{name}": 1 + minute % 7
        for minute in range(last - 24 * 60, last + 1)
        for name in names
    }
    cache.set_many(values, counters.KEEP_SECONDS)


def forget(prefix: str) -> None:
    """Delete this run's counters (only its own keys: the Redis database may be shared)."""
    import redis

    client = redis.Redis.from_url(ARGS.cache_url)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)


def _insert(start: int, stop: int, status: str, age: str) -> None:
    table = Delivery._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (channel, name, data, tagged, socket_id, status, attempts, error,
                batch, coalesce_key, action, created_at, available_at, sent_at)
            SELECT 'private-room-' || mod(i, 5000), 'message', '{{"n":1}}', true, '', %s,
                1, '', gen_random_uuid(), NULL, '', {age}, {age},
                CASE WHEN %s = 'sent' THEN {age} + interval '50 milliseconds' END
            FROM generate_series(%s, %s) AS i
            """,  # noqa: S608 - the table name and age expression are ours
            [status, status, start, stop - 1],
        )


def fill_table(rows: int) -> None:
    have = Delivery.objects.count()
    wanted = rows + 1500
    if have == wanted:
        print(f"table already holds {have:,} rows")
        return
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Delivery._meta.db_table}")
    age = f"now() - make_interval(secs => ({rows} - i) * 86400.0 / {rows})"
    started = time.perf_counter()
    for start in range(0, rows, CHUNK):
        _insert(start, min(start + CHUNK, rows), "sent", age)
        print(f"  {min(start + CHUNK, rows):,} sent rows ({time.perf_counter() - started:.0f} s)")
    _insert(0, 1000, "pending", "now() - make_interval(secs => (1000 - i) * 0.01)")
    _insert(0, 500, "failed", "now() - make_interval(secs => 3600 + i)")
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Delivery._meta.db_table}")
    print(f"filled {Delivery.objects.count():,} rows in {time.perf_counter() - started:.0f} s")


def time_pages(client: Client) -> dict[str, tuple[float, float, float]]:
    """``(first, median, max)`` per page; the first day view seals the day's hours."""
    result = {}
    for name, url in PAGES.items():
        started = time.perf_counter()
        client.get(url)
        first = (time.perf_counter() - started) * 1000
        samples = []
        for _ in range(ARGS.repeat):
            started = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
        result[name] = (first, statistics.median(samples), max(samples))
    return result


def time_parts() -> dict[str, float]:
    """Each figure's own cost at this table size (ms, median of ``--repeat``)."""
    from datetime import timedelta

    from django.utils import timezone

    parts: dict[str, Any] = {
        "backlog (4 index lookups)": health.backlog,
        "top channels, last day": lambda: health.top_channels(timezone.now() - timedelta(days=1)),
        "counters, last day (get_many)": lambda: counters.minutes(24 * 60),
        "replica heartbeats": replicas,
    }
    result = {}
    for name, call in parts.items():
        call()
        samples = []
        for _ in range(ARGS.repeat):
            started = time.perf_counter()
            call()
            samples.append((time.perf_counter() - started) * 1000)
        result[name] = statistics.median(samples)
    return result


def time_hooks() -> dict[str, float]:
    """What counting adds where events happen (µs per call, median of 200)."""
    from django.utils import timezone

    stamps = [timezone.now()] * 10
    hooks: dict[str, Any] = {
        "sent: a chunk of 10 events": lambda: counters.sent(stamps),
        "enqueued: one transaction": lambda: counters.enqueued(1),
        "auth decision": lambda: counters.auth_decisions([200]),
    }
    result = {}
    for name, call in hooks.items():
        call()
        samples = []
        for _ in range(200):
            started = time.perf_counter()
            call()
            samples.append((time.perf_counter() - started) * 1e6)
        result[name] = statistics.median(samples)
    return result


def main() -> None:
    ensure_database()
    call_command("migrate", run_syncdb=True, verbosity=0)
    prefix = f"bench-{uuid.uuid4().hex[:6]}"
    cache_settings = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": ARGS.cache_url,
            "KEY_PREFIX": prefix,
        }
    }
    with override_settings(CACHES=cache_settings):
        user_model = get_user_model()
        user = user_model.objects.filter(username="bench").first()
        if user is None:
            user = user_model.objects.create_superuser("bench", "b@example.com", "bench")
        client = Client()
        client.force_login(user)

        kept = Delivery.objects.count()
        if kept:
            print(f"baseline on an empty table: moving {kept:,} rows aside")
        table = Delivery._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_full")
            cursor.execute(f"CREATE TABLE {table} (LIKE {table}_full INCLUDING ALL)")
        try:
            fill_counters()
            empty = time_pages(client)
            empty_parts = time_parts()
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE {table}")
                cursor.execute(f"ALTER TABLE {table}_full RENAME TO {table}")
        fill_table(ARGS.rows)
        forget(prefix)
        fill_counters()
        full = time_pages(client)
        full_parts = time_parts()
        redis_hooks = time_hooks()
    forget(prefix)
    local = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with override_settings(CACHES=local):
        local_hooks = time_hooks()

    rows = Delivery.objects.count()
    print()
    print(f"Pusher → Overview, {ARGS.repeat} requests each (ms; machine shared, figures noisy)")
    tables = {"empty (baseline)": empty, f"{rows:,} rows": full}
    print(f"{'page':<12}{'outbox table':<20}{'first':>9}{'median':>9}{'max':>9}")
    for name in PAGES:
        for table, figures in tables.items():
            first, median, slowest = figures[name]
            print(f"{'last ' + name:<12}{table:<20}{first:>9.1f}{median:>9.1f}{slowest:>9.1f}")
    print()
    print(f"{'figure (median ms)':<32}{'empty':>15}{f'{rows:,} rows':>34}")
    for name in full_parts:
        print(f"{name:<32}{empty_parts[name]:>15.1f}{full_parts[name]:>34.1f}")

    print()
    print(f"{'counting hook (median µs)':<32}{'Redis cache':>15}{'LocMemCache':>15}")
    for name in redis_hooks:
        print(f"{name:<32}{redis_hooks[name]:>15.1f}{local_hooks[name]:>15.1f}")


if __name__ == "__main__":
    main()
