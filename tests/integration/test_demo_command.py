"""The README's demo command starts every process, serves the site and stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import urllib.request

import pytest

from tests.support.processes import ROOT, free_port, log_path, port_open, wait_until

pytestmark = pytest.mark.integration


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except OSError:
        return 0


def test_demo_serves_login_and_admin_then_stops_on_ctrl_c(tmp_path):
    demo_port, soketi_port = free_port(), free_port()
    env = dict(
        os.environ,
        DEMO_PORT=str(demo_port),
        SOKETI_PORT=str(soketi_port),
        SOKETI_METRICS_PORT=str(free_port()),
        DEMO_DB=str(tmp_path / "demo.sqlite3"),
    )
    env.pop("PUSHER_URL", None)
    log = log_path("demo-command.log").open("wb")
    process = subprocess.Popen(
        ["scripts/demo.sh"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{demo_port}"
        wait_until(lambda: status(f"{base}/admin/login/") == 200, 120, "the demo's admin login")
        assert status(f"{base}/") == 200
        assert status(f"{base}/static/pusher-js/pusher-with-encryption.min.js") == 200
        assert port_open(soketi_port)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(30)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
    assert code == 0
    wait_until(lambda: not port_open(demo_port) and not port_open(soketi_port), 10, "ports freed")
