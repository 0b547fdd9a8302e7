"""The outbox table: rows in the caller's transaction, hand-off, coalescing, claims, retries.

Offline: the REST API here is a closed port (``PORT: 9`` in the test
settings), which is a real connection refusal, so "Pusher down" needs no mock.
Sending to a live server is covered by the integration tests.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import TestCase
from django.utils import timezone

from pusher_django import tasks
from pusher_django.conf import find_problems
from pusher_django.exceptions import PusherValidationError
from pusher_django.models import Delivery
from pusher_django.outbox import relay, trigger_on_commit
from pusher_django.outbox.events import wire_data
from pusher_django.testing import capture_broadcasts
from tests.testapp.models import Message, Room, Score
from tests.unit.helpers import celery_hand_off

pytestmark = pytest.mark.django_db

PENDING, SENT, FAILED = Delivery.Status.PENDING, Delivery.Status.SENT, Delivery.Status.FAILED


def rows(**filters: Any) -> list[tuple[str, str, str]]:
    return list(
        Delivery.objects.filter(**filters).order_by("id").values_list("channel", "name", "data")
    )


def test_events_are_rows_of_the_callers_transaction(handoffs: list[Any]) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks, transaction.atomic():
        trigger_on_commit("private-a", "one", {"n": 1})
        trigger_on_commit(["private-a", "private-b"], "two", [1, 2])
        assert len(rows()) == 3  # written before the commit
    assert rows() == [
        ("private-a", "one", '{"n":1}'),
        ("private-a", "two", "[1,2]"),
        ("private-b", "two", "[1,2]"),
    ]
    assert len(callbacks) == 2  # one per write, acting once
    assert handoffs == [("pusher_django.deliver_outbox", "default")]


def test_rollback_and_savepoint_rollback_remove_their_rows(handoffs: list[Any]) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        trigger_on_commit("private-a", "lost", {})
        raise RuntimeError
    with TestCase.captureOnCommitCallbacks(execute=True), transaction.atomic():
        trigger_on_commit("private-a", "kept-1", {})
        with pytest.raises(RuntimeError), transaction.atomic():
            trigger_on_commit("private-a", "dropped", {})
            raise RuntimeError
        trigger_on_commit("private-a", "kept-2", {})
    assert [name for _, name, _ in rows()] == ["kept-1", "kept-2"]
    assert len(handoffs) == 1


def test_each_committed_transaction_hands_off_once(handoffs: list[Any]) -> None:
    for n in range(3):
        with TestCase.captureOnCommitCallbacks(execute=True), transaction.atomic():
            trigger_on_commit("private-a", f"e{n}", {})
            trigger_on_commit("private-a", f"f{n}", {})
    assert len(handoffs) == 3


def test_a_raising_earlier_callback_does_not_lose_the_events(handoffs: list[Any]) -> None:
    """Another app's failing on_commit callback stops ours; the row is still committed."""

    def broken() -> None:
        raise RuntimeError("someone else's callback")

    with (
        pytest.raises(RuntimeError),
        TestCase.captureOnCommitCallbacks(execute=True),
        transaction.atomic(),
    ):
        transaction.on_commit(broken)
        trigger_on_commit("private-a", "survives", {})
    assert handoffs == []
    assert rows(status=PENDING) == [("private-a", "survives", "{}")]


