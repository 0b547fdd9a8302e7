"""Recording pusher_django signals in tests, with waits for asynchronous senders."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.dispatch import Signal

from pusher_django import signals

ALL = {name: value for name, value in vars(signals).items() if isinstance(value, Signal)}


@dataclass
class Record:
    signal: str
    kwargs: dict[str, Any]
    sender: Any


class SignalRecorder:
    def __init__(self) -> None:
        self.records: list[Record] = []
        self._cond = threading.Condition()

    def receiver(self, name: str) -> Callable[..., None]:
        def receive(sender: Any, signal: Any = None, **kwargs: Any) -> None:
            with self._cond:
                self.records.append(Record(name, kwargs, sender))
                self._cond.notify_all()

        return receive

    def of(self, name: str, **match: Any) -> list[dict[str, Any]]:
        with self._cond:
            return [
                r.kwargs
                for r in self.records
                if r.signal == name and all(r.kwargs.get(k) == v for k, v in match.items())
            ]

    def wait_for(
        self, name: str, timeout: float = 10, count: int = 1, **match: Any
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [
                    r.kwargs
                    for r in self.records
                    if r.signal == name and all(r.kwargs.get(k) == v for k, v in match.items())
                ]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [(r.signal, r.kwargs) for r in self.records[-15:]]
                    raise AssertionError(
                        f"no {count}x {name} {match} within {timeout} s; last seen: {seen}"
                    )
                self._cond.wait(remaining)


@contextmanager
def record_signals() -> Iterator[SignalRecorder]:
    recorder = SignalRecorder()
    receivers = {name: recorder.receiver(name) for name in ALL}
    for name, func in receivers.items():
        ALL[name].connect(func, weak=False, dispatch_uid=f"recorder-{id(recorder)}-{name}")
    try:
        yield recorder
    finally:
        for name in receivers:
            ALL[name].disconnect(dispatch_uid=f"recorder-{id(recorder)}-{name}")
