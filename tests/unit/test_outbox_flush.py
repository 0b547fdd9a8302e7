"""pusher_django's database backends: a transaction's outbox rows in one INSERT before COMMIT.

These run where the test database is reached through ``pusher_django.db.*``
(``TEST_OUTBOX_FLUSH=1``: the PostgreSQL, MariaDB and Django 5.2 lines of the
matrix); every other outbox test runs there too, on the same guarantees. The
database is in autocommit (``transaction=True``): commits and rollbacks here
are real ones.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connections, transaction
from django.test.utils import CaptureQueriesContext

from pusher_django.db import MAX_BUFFERED, OutboxFlushMixin
from pusher_django.models import Delivery
from pusher_django.outbox import statements, trigger_on_commit
from tests.testapp.models import Message, Room

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def flushing(handoffs: list[Any]) -> None:
    if not isinstance(connections["default"], OutboxFlushMixin):
        pytest.skip("the test database is not reached through pusher_django.db (TEST_OUTBOX_FLUSH)")


def names() -> list[str]:
    return list(Delivery.objects.order_by("id").values_list("name", flat=True))


def outbox_inserts(queries: CaptureQueriesContext) -> list[int]:
    """The positions of the outbox INSERTs among the captured statements."""
    table = Delivery._meta.db_table
    return [
        i
        for i, query in enumerate(queries.captured_queries)
        if query["sql"].startswith("INSERT") and table in query["sql"].split("(")[0]
    ]


def test_a_transaction_of_saves_writes_its_rows_in_one_insert_before_the_commit() -> None:
    room = Room.objects.create(name="r")
    with CaptureQueriesContext(connections["default"]) as queries, transaction.atomic():
        for n in range(10):
            Message.objects.create(room=room, text=f"m{n}")
    (position,) = outbox_inserts(queries)
    saves = [i for i, q in enumerate(queries.captured_queries) if "testapp_message" in q["sql"]]
    assert len(saves) == 10
    assert position > max(saves)  # after the last save, inside the transaction
    assert Delivery.objects.count() == 10
    assert Message.objects.count() == 10


def test_a_delivery_query_in_the_transaction_sees_the_rows_written_so_far() -> None:
    with transaction.atomic():
        trigger_on_commit("private-a", "one", {})
        assert names() == ["one"]
        trigger_on_commit("private-a", "two", {})
    assert names() == ["one", "two"]


def test_rolled_back_savepoints_drop_their_rows_kept_or_written() -> None:
    with transaction.atomic():
        trigger_on_commit("private-a", "kept-1", {})
        with pytest.raises(RuntimeError), transaction.atomic():
            trigger_on_commit("private-a", "written-then-dropped", {})
            assert len(names()) == 2  # written to the database inside the savepoint
            trigger_on_commit("private-a", "kept-then-dropped", {})
            with transaction.atomic():
                trigger_on_commit("private-a", "inner, released, dropped with the outer", {})
            raise RuntimeError
        with pytest.raises(RuntimeError), transaction.atomic():
            with transaction.atomic():
                trigger_on_commit("private-a", "inner-dropped", {})
            raise RuntimeError
        trigger_on_commit("private-a", "kept-2", {})
        with transaction.atomic():
            trigger_on_commit("private-a", "released", {})
    assert names() == ["kept-1", "kept-2", "released"]


def test_a_rollback_writes_nothing() -> None:
    with (
        CaptureQueriesContext(connections["default"]) as queries,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        trigger_on_commit("private-a", "lost", {})
        raise RuntimeError
    assert outbox_inserts(queries) == []
    with transaction.atomic():
        trigger_on_commit("private-a", "next", {})
    assert names() == ["next"]  # nothing of the rolled-back transaction is left over


def test_a_failed_insert_at_commit_rolls_the_saves_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """The outbox INSERT is made to fail (a database refusing it on demand is not available)."""
    room = Room.objects.create(name="r")

    def refused(*args: Any, **kwargs: Any) -> list[int]:
        raise DatabaseError("refused")

    monkeypatch.setattr(statements, "insert", refused)
    with pytest.raises(DatabaseError, match="refused"), transaction.atomic():
        Message.objects.create(room=room, text="never committed without its event")
    monkeypatch.undo()
    assert Message.objects.count() == 0
    assert Delivery.objects.count() == 0


def test_a_failed_insert_inside_the_transaction_marks_it_for_rollback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A caller that swallows the error still cannot commit the saves without their rows."""
    room = Room.objects.create(name="r")

    def refused(*args: Any, **kwargs: Any) -> list[int]:
        raise DatabaseError("refused")

    with transaction.atomic():
        Message.objects.create(room=room, text="lost with its event")
        with monkeypatch.context() as patch:
            patch.setattr(statements, "insert", refused)
            with pytest.raises(DatabaseError, match="refused"):
                Delivery.objects.exists()  # a query writes the kept rows first
        assert connections["default"].needs_rollback  # the block rolls back as it ends
    assert Message.objects.count() == 0


def test_outside_a_transaction_rows_are_written_at_once() -> None:
    with CaptureQueriesContext(connections["default"]) as queries:
        trigger_on_commit("private-a", "autocommit", {})
        assert len(outbox_inserts(queries)) == 1
    assert names() == ["autocommit"]


def test_at_most_max_buffered_writes_wait_in_memory() -> None:
    with CaptureQueriesContext(connections["default"]) as queries, transaction.atomic():
        for n in range(MAX_BUFFERED + 1):
            trigger_on_commit("private-a", f"e{n}", {})
    assert len(outbox_inserts(queries)) >= 2
    assert names() == [f"e{n}" for n in range(MAX_BUFFERED + 1)]
