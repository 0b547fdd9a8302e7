"""The receiver thread: order, robustness and the bounded backlog that pauses the reader."""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

import pytest
from django.dispatch import Signal

from pusher_django.listener.dispatcher import Dispatcher
from pusher_django.notices import Notice


def test_a_backlog_pauses_the_reader_until_half_is_drained_and_order_is_kept() -> None:
    gate = threading.Event()
    seen: list[int] = []

    def slow(sender: Any, n: int, **kwargs: Any) -> None:
        gate.wait(5)
        seen.append(n)

    signal = Signal()
    signal.connect(slow, weak=False)
    dispatcher = Dispatcher(object, max_pending=10)
    dispatcher.start()
    dispatcher.extend([Notice(signal, {"n": n, "source": "listener"}) for n in range(30)])
    assert dispatcher.backlogged

    async def reader() -> int:
        waiting = asyncio.ensure_future(dispatcher.room())
        await asyncio.sleep(0.1)
        assert not waiting.done()  # receivers stuck: the reader stays paused
        gate.set()
        await asyncio.wait_for(waiting, 5)
        return len(dispatcher._pending)

    assert asyncio.run(reader()) <= 10
    assert dispatcher.stop(5)
    assert seen == list(range(30))


def test_a_raising_receiver_is_logged_and_the_next_one_still_runs(caplog: Any) -> None:
    ran: list[str] = []

    def broken(sender: Any, **kwargs: Any) -> None:
        raise RuntimeError("receiver bug")

    def fine(sender: Any, **kwargs: Any) -> None:
        ran.append(kwargs["channel"])

    signal = Signal()
    signal.connect(broken, weak=False)
    signal.connect(fine, weak=False)
    dispatcher = Dispatcher(object)
    dispatcher.start()
    dispatcher.submit(Notice(signal, {"channel": "a", "source": "listener"}))
    dispatcher.submit(Notice(signal, {"channel": "b", "source": "listener"}))
    assert dispatcher.stop(5)
    assert ran == ["a", "b"]
    ours = [r for r in caplog.records if r.name == "pusher_django.notices"]
    assert [r.getMessage().endswith(("failed on a", "failed on b")) for r in ours] == [True, True]
    assert all(r.exc_info and r.exc_info[0] is RuntimeError for r in ours)


def test_the_loop_wakes_the_receiver_thread_only_when_it_is_about_to_sleep() -> None:
    from pusher_django.listener.core import _WakingSelector

    woken: list[None] = []
    selector = _WakingSelector(lambda: woken.append(None))
    try:
        selector.select(0)  # the loop has callbacks ready: it does not sleep
        assert woken == []
        selector.select(0.001)
        assert len(woken) == 1
    finally:
        selector.close()


@pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="SCHED_BATCH is Linux-only")
def test_receivers_run_in_a_batch_scheduled_thread_that_does_not_preempt_the_loop() -> None:
    policies: list[int] = []
    signal = Signal()
    signal.connect(lambda sender, **kwargs: policies.append(os.sched_getscheduler(0)), weak=False)
    dispatcher = Dispatcher(object)
    dispatcher.start()
    dispatcher.submit(Notice(signal, {"source": "listener"}))
    assert dispatcher.stop(5)
    assert policies == [os.SCHED_BATCH]
    assert os.sched_getscheduler(0) != os.SCHED_BATCH  # the caller's own thread is unchanged
