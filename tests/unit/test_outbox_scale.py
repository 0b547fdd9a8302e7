"""The outbox table at size: exact channel lookups, index-backed plans, bounded counts, prune.

The timings at 10^5-10^7 rows are in ``benchmarks/outbox_scale.py``; these
tests pin what makes them flat: every statement of the delivery path and of
the Deliveries admin reads an index range, and no count reads the table.
They run on whichever database ``DATABASE_URL`` names.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from django.contrib.admin import site
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pusher_django import history
from pusher_django.models import Delivery
from pusher_django.outbox import relay, statements

pytestmark = pytest.mark.django_db

PENDING, SENT, FAILED = Delivery.Status.PENDING, Delivery.Status.SENT, Delivery.Status.FAILED
TABLE = Delivery._meta.db_table
ADMIN = "/admin/pusher_django/delivery/"
DB = "default"


def add(channel: str, n: int = 1, **fields: Any) -> list[int]:
    made = Delivery.objects.bulk_create(
        [Delivery(channel=channel, name="e", data="{}", **fields) for _ in range(n)]
    )
    return [row.pk for row in made]


def sent(channel: str, n: int = 1, age: float = 0.0) -> list[int]:
    return add(channel, n, status=SENT, sent_at=timezone.now() - timedelta(seconds=age))


def test_channel_lookups_compare_exactly() -> None:
    """Channel names differ by case alone; MariaDB's default collation would merge them."""
    lower, upper = sent("private-room"), sent("private-ROOM")
    assert list(Delivery.objects.filter(channel="private-room").values_list("id", flat=True)) == (
        lower
    )
    assert history.position("private-ROOM") == upper[0]
    assert history.position("private-Room") == 0


def test_prune_deletes_in_bounded_batches_oldest_first(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.PUSHER = {**settings.PUSHER, "OUTBOX": {"RETENTION": 60}}
    monkeypatch.setattr(relay, "PRUNE_BATCH", 2)
    for age in range(120, 125):
        sent("private-a", age=age)
    keep = sent("private-a", 2) + add("private-a", status=FAILED) + add("private-a")
    with CaptureQueriesContext(connection) as captured:
        assert relay.prune() == 5
    deletes = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("DELETE")]
    assert len(deletes) == 3  # 2 + 2 + 1: each batch is its own short statement
    assert all(" IN (" not in sql for sql in deletes)  # a range, not a list of ids
    assert sorted(Delivery.objects.values_list("id", flat=True)) == keep


def test_sent_rows_are_counted_only_up_to_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    sent("private-a", 5)
    add("private-a", status=FAILED)
    assert relay.backlog().sent == 5
    monkeypatch.setattr(relay, "COUNT_CAP", 3)
    monkeypatch.setattr(relay, "estimated_rows", lambda using=None: 1000)
    assert relay.backlog().sent == 999  # the estimate, less the open rows


@pytest.fixture
def staff(admin_client: Client) -> Client:
    return admin_client


def listed(client: Client, query: str = "") -> list[int]:
    response = client.get(ADMIN + query)
    assert response.status_code == 200
    return [row.pk for row in response.context["cl"].result_list]


def test_the_admin_opens_on_undelivered_rows_and_lists_sent_ones_newest_sent_first(
    staff: Client,
) -> None:
    retried = sent("private-b", age=1)  # the smallest id, sent last
    old, new = sent("private-a", age=60), sent("private-a", age=10)
    failed, pending = add("private-a", status=FAILED), add("private-b")
    assert listed(staff) == pending + failed
    assert listed(staff, "?status=sent") == retried + new + old
    assert listed(staff, "?status=all") == pending + failed + new + old + retried
    assert listed(staff, "?status=all&channel=private-b") == pending + retried
    assert listed(staff, f"?status=all&q={failed[0]}") == failed
    assert listed(staff, "?status=all&q=private-b") == pending + retried
    assert listed(staff, "?status=all&q=private-B") == []


