"""The outbox at production size: each operation's cost at 10^5, 10^6 and 10^7 retained rows.

Usage: .venv/bin/python benchmarks/outbox_scale.py [--sizes 100000,1000000,10000000]
       [--database-url URL] [--plans] [--repeat 5]

Default database: ``$DATABASE_URL`` or PostgreSQL at 127.0.0.1:5432, database
``pd_scale_bench`` (created if missing; its outbox table is emptied). SQLite
(``sqlite:///path``) and MariaDB (``mysql://...``) work too.

At each size the table is refilled in one SQL statement (``generate_series``,
MariaDB's sequence engine, or a recursive CTE on SQLite) with sent rows spread
over the retention window: a busy channel of 60,000 rows, a quiet channel of
about ten, the rest over 1,000 channels; 100 dead letters scattered among them
and 200 pending rows on top, one channel waiting out a retry, plus ten rows a committed
transaction holds leased for send-at-commit. It then prints
the median of ``--repeat`` runs of each operation, the sizes side by side with
the smallest as the baseline, and ``--plans`` prints each query's plan at the
largest size.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
DEFAULT_DB = "postgres://postgres:postgres@127.0.0.1:5432/pd_scale_bench"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000,10000000")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_DB)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--plans", action="store_true", help="print the query plans too")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the table as the last run left it (give its size as --sizes)",
    )
    return parser.parse_args()


ARGS = _arguments()
os.environ["DATABASE_URL"] = ARGS.database_url

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from pusher_django import history  # noqa: E402
from pusher_django.conf import get_config  # noqa: E402
from pusher_django.models import Delivery  # noqa: E402
from pusher_django.outbox import relay, statements  # noqa: E402
from tests.support.postgres import ensure_database, settle_outbox  # noqa: E402

TABLE = Delivery._meta.db_table
BUSY, QUIET = "private-busy", "private-quiet"
#: A committed transaction's ten rows, leased to it for send-at-commit.
COMMIT, COMMIT_TOKEN = "private-commit", uuid.UUID(int=1)
BUSY_ROWS, FAILED_ROWS, PENDING_CHANNELS, PENDING_PER_CHANNEL = 60_000, 100, 20, 10
#: Share of the table each prune run deletes (five runs: 10 % of it).
PRUNE_SHARE = 0.02


def _series(size: int) -> str:
    """A ``SELECT`` of the column ``g`` from 1 to ``size``, in this database's dialect."""
    if connection.vendor == "postgresql":
        return f"SELECT g FROM generate_series(1::bigint, {size}) AS g"  # noqa: S608
    if connection.vendor == "mysql":
        return f"SELECT seq AS g FROM seq_1_to_{size}"  # noqa: S608
    return (
        f"WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {size}) "  # noqa: S608
        "SELECT g FROM s"
    )


def _time_at(step_us: int, start: datetime) -> str:
    """SQL for ``start + g * step_us`` microseconds, stored as Django stores datetimes."""
    base = start.strftime("%Y-%m-%d %H:%M:%S")
    if connection.vendor == "postgresql":
        return f"(TIMESTAMPTZ '{base}+00' + g * INTERVAL '{step_us} microseconds')"
    if connection.vendor == "mysql":
        return f"TIMESTAMPADD(MICROSECOND, g * {step_us}, '{base}')"
    return f"strftime('%Y-%m-%d %H:%M:%f', '{base}', '+' || (g * {step_us} / 1e6) || ' seconds')"


