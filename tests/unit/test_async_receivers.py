"""Async signal receivers run for every signal, from every kind of sender.

The listener sends from its dispatcher thread (no event loop there); the
webhook view sends from a sync view, which an ASGI server runs in a worker
thread beside its loop. Both are reproduced here with plain threads and
``sync_to_async``; the real listener and the real webhook view under uvicorn
are in ``tests/integration/test_asgi_soketi.py``.
"""

from __future__ import annotations

import asyncio
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import django
import pytest
from asgiref.sync import async_to_sync, sync_to_async

from pusher_django import notices, signals
from pusher_django.notices import Notice

NOTICES: list[Notice] = [
    notices.member_added("presence-a", "1", {"name": "ada"}),
    notices.member_removed("presence-a", "1", {"name": "ada"}),
    notices.subscription_count("a", 3),
    notices.cache_miss("private-cache-a"),
    notices.channel_occupied("a", signals.WEBHOOK),
    notices.channel_vacated("a", signals.WEBHOOK),
    notices.client_event("private-a", "client-x", {"n": 1}, "1.2", None, signals.WEBHOOK),
    notices.event_received("a", "e", {"n": 1}, None),
    notices.subscription_succeeded("presence-a", {"1": None}),
    notices.subscription_error("private-a", 403, "denied"),
    notices.connection_state_changed("connecting", "connected", "1.2"),
    notices.connection_error(4001, "bad key"),
    notices.decryption_failed("private-encrypted-a", "e", "bad key"),
    notices.frame_rejected(None, "not JSON"),
]
EVERY_SIGNAL = {
    value for name, value in vars(signals).items() if isinstance(value, django.dispatch.Signal)
}


class Sender:
    """Stands for the Listener or Webhook class (signals cache receivers per sender)."""


needs_django_5 = pytest.mark.skipif(not notices.ASYNC_RECEIVERS, reason="Django 5.0+")


def test_the_table_covers_every_signal() -> None:
    assert {notice.signal for notice in NOTICES} == EVERY_SIGNAL


class AsyncReceiver:
    """An ``async def`` receiver that records its calls."""

    def __init__(self, signal: django.dispatch.Signal, fail: bool = False) -> None:
        self.signal = signal
        self.calls: list[tuple[dict[str, Any], bool]] = []

        async def receiver(sender: Any, **kwargs: Any) -> None:
            await asyncio.sleep(0)  # it really runs on a loop
            kwargs.pop("signal")
            self.calls.append((kwargs, asyncio.get_running_loop().is_running()))
            if fail:
                raise RuntimeError("receiver bug")

        self.receiver = receiver
        signal.connect(receiver, weak=False)

    def disconnect(self) -> None:
        self.signal.disconnect(self.receiver)


@pytest.fixture
def connect() -> Iterator[Any]:
    made: list[AsyncReceiver] = []

    def make(signal: django.dispatch.Signal, fail: bool = False) -> AsyncReceiver:
        made.append(AsyncReceiver(signal, fail))
        return made[-1]

    yield make
    for receiver in made:
        receiver.disconnect()


def in_thread(function: Any) -> Any:
    """Run ``function`` in a new thread (the listener's dispatcher has no loop)."""
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(function()))
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "the send hung"
    return result[0]


@needs_django_5
@pytest.mark.parametrize(
    "notice", NOTICES, ids=lambda n: n.kwargs["source"][0] + str(NOTICES.index(n))
)
def test_async_receiver_gets_the_notice_from_a_thread_without_a_loop(connect, notice) -> None:
    receiver = connect(notice.signal)
    assert in_thread(lambda: notices.send(notice, sender=Sender)) is True
    assert receiver.calls == [(notice.kwargs, True)]


@needs_django_5
def test_async_receiver_runs_when_a_sync_view_sends_under_an_event_loop(connect) -> None:
    """What the webhook view does under uvicorn: a sync function beside a running loop."""
    notice = notices.channel_occupied("a", signals.WEBHOOK)
    receiver = connect(notice.signal)

    async def server() -> bool:
        return await sync_to_async(notices.send)(notice, Sender)

    assert async_to_sync(server)() is True
    assert receiver.calls == [(notice.kwargs, True)]


@needs_django_5
def test_a_raising_async_receiver_is_logged_and_the_others_still_run(connect, caplog) -> None:
    notice = notices.cache_miss("private-cache-a")
    failing, working = connect(notice.signal, fail=True), connect(notice.signal)
    assert in_thread(lambda: notices.send(notice, Sender)) is False
    assert len(failing.calls) == len(working.calls) == 1
    assert "receiver bug" in caplog.text
    assert "failed on private-cache-a" in caplog.text


@pytest.mark.skipif(notices.ASYNC_RECEIVERS, reason="Django 4.2 only")
def test_on_django_42_an_async_receiver_is_a_clear_error_never_a_hang(connect, caplog) -> None:
    notice = notices.cache_miss("private-cache-a")
    receiver = connect(notice.signal)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "coroutine was never awaited"
        assert in_thread(lambda: notices.send(notice, Sender)) is False
    assert receiver.calls == []
    assert "async signal receivers need Django 5.0 or later" in caplog.text


class AsyncCallable:
    """Django 5 takes an object with an async ``__call__`` for a sync receiver."""

    async def __call__(self, sender: Any, **kwargs: Any) -> None:
        raise AssertionError("never awaited")


@needs_django_5
def test_a_coroutine_django_did_not_await_is_a_clear_error(caplog) -> None:
    notice = notices.cache_miss("private-cache-a")
    receiver = AsyncCallable()
    notice.signal.connect(receiver, weak=False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert in_thread(lambda: notices.send(notice, Sender)) is False
    finally:
        notice.signal.disconnect(receiver)
    assert "connect an `async def` function" in caplog.text
