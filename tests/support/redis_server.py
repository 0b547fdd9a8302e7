"""A Redis server of one test's own, on a free port, for what must not be shared.

The suite's Redis (6379) is shared by every run on the machine, and the
matrix runs several at once: a broker's default queue or a lock with a fixed
name there would be taken by another run's worker or listener.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

from .processes import free_port, log_path, port_open, stop_process, wait_until


@contextmanager
def redis_server() -> Iterator[str]:
    """Run ``redis-server`` (no persistence) while the block runs; yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=log_path(f"redis-{port}.log").open("ab"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: port_open(port), 10, f"redis-server on port {port}")
        yield f"redis://127.0.0.1:{port}"
    finally:
        stop_process(process)