def test_bad_events_fail_at_save_time(settings: Any) -> None:
    with pytest.raises(PusherValidationError, match="channel"):
        trigger_on_commit("bad channel", "e", {})
    with pytest.raises(PusherValidationError, match="JSON"):
        trigger_on_commit("private-a", "e", object())
    with pytest.raises(PusherValidationError, match="socket"):
        trigger_on_commit("private-a", "e", {}, socket_id="nope")
    with pytest.raises(PusherValidationError, match="NUL"):
        trigger_on_commit("private-a", "e", "raw \x00 text")
    with pytest.raises(PusherValidationError, match="Unicode"):
        trigger_on_commit("private-a", "e", {"text": "lone \ud800 surrogate"})
    with pytest.raises(PusherValidationError, match="Event name may not contain a NUL"):
        trigger_on_commit("private-a", "e\x00", {})
    with pytest.raises(PusherValidationError, match="Event name is not valid Unicode"):
        trigger_on_commit("private-a", "e\udfff", {})
    big = {"text": "x" * 10_200}  # under 10 KB as JSON, over it with the event id
    with pytest.raises(PusherValidationError, match="bytes"):
        trigger_on_commit("private-a", "e", big)
    almost = {"text": "x" * 7_700}  # fits in plain text, not once encrypted
    trigger_on_commit("private-a", "e", almost)
    with pytest.raises(PusherValidationError, match="once encrypted"):
        trigger_on_commit("private-encrypted-a", "e", almost)
    settings.PUSHER = {**settings.PUSHER, "ENCRYPTION_MASTER_KEY_BASE64": None}
    with pytest.raises(PusherValidationError, match="plaintext"):
        trigger_on_commit("private-encrypted-a", "e", {})
    assert rows() == [("private-a", "e", json.dumps(almost, separators=(",", ":")))]


def test_the_event_id_travels_as_the_first_key_of_object_data() -> None:
    assert wire_data('{"a":1}', True, 42, "_pusher_id") == '{"_pusher_id":42,"a":1}'
    assert wire_data("{}", True, 7, "_pusher_id") == '{"_pusher_id":7}'
    assert wire_data("[1]", False, 7, "_pusher_id") == "[1]"
    assert wire_data('{"a":1}', True, 7, None) == '{"a":1}'
    assert json.loads(wire_data('{"q":"a\\"b"}', True, 3, 'we"ird')) == {'we"ird': 3, "q": 'a"b'}


def test_a_callers_own_id_key_is_replaced_not_duplicated() -> None:
    trigger_on_commit("private-a", "e", {"_pusher_id": "forged", "x": 1})
    assert rows() == [("private-a", "e", '{"x":1}')]


# -- coalescing ------------------------------------------------------------------------


def score_events() -> list[tuple[str, dict[str, Any]]]:
    return [(name, json.loads(data)) for _, name, data in rows(channel="private-scores")]


@pytest.mark.django_db(transaction=True)
def test_coalescing_merges_one_transactions_updates_into_the_final_state(
    handoffs: list[Any],
) -> None:
    with transaction.atomic():
        score = Score.objects.create(player="ada", points=1)
        for points in (2, 3, 4):
            score.points = points
            score.save()
    assert score_events() == [("score.created", {"player": "ada", "points": 4})]
    with transaction.atomic():
        for points in (5, 6):
            score.points = points
            score.save()
    assert score_events()[1:] == [("score.updated", {"player": "ada", "points": 6})]


def test_created_then_deleted_in_one_transaction_sends_nothing() -> None:
    with transaction.atomic():
        score = Score.objects.create(player="gone")
        score.points = 9
        score.save()
        score.delete()
    assert score_events() == []


@pytest.mark.django_db(transaction=True)
def test_updated_then_deleted_becomes_deleted(handoffs: list[Any]) -> None:
    score = Score.objects.create(player="bob")
    with transaction.atomic():
        score.points = 3
        score.save()
        score.delete()
    assert [name for name, _ in score_events()] == ["score.created", "score.deleted"]


def test_coalescing_respects_a_rolled_back_savepoint() -> None:
    with transaction.atomic():
        score = Score.objects.create(player="sp", points=1)
        with pytest.raises(RuntimeError), transaction.atomic():
            score.points = 99
            score.save()
            raise RuntimeError
        score.points = 1  # the row is back to 1 in the database too
    assert score_events() == [("score.created", {"player": "sp", "points": 1})]


