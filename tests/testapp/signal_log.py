"""Receivers that append what a listener process dispatched to a file, for tests to read."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pusher_django import signals

NAMES = ("member_added", "member_removed", "event_received", "subscription_succeeded")


def record_to(path: str) -> None:
    target = Path(path)

    def receiver_for(name: str) -> Any:
        def receive(sender: Any, **kwargs: Any) -> None:
            entry = {"signal": name, "pid": os.getpid()}
            entry.update({k: kwargs.get(k) for k in ("channel", "user_id", "event")})
            with target.open("a") as log:
                log.write(json.dumps(entry) + "\n")

        return receive

    for name in NAMES:
        getattr(signals, name).connect(receiver_for(name), weak=False, dispatch_uid=f"log-{name}")


def read(path: str | Path) -> list[dict[str, Any]]:
    target = Path(path)
    if not target.exists():
        return []
    return [json.loads(line) for line in target.read_text().splitlines() if line.strip()]
