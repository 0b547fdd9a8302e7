from __future__ import annotations

import os

from django.apps import AppConfig


class TestAppConfig(AppConfig):
    name = "tests.testapp"
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        path = os.environ.get("TEST_SIGNAL_LOG")
        if path:  # a pusher_listen process started by a test reports what it dispatched
            from .signal_log import record_to

            record_to(path)