@pytest.mark.django_db(transaction=True)
def test_a_window_merges_across_transactions_until_a_worker_claims(
    settings: Any, handoffs: list[Any]
) -> None:
    settings.PUSHER = {**settings.PUSHER, "OUTBOX": {"COALESCE_WINDOW": 60}}
    score = Score.objects.create(player="w", points=1)
    for points in (2, 3):
        score.points = points
        score.save()  # separate transactions (autocommit)
    assert score_events() == [("score.created", {"player": "w", "points": 3})]
    row = Delivery.objects.get(channel="private-scores")
    assert row.available_at > timezone.now() + timedelta(seconds=50)
    assert relay.claim("default") == []  # not due yet
    Delivery.objects.update(available_at=timezone.now())
    assert [r.pk for r in relay.claim("default")] == [row.pk]
    score.points = 4
    score.save()  # the claimed row is not touched: a new event
    assert [e["points"] for _, e in score_events()] == [3, 4]


def test_messages_do_not_coalesce_by_default() -> None:
    room = Room.objects.create(name="r")
    with transaction.atomic():
        message = Message.objects.create(room=room, text="a")
        message.text = "b"
        message.save()
    assert [name for _, name, _ in rows()] == ["message.created", "message.updated"]


# -- claims ------------------------------------------------------------------------------


def add(channel: str, n: int = 1, **fields: Any) -> list[int]:
    made = Delivery.objects.bulk_create(
        [Delivery(channel=channel, name="e", data="{}", **fields) for _ in range(n)]
    )
    return [row.pk for row in made]


def test_a_claim_leases_rows_in_id_order_up_to_the_claim_size(settings: Any) -> None:
    settings.PUSHER = {**settings.PUSHER, "OUTBOX": {"CLAIM_SIZE": 4}}
    ids = add("private-a", 3) + add("private-b", 3)
    claimed = relay.claim("default")
    assert [row.pk for row in claimed] == ids[:4]
    assert len({row.lease_token for row in claimed}) == 1
    assert relay.claim("default") == []  # the rest of private-b waits behind its lease
    other = add("private-c")
    assert [row.pk for row in relay.claim("default")] == other


def test_a_channel_waiting_for_a_retry_holds_back_only_its_own_events() -> None:
    later = timezone.now() + timedelta(minutes=5)
    waiting = add("private-a", available_at=later) + add("private-a", 2)
    other = add("private-b", 2)
    assert [row.pk for row in relay.claim("default")] == other
    Delivery.objects.filter(pk__in=other).update(status=SENT)
    assert relay.next_due() == Delivery.objects.get(pk=waiting[0]).available_at


def test_rows_behind_another_workers_lease_wait_for_it() -> None:
    now = timezone.now()
    add("private-a", lease_until=now + timedelta(seconds=30))
    behind = add("private-a", 2)
    assert relay.claim("default") == []
    Delivery.objects.exclude(pk__in=behind).update(lease_until=now - timedelta(seconds=1))
    assert len(relay.claim("default")) == 3  # an expired lease is free again


def test_unbroken_runs_stop_at_a_row_someone_else_holds() -> None:
    a = add("private-a", 3)
    b = add("private-b", 1)
    picked = [(a[0], "private-a"), (a[2], "private-a"), (b[0], "private-b")]
    assert relay._unbroken_runs(picked, Delivery.objects.all()) == [a[0], b[0]]


# -- sending, retries, dead letters (Pusher is a closed port here) ------------------------------


def test_unreachable_pusher_defers_with_backoff_then_dead_letters_past_max_age(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.PUSHER = {
        **settings.PUSHER,
        "CELERY": {"MAX_RETRIES": 1, "RETRY_BACKOFF": 0},
        "OUTBOX": {"MAX_AGE": 60, "SEND_AT_COMMIT": False},  # the relay sends, here
    }
    trigger_on_commit("private-encrypted-a", "secret-plan", {"step": "attack at dawn"})
    for attempt in range(1, 4):  # MAX_RETRIES does not count for outbox rows
        report = relay.deliver()
        row = Delivery.objects.get()
        assert (report.deferred, row.status, row.attempts) == (1, PENDING, attempt)
        assert row.lease_token is None
        assert "Could not reach Pusher" in row.error
        assert report.next_due is not None
    Delivery.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    with caplog.at_level(logging.DEBUG, logger="pusher_django"):
        report = relay.deliver()
    row.refresh_from_db()
    assert (report.failed, row.status, row.attempts) == (1, FAILED, 4)
    assert "gave up after 60 s (OUTBOX['MAX_AGE'])" in row.error
    assert f"#{row.pk} 'secret-plan' on 'private-encrypted-a' (25 bytes of data)" in caplog.text
    assert "attack at dawn" not in caplog.text  # encrypted data never reaches a log
    assert relay.next_due() is None
    assert relay.retry([row.pk]) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.error) == (PENDING, 0, "")


