"""One relay pass behind the ``relay_outbox`` task, the ``pusher_outbox`` loop and ``--once``."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from pusher_django import tasks
from pusher_django.models import Delivery
from pusher_django.outbox import relay as relay_module
from pusher_django.outbox import runner
from tests.unit.test_outbox import add

pytestmark = pytest.mark.django_db

SENT = Delivery.Status.SENT


@pytest.fixture
def passes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """Every relay pass, by whom and with or without housekeeping (the pass itself runs)."""
    seen: list[tuple[str, bool]] = []
    real = runner.relay_pass

    def spy(using: str = "default", *, housekeeping: bool = True) -> Any:
        seen.append((using, housekeeping))
        return real(using, housekeeping=housekeeping)

    monkeypatch.setattr(runner, "relay_pass", spy)
    return seen


@pytest.fixture(autouse=True)
def _keep_the_test_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """The loop closes stale connections between passes; here that is the test's transaction."""
    monkeypatch.setattr(runner, "close_old_connections", lambda: None)


def old_sent_row() -> int:
    return add("private-a", status=SENT, sent_at=timezone.now() - timedelta(days=3))[0]


def test_the_task_the_command_and_the_loop_run_the_same_pass(
    passes: list[tuple[str, bool]], capsys: pytest.CaptureFixture[str]
) -> None:
    old_sent_row()
    assert tasks.relay_outbox() == 0
    assert not Delivery.objects.exists()  # pruned by the task's pass
    old_sent_row()
    call_command("pusher_outbox", "--once")
    assert "relayed 0 event(s)" in capsys.readouterr().out
    assert not Delivery.objects.exists()
    assert passes == [("default", True), ("default", True)]


def test_the_loop_prunes_once_a_minute_and_waits_for_the_next_due_row(
    passes: list[tuple[str, bool]], monkeypatch: pytest.MonkeyPatch
) -> None:
    relay = runner.RelayRunner(interval=5)
    assert relay._step() == 5  # nothing pending: the whole interval
    add("private-a", available_at=timezone.now() + timedelta(seconds=2))
    assert 1 < relay._step() <= 2  # a retry due in 2 s: wake for it
    Delivery.objects.update(available_at=timezone.now() - timedelta(seconds=1))
    monkeypatch.setattr(relay_module, "claim", lambda using: [])  # as if another worker had it
    assert relay._step() == runner.MIN_WAIT  # due now but held elsewhere: look again soon
    assert passes == [("default", True), ("default", False), ("default", False)]
    monkeypatch.setattr(runner, "PRUNE_EVERY", 0.0)
    relay._step()
    assert passes[-1] == ("default", True)


def test_a_failing_pass_is_logged_and_the_loop_goes_on(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(using: str) -> Any:
        raise RuntimeError("database went away")

    monkeypatch.setattr(runner, "deliver", broken)
    relay = runner.RelayRunner(interval=3)
    with caplog.at_level(logging.ERROR, logger="pusher_django"):
        assert relay._step() == 3
    assert "Outbox relay pass failed; trying again" in caplog.text
    assert relay._last_housekeeping is None  # the next pass still prunes
