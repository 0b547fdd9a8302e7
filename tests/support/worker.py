"""A real Celery worker process on its own queue, reaching soketi through a proxy."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from .processes import ROOT, log_path, stop_process, wait_until
from .soketi import APP_ID, APP_KEY, APP_SECRET


class CeleryWorker:
    def __init__(self, rest_port: int, database: str, *, concurrency: int = 1) -> None:
        self.queue = f"pusher-tests-{uuid.uuid4().hex[:8]}"
        self.log: Path = log_path(f"celery-{self.queue}.log")
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="tests.settings",
            TEST_PUSHER_URL=f"http://{APP_KEY}:{APP_SECRET}@127.0.0.1:{rest_port}/apps/{APP_ID}",
            PYTHONPATH=str(ROOT),
            TEST_DATABASE_NAME=database,
            TEST_CELERY_QUEUE=self.queue,
        )
        celery = Path(sys.executable).with_name("celery")
        self.process = subprocess.Popen(
            [
                str(celery),
                "-A",
                "tests.celery_app",
                "worker",
                "--pool=solo" if concurrency == 1 else "--pool=prefork",
                f"--concurrency={concurrency}",
                "-Q",
                self.queue,
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
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