def test_no_channels_data_reaches_the_logs(caplog: pytest.LogCaptureFixture, settings: Any) -> None:
    """Plain channels too: one rule for every channel is the one that cannot be got wrong."""
    celery_hand_off(settings)  # the relay sends, here
    trigger_on_commit("private-a", "e", {"card": "4111-1111"})
    with caplog.at_level(logging.DEBUG, logger="pusher_django"):
        relay.deliver()
        old = timezone.now() - timedelta(days=2)
        Delivery.objects.update(created_at=old, available_at=old)
        relay.deliver()
    assert Delivery.objects.get().status == FAILED
    assert "4111" not in caplog.text


def test_a_long_outage_keeps_the_backoff_capped(settings: Any) -> None:
    """Thousands of attempts must not overflow the exponential backoff."""
    settings.PUSHER = {**settings.PUSHER, "CELERY": {"RETRY_BACKOFF_MAX": 30}}
    add("private-a", attempts=5000)
    before = timezone.now()
    report = relay.deliver()
    row = Delivery.objects.get()
    assert (report.deferred, row.status, row.attempts) == (1, PENDING, 5001)
    assert row.available_at <= before + timedelta(seconds=31)


def test_prune_keeps_recent_and_unsent_rows(settings: Any) -> None:
    settings.PUSHER = {**settings.PUSHER, "OUTBOX": {"RETENTION": 60}}
    old = timezone.now() - timedelta(seconds=120)
    add("private-a", status=SENT, sent_at=old)
    recent = add("private-a", status=SENT, sent_at=timezone.now())
    failed = add("private-a", status=FAILED)
    pending = add("private-a")
    assert relay.prune() == 1
    assert sorted(Delivery.objects.values_list("id", flat=True)) == recent + failed + pending


def test_backlog_and_its_warning(settings: Any, caplog: pytest.LogCaptureFixture) -> None:
    settings.PUSHER = {**settings.PUSHER, "OUTBOX": {"BACKLOG_WARNING": 30}}
    add("private-a", 2, created_at=timezone.now() - timedelta(seconds=90))
    add("private-a", status=FAILED)
    with caplog.at_level(logging.WARNING, logger="pusher_django"):
        state = relay.warn_if_behind()
    assert (state.pending, state.failed, state.sent) == (2, 1, 0)
    assert 89 < state.age() < 120
    assert "2 event(s) pending, the oldest for" in caplog.text


def test_command_status_prune_and_once(capsys: pytest.CaptureFixture[str]) -> None:
    add("private-a", status=SENT, sent_at=timezone.now() - timedelta(days=2))
    add("private-a", status=FAILED)
    call_command("pusher_outbox", "status")
    assert "pending 0, failed 1, sent 1" in capsys.readouterr().out
    call_command("pusher_outbox", "prune")
    assert "pruned 1" in capsys.readouterr().out
    call_command("pusher_outbox", "--once")
    assert "relayed 0 event(s)" in capsys.readouterr().out


def test_outbox_settings_are_checked(settings: Any) -> None:
    settings.PUSHER = {
        **settings.PUSHER,
        "OUTBOX": {
            "LEASE": "x",
            "COALESCE_WINDOW": -1,
            "ID_FIELD": "",
            "CLAIM_SIZE": 0,
            "MAX_AGE": 0,
        },
    }
    problems = [p for p in find_problems() if "OUTBOX" in p.message]
    assert any("MAX_AGE" in p.message for p in problems)
    ids = sorted(p.id for p in problems)
    assert ids == [
        "pusher_django.E017",
        "pusher_django.E017",
        "pusher_django.E019",
        "pusher_django.E020",
        "pusher_django.E025",
    ]
    settings.PUSHER = {**settings.PUSHER, "OUTBOX": {"LEASE": 5}}
    assert [p.id for p in find_problems()] == ["pusher_django.W002"]