def test_the_admin_never_counts_the_whole_table(
    staff: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(relay, "COUNT_CAP", 3)
    sent("private-a", 5)
    with CaptureQueriesContext(connection) as captured:
        response = staff.get(ADMIN + "?status=all")
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts
    for sql in counts:  # the open rows are counted exactly: they are few, and indexed apart
        assert "LIMIT" in sql.upper() or "= 'pending'" in sql or "= 'failed'" in sql, sql
    assert response.context["cl"].result_count == 5  # the id span stands in for the estimate


def _full_scans(sql: str) -> list[str]:
    """The plan lines of ``sql`` that read the whole outbox table."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql)
            return [row[0] for row in cursor.fetchall() if f"Seq Scan on {TABLE}" in row[0]]
        if connection.vendor == "mysql":
            # MariaDB reads a small table whole whatever its indexes: at this size only
            # "no index it could use" is a finding (the benchmark shows the plans at size).
            cursor.execute("EXPLAIN " + sql)
            columns = [column[0] for column in cursor.description]
            plan = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
            return [
                str(row)
                for row in plan
                if row["table"] == TABLE and row["type"] == "ALL" and not row["possible_keys"]
            ]
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        lines = [str(row[-1]) for row in cursor.fetchall()]
    # SQLite shows a rowid walk as a SCAN too: fine when only a LIMIT stops it.
    bounded = " WHERE " not in sql and re.search(r"LIMIT \d+\)?( subquery)?$", sql)
    return [line for line in lines if line == f"SCAN {TABLE}" and not bounded]


def _statements(operation: Callable[[], Any]) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        operation()
    return [
        q["sql"]
        for q in captured.captured_queries
        if TABLE in q["sql"] and q["sql"].lstrip().upper().startswith(("SELECT", "UPDATE"))
    ]


def test_every_statement_of_the_delivery_path_and_the_admin_reads_an_index(
    staff: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(site._registry[Delivery], "list_per_page", 2)  # pages, as at size
    quiet = sent("private-quiet", 3, age=30)
    sent("private-busy", 20, age=20)
    failed = add("private-busy", 2, status=FAILED)
    waiting = add("private-busy", 3)
    add("private-later", 2, available_at=timezone.now() + timedelta(hours=1))
    token = uuid.uuid4()
    operations: dict[str, Callable[[], Any]] = {
        "claim": lambda: relay.claim("default"),
        "next_due": relay.next_due,
        "backlog": relay.backlog,
        "history, far": lambda: history.catch_up("private-quiet", quiet[0]),
        "history, none": lambda: history.catch_up("private-unused", 7),
        "retry": lambda: relay.retry(failed),
        "prune": lambda: relay.prune(now=timezone.now() + timedelta(days=2)),
        "order at commit": lambda: statements.others_before(waiting[1:], {"private-busy"}, DB),
        "after commit": lambda: statements.free_after({"private-busy"}, waiting[0], DB),
        "mark sent": lambda: statements.mark_sent(waiting, {token}, DB, timezone.now()),
    }
    views = ("", "?status=sent", "?status=failed", "?status=all")
    for query in (*views, "?status=all&channel=private-quiet", "?status=sent&channel=private-b"):
        operations[f"admin {query}"] = partial(staff.get, ADMIN + query)
    scans = {
        f"{name}: {sql}": scans
        for name, operation in operations.items()
        for sql in _statements(operation)
        if (scans := _full_scans(sql))
    }
    assert scans == {}, "\n".join(scans)


@pytest.mark.django_db(transaction=True)
def test_marking_sent_outside_a_transaction_relaxes_only_its_own_commit() -> None:
    """On PostgreSQL the relay's mark-sent waits for no WAL flush, and the session keeps its own."""
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's")
    token = uuid.uuid4()
    ids = add("private-a", 3, lease_token=token, lease_until=timezone.now() + timedelta(minutes=1))
    with CaptureQueriesContext(connection) as captured:
        assert statements.mark_sent(ids, {token}, DB, timezone.now()) == 3
    (sql,) = [q["sql"] for q in captured.captured_queries]
    assert "set_config('synchronous_commit', 'off', true)" in sql
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)
    assert set(Delivery.objects.values_list("status", flat=True)) == {SENT}
    with transaction.atomic(), CaptureQueriesContext(connection) as inside:
        assert _full_scans(sql) == []
        statements.mark_sent(ids, {token}, DB, timezone.now())  # a caller's transaction: as is
    assert "set_config" not in inside.captured_queries[-1]["sql"]
