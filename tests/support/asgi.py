"""The test project served through a real ASGI server (uvicorn), in this process.

In-process like pytest-django's ``live_server`` (a thread), so a test's
``settings`` changes and its database reach the views, but every request
goes through uvicorn's HTTP parser, Django's ``ASGIHandler`` and, for sync
views, asgiref's thread hop, as in an ASGI deployment (``tests/asgi.py``:
static files served by ``ASGIStaticFilesHandler``, as ``runserver`` would).

``PUSHER_DJANGO_TEST_SERVER=uvicorn`` makes the ``live_server`` fixture one
of these (tests/conftest.py), so every live-server and Chromium test can run
under ASGI unchanged.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from .processes import free_port

SERVER = os.environ.get("PUSHER_DJANGO_TEST_SERVER", "wsgi")


class _NoSettingsChange:
    """pytest-django enables and disables this around each test using ``live_server``."""

    def enable(self) -> None:
        pass

    def disable(self) -> None:
        pass


class AsgiServer:
    """uvicorn serving ``django.core.asgi.get_asgi_application()`` on a free port."""

    _live_server_modified_settings = _NoSettingsChange()

    def __init__(self, app: Any = None) -> None:
        import uvicorn

        if app is None:
            from tests.asgi import application as app

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            lifespan="off",  # Django's ASGIHandler speaks only HTTP
            log_level="warning",
            access_log=False,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)

    def start(self) -> AsgiServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def __str__(self) -> str:
        return self.url