# -- the test helper inside users' TestCases ----------------------------------------------------


class CaptureInsideTestCase(TestCase):
    """The three ways the previous helper broke a user's own ``TestCase`` (issue #13)."""

    room: Room

    @classmethod
    def setUpTestData(cls) -> None:
        cls.room = Room.objects.create(name="fixture")
        Message.objects.create(room=cls.room, text="from setUpTestData")

    def test_broadcast_in_setuptestdata_then_two_saves(self) -> None:
        with capture_broadcasts() as sent:
            Message.objects.create(room=self.room, text="one")
            Message.objects.create(room=self.room, text="two")
        assert [e["data"]["text"] for e in sent.events] == ["one", "two"]

    def test_save_before_capture_on_commit_callbacks(self) -> None:
        Message.objects.create(room=self.room, text="before")
        with capture_broadcasts() as sent, self.captureOnCommitCallbacks(execute=True) as hooks:
            Message.objects.create(room=self.room, text="inside")
        assert [e["data"]["text"] for e in sent.events] == ["inside"]
        assert hooks == []  # capture mode registers no hand-off

    def test_the_projects_own_on_commit_callback_still_runs(self) -> None:
        ran: list[str] = []
        with capture_broadcasts() as sent, self.captureOnCommitCallbacks(execute=True) as hooks:
            Message.objects.create(room=self.room, text="x")
            transaction.on_commit(lambda: ran.append("mine"))
        assert ran == ["mine"]
        assert len(hooks) == 1
        sent.assert_broadcast("message.created", data={"text": "x"})

    def test_without_the_helper_callbacks_are_exactly_the_users(self) -> None:
        ran: list[str] = []
        with self.captureOnCommitCallbacks(execute=False) as hooks:
            transaction.on_commit(lambda: ran.append("first"))
            Message.objects.create(room=self.room, text="y")
            transaction.on_commit(lambda: ran.append("last"))
        for hook in hooks:
            if getattr(hook, "func", None) is None:  # the user's lambdas, not our hand-off
                hook()
        assert ran == ["first", "last"]
        assert len(hooks) == 3  # nothing reordered, removed or moved last


@pytest.mark.django_db(transaction=True)
def test_racing_claimers_never_share_a_row_or_overtake_within_a_channel() -> None:
    """Four threads (four database connections) claim and mark until the queue is empty."""
    import threading

    from django.db import connection

    ids = {channel: add(channel, 40) for channel in ("private-a", "private-b", "private-c")}
    claimed: list[int] = []
    overtaken: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            for _ in range(200):
                rows = relay.claim("default")
                if not rows:
                    if not Delivery.objects.filter(status=PENDING).exists():
                        return
                    continue
                for row in rows:
                    earlier = Delivery.objects.filter(channel=row.channel, id__lt=row.pk)
                    if earlier.exclude(status=SENT).exclude(pk__in=[r.pk for r in rows]).exists():
                        overtaken.append(row.pk)
                with lock:
                    claimed.extend(row.pk for row in rows)
                Delivery.objects.filter(pk__in=[r.pk for r in rows]).update(status=SENT)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(claimed) == sorted(i for run in ids.values() for i in run)
    assert overtaken == []


def test_tasks_waiting_for_the_same_retry_schedule_one_wake_up(
    handoffs: list[Any], settings: Any
) -> None:
    later = timezone.now() + timedelta(seconds=30)
    add("private-a", available_at=later)
    for _ in range(5):
        tasks._wake_at(relay.next_due(), "default")
    assert handoffs == [("pusher_django.deliver_outbox", "default")]


@pytest.mark.parametrize("value", [None, "note:1", b"note:1", ("note", 1), 7, True])
def test_a_coalesce_key_becomes_the_text_django_would_store(value: Any) -> None:
    """PostgreSQL's JSON insert skips Django's field preparation: the text must not change."""
    from pusher_django.outbox.statements import _json_value

    assert _json_value(value) == Delivery._meta.get_field("coalesce_key").get_prep_value(value)
