"""A real soketi server (from npm) on a free port, for one test session."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from typing import Any

from .processes import NODE_BIN, free_port, log_path, port_open, stop_process, wait_until

APP_ID = "424242"
APP_KEY = "test-app-key"
APP_SECRET = "test-app-secret-do-not-use"
MASTER_KEY_B64 = "OHRXNUZRTG5pUTFzQlFGd3J3N3Q2VFZFc0paZDEweVk="


class Soketi:
    """One soketi process; ``restart()`` keeps its port."""

    def __init__(
        self,
        *,
        webhooks: list[dict[str, Any]] | None = None,
        name: str = "soketi",
        extra_env: dict[str, str] | None = None,
    ):
        self.extra_env = extra_env or {}
        self.port = free_port()
        self.metrics_port = free_port()
        self.webhooks = webhooks or []
        self.name = name
        self.process: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            SOKETI_PORT=str(self.port),
            SOKETI_HOST="127.0.0.1",
            SOKETI_METRICS_SERVER_PORT=str(self.metrics_port),
            SOKETI_DEFAULT_APP_ID=APP_ID,
            SOKETI_DEFAULT_APP_KEY=APP_KEY,
            SOKETI_DEFAULT_APP_SECRET=APP_SECRET,
            SOKETI_DEFAULT_APP_USER_AUTHENTICATION="true",
            SOKETI_DEFAULT_APP_ENABLE_CLIENT_MESSAGES="true",
            SOKETI_DEFAULT_APP_WEBHOOKS=json.dumps(self.webhooks),
        )
        env.pop("SOKETI_DEBUG", None)
        env.update(self.extra_env)
        return env

    def start(self) -> None:
        log = log_path(f"{self.name}-{self.port}.log").open("ab")
        self.process = subprocess.Popen(
            [str(NODE_BIN / "soketi"), "start"],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until(self._ready, 30, f"soketi on port {self.port}")

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"soketi exited with {self.process.returncode}; see its log")
        if not port_open(self.port):
            return False
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/ready", timeout=1) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None
        wait_until(lambda: not port_open(self.port), 10, "soketi to release its port")

    def restart(self) -> None:
        self.stop()
        self.start()

    def pusher_settings(self, **overrides: Any) -> dict[str, Any]:
        settings: dict[str, Any] = {
            "APP_ID": APP_ID,
            "KEY": APP_KEY,
            "SECRET": APP_SECRET,
            "HOST": "127.0.0.1",
            "PORT": self.port,
            "USE_TLS": False,
            "ENCRYPTION_MASTER_KEY_BASE64": MASTER_KEY_B64,
        }
        settings.update(overrides)
        return settings
