"""The environment of the Django processes a test starts: workers, relays, "web" processes.

They join the test database and reach soketi's REST API through the
counting proxy, exactly like the session's Celery worker.
"""

from __future__ import annotations

import os

from .processes import ROOT
from .soketi import APP_ID, APP_KEY, APP_SECRET


def django_env(rest_port: int, database: str, queue: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        TEST_PUSHER_URL=f"http://{APP_KEY}:{APP_SECRET}@127.0.0.1:{rest_port}/apps/{APP_ID}",
        PYTHONPATH=str(ROOT),
        TEST_DATABASE_NAME=database,
        TEST_CELERY_QUEUE=queue,
    )
    env.update(extra)
    return env
