"""Send-at-commit: the committing process sends its own rows, and falls back to Celery.

Real soketi behind the REST-counting proxy (``down`` refuses connections, a
transient failure); the database in autocommit (``transaction=True``), since
the sender thread reads what was committed. The Celery hand-off is recorded
(``tasks.enqueue``): the broker is not under test here.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pusher_django import client as client_module
from pusher_django import tasks
from pusher_django.models import Delivery
from pusher_django.outbox import relay, sender, trigger_on_commit, writer
from pusher_django.outbox.sender import get_sender
from tests.support.proxy import RestProxy
from tests.testapp.models import Score

pytestmark = pytest.mark.django_db(transaction=True)

PENDING, SENT = Delivery.Status.PENDING, Delivery.Status.SENT


@pytest.fixture
def api(soketi: Any, rest_proxy: RestProxy, settings: Any) -> Iterator[RestProxy]:
    """PUSHER pointed at soketi through the proxy, which starts clean and up."""
    settings.PUSHER = soketi.pusher_settings(PORT=rest_proxy.port)
    rest_proxy.reset()
    rest_proxy.down = False
    yield rest_proxy
    rest_proxy.down = False


@pytest.fixture
def celery(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ``deliver_outbox`` tasks enqueued (from any thread)."""
    sent: list[str] = []

    def enqueue(task: Any, *args: Any, countdown: float | None = None) -> bool:
        sent.append(task.name)
        return True

    monkeypatch.setattr(tasks, "enqueue", enqueue)
    return sent


def settle() -> None:
    assert get_sender().wait_idle()


def statuses() -> list[tuple[str, str, bool]]:
    """(event, status, leased) of every row, in id order."""
    rows = Delivery.objects.order_by("id").values_list("name", "status", "lease_token")
    return [(name, status, token is not None) for name, status, token in rows]


def test_a_commit_sends_its_rows_in_order_without_celery(api: RestProxy, celery: list[str]) -> None:
    with transaction.atomic():
        for n in range(12):
            trigger_on_commit(["private-a", "private-b"], f"e{n}", {"n": n})
        assert all(leased for *_, leased in statuses())  # leased in the INSERT itself
    settle()
    assert statuses() == [(f"e{n}", SENT, False) for n in range(12) for _ in "ab"]
    assert api.posts("/batch_events") == 3  # 24 events, ten per request
    assert celery == []


def test_an_older_row_of_someone_else_holds_its_channel_back(
    api: RestProxy, celery: list[str]
) -> None:
    """A retry waiting on private-a: private-a's new rows go to Celery, private-b's go out."""
    later = timezone.now() + timedelta(minutes=5)
    Delivery.objects.create(channel="private-a", name="retrying", data="{}", available_at=later)
    with transaction.atomic():
        trigger_on_commit(["private-a", "private-b"], "new", {})
    settle()
    rows = Delivery.objects.order_by("id").values_list("channel", "name", "status", "lease_token")
    assert list(rows) == [
        ("private-a", "retrying", PENDING, None),
        ("private-a", "new", PENDING, None),  # released: the relay sends it after its head
        ("private-b", "new", SENT, None),
    ]
    assert celery == ["pusher_django.deliver_outbox"]
    Delivery.objects.filter(name="retrying").update(available_at=timezone.now())
    assert relay.deliver().sent == 2  # in order, as one unbroken run


def test_a_transient_failure_defers_the_rows_and_asks_celery(
    api: RestProxy, celery: list[str]
) -> None:
    api.down = True
    trigger_on_commit("private-a", "e", {})
    settle()
    row = Delivery.objects.get()
    assert (row.status, row.attempts, row.lease_token) == (PENDING, 1, None)
    assert row.available_at > row.created_at  # the relay's backoff
    assert api.refused > 0
    assert celery == ["pusher_django.deliver_outbox"]


