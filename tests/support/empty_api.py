"""A local HTTP server that answers ``{}`` to every POST: a stand-in for the Pusher API.

For what measures or inspects the request side only (signing, tracing, log
lines): soketi would answer the same, but its own cost would be in the figure.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _EmptyAnswer(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def empty_api() -> Iterator[int]:
    """Serve ``{}`` to every POST on a free loopback port; yields the port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EmptyAnswer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()
