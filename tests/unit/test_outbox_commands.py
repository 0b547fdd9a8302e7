"""``pusher_outbox retry`` and ``pusher_outbox status``: what operators run after an outage."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from pusher_django.management.commands.pusher_outbox import id_range, moment
from pusher_django.models import Delivery
from pusher_django.outbox import relay
from tests.unit.test_outbox import add

pytestmark = pytest.mark.django_db

PENDING, SENT, FAILED = Delivery.Status.PENDING, Delivery.Status.SENT, Delivery.Status.FAILED


def run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    call_command("pusher_outbox", *args)
    return capsys.readouterr().out


def statuses(ids: list[int]) -> list[str]:
    return [Delivery.objects.get(pk=pk).status for pk in ids]


def test_retry_requeues_every_failed_event_and_says_which(
    capsys: pytest.CaptureFixture[str], handoffs: list[Any]
) -> None:
    a = add("private-a", 3, status=FAILED, attempts=7, error="gave up")
    b = add("private-b", 1, status=FAILED)
    sent = add("private-a", status=SENT)
    out = run(capsys, "retry")
    assert "re-queued 4 failed event(s)" in out
    assert f"private-a: 3 event(s), first #{a[0]}, last #{a[2]}" in out
    assert f"private-b: 1 event(s), first #{b[0]}, last #{b[0]}" in out
    assert statuses(a + b + sent) == [PENDING] * 4 + [SENT]
    assert set(Delivery.objects.filter(pk__in=a).values_list("attempts", "error")) == {(0, "")}
    assert handoffs == [("pusher_django.deliver_outbox", "default")]  # one wake-up for all


def test_retry_by_channel_id_range_and_time(
    capsys: pytest.CaptureFixture[str], handoffs: list[Any]
) -> None:
    old = timezone.now() - timedelta(hours=3)
    a = add("private-a", 4, status=FAILED, created_at=old)
    b = add("private-b", 2, status=FAILED)
    assert "re-queued 0" in run(capsys, "retry", "--channel", "PRIVATE-A")  # exact names only
    assert "re-queued 2" in run(
        capsys, "retry", "--channel", "private-a", "--ids", f"{a[1]}-{a[2]}"
    )
    assert statuses(a) == [FAILED, PENDING, PENDING, FAILED]
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    assert "re-queued 2" in run(capsys, "retry", "--since", since)
    assert statuses(b) == [PENDING, PENDING]
    assert "re-queued 1" in run(capsys, "retry", "--ids", str(a[3]))
    assert "re-queued 1 failed event(s)" in run(capsys, "retry")
    assert Delivery.objects.filter(status=FAILED).count() == 0
    assert len(handoffs) == 4  # nothing re-queued, nothing woken


def test_retry_works_in_batches(
    capsys: pytest.CaptureFixture[str], handoffs: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pusher_django.outbox import requeue

    monkeypatch.setattr(requeue, "BATCH", 3)
    ids = add("private-a", 7, status=FAILED)
    assert "re-queued 7" in run(capsys, "retry")
    assert statuses(ids) == [PENDING] * 7


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["retry", "--ids", "5-2"], "ends before it starts"),
        (["retry", "--ids", "١٢"], "--ids takes an id or a range"),
        (["retry", "--ids", "1-"], "--ids takes an id or a range"),
        (["retry", "--ids", "1-9999999999999999999"], "ids end at 9223372036854775807"),
        (["retry", "--since", "yesterday"], "--since takes an ISO 8601"),
        (["retry", "--since", "2026-13-45"], "--since takes an ISO 8601"),
        (["status", "--channel", "private-a"], "are options of `retry`"),
    ],
)
def test_bad_retry_arguments_are_clear_errors(args: list[str], message: str) -> None:
    add("private-a", status=FAILED)
    with pytest.raises(CommandError, match=message):
        call_command("pusher_outbox", *args)
    assert Delivery.objects.get().status == FAILED


def test_status_says_why_each_channels_oldest_event_waits(
    capsys: pytest.CaptureFixture[str],
) -> None:
    now = timezone.now()
    retrying = add(
        "private-retry",
        available_at=now + timedelta(seconds=40),
        attempts=3,
        error="Could not reach Pusher",
    )
    add("private-retry", 2)
    leased = add("private-leased", lease_until=now + timedelta(seconds=20))
    behind = add("private-behind")
    holder = add("private-behind", available_at=now + timedelta(seconds=90))
    due = add("private-due", 2, created_at=now - timedelta(seconds=300))
    add("private-done", status=SENT, sent_at=now)
    add("private-failed", status=FAILED)
    lines = run(capsys, "status").splitlines()
    assert lines[0] == "pending 8, failed 1, sent 1, oldest pending 300 s"
    by_channel = {line.split(":", 1)[0]: line for line in lines[1:]}
    assert set(by_channel) == {"private-retry", "private-leased", "private-behind", "private-due"}
    assert f"3 pending, oldest #{retrying[0]} 'e'" in by_channel["private-retry"]
    assert "due later after a retry" in by_channel["private-retry"]
    assert "after 3 attempt(s): Could not reach Pusher" in by_channel["private-retry"]
    assert f"#{leased[0]}" in by_channel["private-leased"]
    assert "leased by a worker, until" in by_channel["private-leased"]
    assert f"oldest #{behind[0]}" in by_channel["private-behind"]
    assert (
        f"waiting behind an event that is leased or due later (#{holder[0]})"
        in (by_channel["private-behind"])
    )
    assert f"2 pending, oldest #{due[0]} 'e' (300 s old): due now" in by_channel["private-due"]
    assert run(capsys, "status", "--limit", "1").count("\n") == 2


def test_status_on_an_empty_outbox(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "status").splitlines() == ["pending 0, failed 0, sent 0, oldest pending 0 s"]
    assert relay.next_due() is None


def outcome(parse: Any, text: str) -> str:
    try:
        parse(text)
    except CommandError as err:
        return str(err)
    return "parsed"


@given(text=st.text(max_size=40))
@hypothesis_settings(max_examples=300, deadline=None)
def test_any_ids_or_since_text_parses_or_is_a_clear_error(text: str) -> None:
    for parse, option in ((id_range, "--ids"), (moment, "--since")):
        result = outcome(parse, text)
        assert result == "parsed" or result.startswith(option)