def test_a_full_queue_or_a_stopped_thread_hands_off_to_celery(
    api: RestProxy, celery: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("SQLite sends from the committing thread: there is no queue")
    monkeypatch.setattr(sender.Sender, "submit", lambda self, job: False)
    trigger_on_commit("private-a", "e", {})
    row = Delivery.objects.get()
    assert (row.status, row.lease_token) == (PENDING, None)  # released at once, claimable
    assert celery == ["pusher_django.deliver_outbox"]
    assert relay.deliver().sent == 1


def test_the_queue_takes_no_more_than_its_bytes_of_event_data(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past ``QUEUE_BYTES`` a commit goes to Celery (the caller's fall-back) instead."""
    release, sent = threading.Event(), list[sender.Job]()

    def send(jobs: list[sender.Job]) -> None:  # stuck, as behind a slow Pusher
        release.wait(10)
        sent.extend(jobs)

    monkeypatch.setattr(sender, "send", send)
    now = timezone.now()

    def job(n: int) -> sender.Job:
        row = writer.LeasedRow(n, "private-a", "e", "x" * 60, False, False, "", now, "t", now)
        return sender.Job("default", "t", (row,))

    busy = sender.Sender(max_bytes=100)
    try:
        assert busy.submit(job(1))  # taken at once: the thread is sending it
        deadline = time.monotonic() + 5
        while busy.queued_bytes and time.monotonic() < deadline:
            time.sleep(0.01)
        assert busy.submit(job(2))  # waits in the queue: 60 bytes
        assert not busy.submit(job(3))  # 120 would be over 100
        assert busy.queued_bytes == 60
    finally:
        release.set()
        busy.stop(timeout=5)
    assert [j.ids for j in sent] == [[1], [2]]
    assert busy.queued_bytes == 0


def test_on_sqlite_the_committing_thread_sends_before_the_commit_returns(
    api: RestProxy, celery: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite has one writer at a time: a sender thread would wait behind the next commits."""
    if connection.vendor != "sqlite":
        pytest.skip("the other databases send from the sender thread")
    monkeypatch.setattr(sender.Sender, "submit", lambda self, job: pytest.fail("queued"))
    trigger_on_commit("private-a", "e", {})  # autocommit: the hand-off runs before this returns
    assert statuses() == [("e", SENT, False)]
    assert celery == []


def test_a_rolled_back_savepoint_sends_none_of_its_rows(api: RestProxy, celery: list[str]) -> None:
    """The sender sends rows as written; the rows a savepoint took back must not go out."""
    with transaction.atomic():
        trigger_on_commit("private-a", "kept-1", {})
        with pytest.raises(RuntimeError), transaction.atomic():
            trigger_on_commit("private-a", "dropped", {})
            raise RuntimeError
        trigger_on_commit("private-a", "kept-2", {})
    settle()
    assert statuses() == [("kept-1", SENT, False), ("kept-2", SENT, False)]
    assert api.event_names == ["kept-1", "kept-2"]


def test_a_stopped_sender_hands_its_queue_to_celery(api: RestProxy, celery: list[str]) -> None:
    stopped = sender.Sender(size=1)
    stopped.stop(timeout=0.5)
    job = sender.Job("default", "token", ())
    assert stopped.submit(job) is False


def test_merging_folds_into_this_transactions_leased_row(api: RestProxy, celery: list[str]) -> None:
    with transaction.atomic():
        score = Score.objects.create(player="ada", points=1)
        for points in (2, 3):
            score.points = points
            score.save()
        (row,) = Delivery.objects.filter(channel="private-scores")
        assert row.lease_token is not None
    settle()
    row = Delivery.objects.get(channel="private-scores")
    assert (row.name, row.status) == ("score.created", SENT)
    assert '"points":3' in row.data
    assert api.posts("/events") == 1  # one event: the single-event endpoint


def test_a_window_leaves_rows_unleased_for_celery(
    api: RestProxy, celery: list[str], settings: Any
) -> None:
    settings.PUSHER = {**settings.PUSHER, "OUTBOX": {"COALESCE_WINDOW": 60}}
    Score.objects.create(player="w", points=1)
    settle()
    row = Delivery.objects.get(channel="private-scores")
    assert (row.status, row.lease_token) == (PENDING, None)
    assert celery == ["pusher_django.deliver_outbox"]
    assert api.posts("/events") + api.posts("/batch_events") == 0


def test_a_process_that_dies_with_rows_queued_leaves_them_to_the_lease(
    api: RestProxy, celery: list[str], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hand-off never happens (the process died): nobody claims before the lease ends."""
    settings.PUSHER = {**settings.PUSHER, "OUTBOX": {"LEASE": 1}}
    monkeypatch.setattr(sender, "hand_off", lambda *args: None)
    trigger_on_commit("private-a", "orphan", {})
    assert relay.deliver().sent == 0  # leased to the dead transaction
    Delivery.objects.update(lease_until=timezone.now() - timedelta(seconds=1))
    assert relay.deliver().sent == 1
    assert statuses() == [("orphan", SENT, False)]


def test_send_at_commit_off_writes_unleased_rows_for_celery(
    api: RestProxy, celery: list[str], settings: Any
) -> None:
    settings.PUSHER = {**settings.PUSHER, "OUTBOX": {"SEND_AT_COMMIT": False}}
    trigger_on_commit("private-a", "e", {})
    assert statuses() == [("e", PENDING, False)]
    assert celery == ["pusher_django.deliver_outbox"]


def test_a_lease_that_ran_out_before_the_commit_goes_to_celery(
    api: RestProxy, celery: list[str], settings: Any
) -> None:
    """A transaction longer than the lease: its rows are anyone's, so the relay's way sends them."""
    settings.PUSHER = {**settings.PUSHER, "OUTBOX": {"LEASE": 0.05}}
    with transaction.atomic():
        trigger_on_commit("private-a", "slow", {})
        time.sleep(0.1)
    settle()
    assert celery == ["pusher_django.deliver_outbox"]
    assert api.posts("/events") == 0
    assert relay.deliver().sent == 1


def test_a_commit_reads_none_of_its_rows_back(
    api: RestProxy, celery: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows go out as written: two checks and one mark, and no statement reads a row."""
    send, jobs = sender.send, list[sender.Job]()
    monkeypatch.setattr(sender, "send", jobs.extend)  # keep the jobs for this thread to send
    with transaction.atomic():
        for n in range(3):
            trigger_on_commit(["private-a", "private-b"], f"e{n}", {"n": n})
    settle()
    with CaptureQueriesContext(connection) as captured:
        send(jobs)
    statements = [query["sql"] for query in captured.captured_queries]
    assert sorted(sql.split()[0] for sql in statements) == ["SELECT", "SELECT", "UPDATE"]
    assert all(sql.startswith(("SELECT 1 FROM", "UPDATE")) for sql in statements), statements
    assert statuses() == [(f"e{n}", SENT, False) for n in range(3) for _ in "ab"]
    assert api.posts("/batch_events") == 1
    assert celery == []


def test_a_bulk_write_keeps_no_data_for_the_sender_which_reads_its_rows(
    api: RestProxy, celery: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``CARRIED_BYTES`` the queue holds ids, not data: memory stays bounded."""
    monkeypatch.setattr(writer, "CARRIED_BYTES", 100)
    send, jobs = sender.send, list[sender.Job]()
    monkeypatch.setattr(sender, "send", jobs.extend)
    with transaction.atomic():
        for n in range(3):
            trigger_on_commit("private-a", f"e{n}", {"text": "x" * 60})
    settle()
    (job,) = jobs
    assert not job.exact
    assert [row.data for row in job.rows] == ["", "", ""]
    sent: list[dict[str, Any]] = []

    def send_events(client: Any, events: list[dict[str, Any]]) -> None:
        sent.extend(events)
        client_module.send_events(client, events)

    monkeypatch.setattr(relay, "send_events", send_events)
    send(jobs)
    assert [json.loads(event["data"])["text"] for event in sent] == ["x" * 60] * 3  # read back
    assert statuses() == [(f"e{n}", SENT, False) for n in range(3)]
    assert api.posts("/batch_events") == 1
    assert celery == []
