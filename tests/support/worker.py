"""A real Celery worker process on its own queue, reaching soketi through a proxy."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from .django_env import django_env
from .processes import ROOT, free_port, log_path, stop_process, wait_until


class CeleryWorker:
    def __init__(
        self,
        rest_port: int,
        database: str,
        *,
        queue: str | None = None,
        concurrency: int = 1,
        **env_extra: str,
    ) -> None:
        self.queue = queue or f"pusher-tests-{uuid.uuid4().hex[:8]}"
        self.log: Path = log_path(f"celery-{self.queue}-{uuid.uuid4().hex[:4]}.log")
        env = django_env(rest_port, database, self.queue, **env_extra)
        celery = Path(sys.executable).with_name("celery")
        self.process = subprocess.Popen(
            [
                str(celery),
                "-A",
                "tests.celery_app",
                "worker",
                "--pool=solo" if concurrency == 1 else "--pool=prefork",
                f"--concurrency={concurrency}",
                # RabbitMQ gives each node name one exclusive control queue: two workers named
                # celery@<host> on one machine cannot both start.
                f"--hostname={self.log.stem}@%h",
                "-Q",
                self.queue,
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        wait_until(self._ready, 60, "the Celery worker")

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"celery worker exited; see {self.log}")
        return "ready." in self.log.read_text(errors="replace")

    def stop(self) -> None:
        stop_process(self.process, timeout=15)

    def kill(self) -> None:
        """SIGKILL the worker and its pool children at once, as an OOM killer would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


def unreachable_broker() -> str:
    """A URL of the configured broker's kind (Redis or RabbitMQ) where nothing listens."""
    from django.conf import settings

    scheme = str(settings.CELERY_BROKER_URL).split("://", 1)[0]
    if scheme.startswith("amqp"):
        return f"{scheme}://guest:guest@127.0.0.1:{free_port()}//"
    return f"{scheme}://127.0.0.1:{free_port()}/11"