def fill(size: int) -> datetime:
    """``size`` sent rows spread over the retention window; returns the oldest one's time."""
    retention = get_config().outbox.retention
    start = timezone.now().astimezone(UTC) - timedelta(seconds=retention - 60)
    step_us = int(retention * 1e6 / (size * 1.02))
    when = _time_at(step_us, start)
    quiet_every = max(size // 10, 1)
    failed_every = size // FAILED_ROWS
    concat = "CONCAT('private-c-', g % 1000)" if connection.vendor == "mysql" else (
        "'private-c-' || (g % 1000)"
    )  # fmt: skip
    true, false = ("true", "false") if connection.vendor == "postgresql" else ("1", "0")
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")  # noqa: S608
        cursor.execute(
            f"INSERT INTO {TABLE} (id, channel, name, data, data_is_object, is_reference, "  # noqa: S608
            "socket_id, status, "
            "attempts, error, batch, coalesce_key, action, created_at, available_at, sent_at) "
            f"SELECT g, CASE WHEN g % {quiet_every} = 7 THEN '{QUIET}' "
            f"WHEN (g * {BUSY_ROWS}) % {size} < {BUSY_ROWS} THEN '{BUSY}' ELSE {concat} END, "
            "'message.created', '{\"text\":\"hello\"}', "
            f"{true}, {false}, '', "
            f"CASE WHEN g % {failed_every} = 3 THEN 'failed' ELSE 'sent' END, 1, '', "
            f"'{'0' * 32}', NULL, '', {when}, {when}, "
            f"CASE WHEN g % {failed_every} = 3 THEN NULL ELSE {when} END "
            f"FROM ({_series(size)}) AS series"
        )
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{TABLE}', 'id'), {size})")
    now = timezone.now()
    Delivery.objects.bulk_create(
        Delivery(
            channel=f"private-pending-{c}",
            name="message.created",
            data='{"text":"hello"}',
            data_is_object=True,
            created_at=now,
            available_at=now + timedelta(hours=1) if c == 0 else now,
        )
        for c in range(PENDING_CHANNELS)
        for _ in range(PENDING_PER_CHANNEL)
    )
    Delivery.objects.bulk_create(
        Delivery(
            channel=COMMIT,
            name="message.created",
            data='{"text":"hello"}',
            data_is_object=True,
            lease_token=COMMIT_TOKEN,
            lease_until=now + timedelta(hours=1),
        )
        for _ in range(10)
    )
    settle_outbox()
    return start


class Subject:
    """The operations, set up once per size."""

    def __init__(self, client: Client) -> None:
        self.client = client
        busy = Delivery.objects.filter(channel=BUSY, status=Delivery.Status.SENT)
        self.busy_behind = busy.order_by("-sent_at", "-id").values_list("id", flat=True)[50_000]
        quiet = list(
            Delivery.objects.filter(channel=QUIET, status=Delivery.Status.SENT)
            .order_by("sent_at", "id")
            .values_list("id", flat=True)
        )
        self.quiet_far, self.quiet_near = quiet[0], quiet[-2]
        self.failed = list(
            Delivery.objects.filter(status=Delivery.Status.FAILED).values_list("id", flat=True)[:10]
        )
        self.commit = list(Delivery.objects.filter(channel=COMMIT).values_list("id", flat=True))

    def claim(self) -> Callable[[], Any]:
        def run() -> Any:
            return relay.claim("default")

        return run

    def operations(self) -> dict[str, Callable[[], Any]]:
        def admin(query: str) -> Callable[[], Any]:
            def get() -> Any:
                response = self.client.get(f"/admin/pusher_django/delivery/{query}")
                assert response.status_code == 200, response.status_code
                return response

            return get

        return {
            "backlog / status counts": relay.backlog,
            "next_due": relay.next_due,
            "claim (50 of 200 pending)": self.claim(),
            "history quiet, near": lambda: history.catch_up(QUIET, self.quiet_near),
            "history quiet, far": lambda: history.catch_up(QUIET, self.quiet_far),
            "history busy, 50k behind": lambda: history.catch_up(BUSY, self.busy_behind),
            "history unused channel": lambda: history.catch_up("private-nobody", 5),
            "admin: undelivered (default)": admin(""),
            "admin: all": admin("?status=all"),
            "admin: sent": admin("?status=sent"),
            "admin: failed": admin("?status=failed"),
            "admin: busy channel, sent": admin(f"?status=sent&channel={BUSY}"),
            "admin: quiet channel, all": admin(f"?status=all&channel={QUIET}"),
            "retry 10 failed": lambda: relay.retry(self.failed),
            "at commit: order check": lambda: statements.others_before(
                self.commit, {COMMIT}, "default"
            ),
            "at commit: newer rows check": lambda: statements.free_after(
                {COMMIT}, max(self.commit), "default"
            ),
            "at commit: mark 10 sent": lambda: statements.mark_sent(
                self.commit, {COMMIT_TOKEN}, "default", timezone.now()
            ),
        }

    def undo(self, name: str, result: Any) -> None:
        """Put the table back as it was, outside the timing."""
        if name.startswith("claim"):
            Delivery.objects.filter(id__in=[row.pk for row in result]).update(
                lease_token=None, lease_until=None
            )
        elif name.startswith("retry"):
            Delivery.objects.filter(id__in=self.failed).update(status=Delivery.Status.FAILED)
        elif name.startswith("at commit: mark"):
            assert result == len(self.commit), result
            Delivery.objects.filter(id__in=self.commit).update(
                status=Delivery.Status.PENDING,
                sent_at=None,
                lease_token=COMMIT_TOKEN,
                lease_until=timezone.now() + timedelta(hours=1),
            )


def measure(subject: Subject, repeat: int) -> dict[str, float]:
    figures = {}
    for name, operation in subject.operations().items():
        subject.undo(name, operation())  # warm the caches once
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            result = operation()
            times.append((time.perf_counter() - started) * 1000)
            subject.undo(name, result)
        figures[name] = statistics.median(times)
    return figures


def measure_prune(start: datetime, size: int, repeat: int) -> float:
    """Rows/s of ``prune()`` over ``repeat`` runs, each expiring the next ``PRUNE_SHARE``."""
    retention = get_config().outbox.retention
    span = retention / 1.02
    rates = []
    for run in range(1, repeat + 1):
        cutoff = start + timedelta(seconds=span * PRUNE_SHARE * run)
        started = time.perf_counter()
        deleted = relay.prune(now=cutoff + timedelta(seconds=retention))
        rates.append(deleted / (time.perf_counter() - started))
        assert deleted > 0.5 * size * PRUNE_SHARE, deleted
    return statistics.median(rates)


def plans(subject: Subject) -> None:
    explain = {"postgresql": "EXPLAIN ", "mysql": "EXPLAIN ", "sqlite": "EXPLAIN QUERY PLAN "}
    for name, operation in subject.operations().items():
        with CaptureQueriesContext(connection) as captured:
            subject.undo(name, operation())
        print(f"\n## {name}")
        for query in captured.captured_queries:
            sql = query["sql"]
            if TABLE not in sql or not sql.lstrip().upper().startswith(("SELECT", "UPDATE")):
                continue
            print(f"\n{sql}")
            with connection.cursor() as cursor:
                cursor.execute(explain[connection.vendor] + sql)
                for row in cursor.fetchall():
                    print("    " + " | ".join(str(cell) for cell in row))


def main() -> None:
    ensure_database()
    call_command("migrate", verbosity=0)
    user = get_user_model().objects.filter(username="bench").first()
    if user is None:
        user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench")
    client = Client()
    client.force_login(user)
    sizes = [int(size) for size in ARGS.sizes.split(",")]
    results: dict[int, dict[str, float]] = {}
    for size in sizes:
        started = time.perf_counter()
        if ARGS.reuse:
            settle_outbox()
            oldest = Delivery.objects.sent().order_by("sent_at").values_list("sent_at", flat=True)
            start = oldest[0] or timezone.now()
        else:
            start = fill(size)
        filled = time.perf_counter() - started
        subject = Subject(client)
        results[size] = measure(subject, ARGS.repeat)
        if ARGS.plans and size == sizes[-1]:
            plans(subject)
        results[size]["prune (rows/s)"] = measure_prune(start, size, ARGS.repeat)
        print(f"# {size:,} rows filled in {filled:.1f} s", file=sys.stderr)
    report(results, sizes)


def report(results: dict[int, dict[str, float]], sizes: list[int]) -> None:
    print(
        f"\n{connection.vendor}, median of {ARGS.repeat}, ms (prune: rows/s); "
        f"baseline = {sizes[0]:,} rows"
    )
    header = "".join(f"{size:>14,}" for size in sizes)
    print(f"{'operation':<32}{header}{'ratio':>9}")
    for name in results[sizes[0]]:
        figures = [results[size][name] for size in sizes]
        cells = "".join(
            f"{figure:>14,.0f}" if name.startswith("prune") else f"{figure:>14.2f}"
            for figure in figures
        )
        ratio = figures[-1] / figures[0] if figures[0] else float("nan")
        print(f"{name:<32}{cells}{ratio:>8.2f}x")


if __name__ == "__main__":
    main()
