"""A real pusher-js client (Node) driven over stdin/stdout by ``tests/js/harness.js``."""

from __future__ import annotations

import contextlib
import json
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

from .processes import ROOT, stop_process

Authorizer = Callable[[str, str, str | None], dict[str, Any]]


class PusherJs:
    """One pusher-js connection. Reports are collected in order in ``reports``.

    ``authorizer(kind, socket_id, channel)`` answers pusher-js's auth requests
    when no HTTP endpoint is given (``kind`` is ``"channel"`` or ``"user"``);
    it returns the auth JSON or raises to refuse.
    """

    def __init__(
        self,
        *,
        key: str,
        ws_port: int,
        authorizer: Authorizer | None = None,
        channel_auth: dict[str, Any] | None = None,
        user_auth: dict[str, Any] | None = None,
    ) -> None:
        self.authorizer = authorizer
        self.reports: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self.process = subprocess.Popen(
            ["node", str(ROOT / "tests" / "js" / "harness.js")],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.wait_for("ready")
        self.send(
            "connect",
            key=key,
            wsHost="127.0.0.1",
            wsPort=ws_port,
            channelAuth=channel_auth,
            userAuth=user_auth,
        )

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            try:
                report = json.loads(raw)
            except ValueError:
                continue
            report["received"] = time.monotonic()  # when it reached this process
            if report.get("type") == "auth_request" and self.authorizer is not None:
                self._answer(report)
            with self._cond:
                self.reports.append(report)
                self._cond.notify_all()

    def _answer(self, request: dict[str, Any]) -> None:
        assert self.authorizer is not None
        try:
            data = self.authorizer(request["kind"], request["socket_id"], request["channel"])
            self.send("auth_reply", id=request["id"], data=data)
        except Exception as err:
            self.send("auth_reply", id=request["id"], error=str(err) or type(err).__name__)

    def send(self, cmd: str, **fields: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps({"cmd": cmd, **fields}) + "\n").encode())
        self.process.stdin.flush()

    def find(self, type_: str, **match: Any) -> list[dict[str, Any]]:
        with self._cond:
            return [
                r
                for r in self.reports
                if r.get("type") == type_ and all(r.get(k) == v for k, v in match.items())
            ]

    def wait_for(self, type_: str, timeout: float = 10, **match: Any) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [
                    r
                    for r in self.reports
                    if r.get("type") == type_ and all(r.get(k) == v for k, v in match.items())
                ]
                if found:
                    return found[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    tail = self.reports[-8:]
                    raise TimeoutError(f"no {type_} {match} from pusher-js; last reports: {tail}")
                self._cond.wait(left)

    def wait_for_count(self, type_: str, count: int, timeout: float = 10, **match: Any):
        deadline = time.monotonic() + timeout
        while True:
            found = self.find(type_, **match)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {len(found)} of {count} {type_} {match} arrived")
            time.sleep(0.05)

    @property
    def socket_id(self) -> str:
        return str(self.wait_for("connected")["socket_id"])

    def subscribe(self, channel: str) -> None:
        self.send("subscribe", channel=channel)

    def subscribed(self, channel: str, timeout: float = 10) -> dict[str, Any]:
        self.subscribe(channel)
        return self.wait_for("subscribed", timeout, channel=channel)

    def close(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(BrokenPipeError, ValueError):
                self.send("exit")
            try:
                self.process.wait(3)
            except subprocess.TimeoutExpired:
                stop_process(self.process)
