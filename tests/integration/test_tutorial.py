"""The tutorial (docs/tutorial/index.md) step by step, with its files, against real servers.

It builds the project with ``startproject``/``startapp`` in a fresh directory, copies
the files the page includes, runs ``migrate`` and ``check``, starts the tutorial's
Celery worker and ``runserver``, and saves a note from ``manage.py shell`` while a
pusher-js client watches the channel. Only the npm install is borrowed: the project
links this repository's ``node_modules`` (the same versions as the tutorial's
``package.json``), and Redis is a server of its own.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.support.processes import free_port, log_path, port_open, stop_process, wait_until
from tests.support.soketi import APP_ID, APP_KEY, APP_SECRET

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[2]
TUTORIAL = ROOT / "docs" / "examples" / "tutorial"
BIN = Path(sys.executable).parent


def test_the_tutorial_reaches_a_browser(tmp_path, soketi, pusher_js, own_redis):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PUSHER", "DATABASE_URL"))
    }
    env.update(
        PUSHER_URL=f"http://{APP_KEY}:{APP_SECRET}@127.0.0.1:{soketi.port}/apps/{APP_ID}",
        CELERY_BROKER_URL=f"{own_redis}/0",  # its worker reads the default queue
        PYTHONPATH=str(tmp_path),
    )

    def manage(*args: str) -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=tmp_path,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    subprocess.run(
        [BIN / "django-admin", "startproject", "mysite", "."], cwd=tmp_path, env=env, check=True
    )
    manage("startapp", "board")
    (tmp_path / "node_modules").symlink_to(ROOT / "node_modules")
    for source in TUTORIAL.rglob("*"):
        relative = source.relative_to(TUTORIAL)
        if source.is_dir() or source.name in {"settings_pusher.py", "ruff.toml"}:
            continue
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, tmp_path / relative)
    settings = tmp_path / "mysite" / "settings.py"
    settings.write_text(
        settings.read_text() + "\n" + (TUTORIAL / "mysite" / "settings_pusher.py").read_text()
    )
    manage("makemigrations", "board")
    manage("migrate")
    assert "no issues" in manage("check")

    port = free_port()
    with (
        log_path("tutorial-worker").open("wb") as worker_log,
        log_path("tutorial-django").open("wb") as web_log,
    ):
        worker = subprocess.Popen(
            [BIN / "celery", "-A", "mysite", "worker", "--pool=solo", "--loglevel=INFO"],
            cwd=tmp_path,
            env=env,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
        )
        web = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=tmp_path,
            env=env,
            stdout=web_log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(lambda: port_open(port), 30, "the tutorial's runserver")
            page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read().decode()
            config = json.loads(
                page.split('id="pusher-django-config" type="application/json">')[1].split(
                    "</script>"
                )[0]
            )
            assert config["key"] == APP_KEY
            assert config["options"]["wsPort"] == soketi.port
            script = urllib.request.urlopen(
                f"http://127.0.0.1:{port}/static/pusher-js/pusher.min.js", timeout=10
            )
            assert script.status == 200

            browser = pusher_js()
            browser.subscribed("board")
            manage(
                "shell",
                "-c",
                "from board.models import Note; Note.objects.create(text='Hello, live world')",
            )
            event = browser.wait_for("event", event="note.created", timeout=20)
            assert event["data"]["text"] == "Hello, live world"
            assert "pusher_django.deliver_outbox" in log_path("tutorial-worker").read_text()
        finally:
            stop_process(web)
            stop_process(worker)
