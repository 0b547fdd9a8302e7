"""An HTTP proxy in front of soketi's REST API that counts requests and can go down.

soketi cannot be made unreachable for the worker alone (stopping it would drop
the websocket subscribers too), so the worker talks to soketi through this.
:class:`RestProxyProcess` runs it in a process of its own, for benchmarks that
must not charge its work to the process they measure.
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def _event_names(path: str, body: bytes) -> list[str]:
    try:
        sent = json.loads(body)
    except ValueError:
        return []
    if path.endswith("/batch_events") and isinstance(sent, dict):
        return [str(event.get("name")) for event in sent.get("batch") or []]
    if path.endswith("/events") and isinstance(sent, dict):
        return [str(sent.get("name"))]
    return []


class RestProxy:
    def __init__(self, target_port: int, latency: float = 0.0) -> None:
        self.target_port = target_port
        #: Seconds added to every request, to model the round trip to a remote API.
        self.latency = latency
        self.down = False
        self.requests: Counter[str] = Counter()
        self.refused = 0
        #: The names of the events triggered through the proxy, in the order they came.
        self.event_names: list[str] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                # Headers and body are two writes: without this, Nagle and delayed ACKs
                # add ~40 ms to every proxied request.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = self.path.split("?", 1)[0]
                with proxy._lock:
                    if proxy.down:
                        proxy.refused += 1
                        self.close_connection = True
                        self.connection.close()
                        return
                    proxy.requests[f"{self.command} {path}"] += 1
                    proxy.event_names += _event_names(path, body)
                if proxy.latency:
                    time.sleep(proxy.latency)
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.target_port, timeout=5)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                payload = response.read()
                self.send_response(response.status)
                self.send_header("Content-Type", response.getheader("Content-Type", "text/plain"))
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                upstream.close()

            do_GET = _forward
            do_POST = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def posts(self, suffix: str) -> int:
        with self._lock:
            return sum(
                n
                for key, n in self.requests.items()
                if key.startswith("POST") and key.endswith(suffix)
            )

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.event_names.clear()
            self.refused = 0

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class RestProxyProcess:
    """A :class:`RestProxy` in a child process, driven over its stdin and stdout.

    A real Pusher runs elsewhere: a proxy in the measured process would take
    that process's CPU and GIL from the code under test.
    """

    def __init__(self, target_port: int, latency: float = 0.0) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.proxy", str(target_port), str(latency)],
            cwd=Path(__file__).resolve().parents[2],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.port = int(self._ask("port"))

    def _ask(self, command: str) -> str:
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._process.stdin.write(command + "\n")
        self._process.stdin.flush()
        return self._process.stdout.readline().strip()

    def total(self) -> int:
        """Requests forwarded since the last :meth:`reset`."""
        return int(self._ask("total"))

    def reset(self) -> None:
        self._ask("reset")

    def close(self) -> None:
        self._ask("close")
        self._process.wait(timeout=10)


def _serve(target_port: int, latency: float) -> None:
    proxy = RestProxy(target_port, latency)
    for line in sys.stdin:
        command = line.strip()
        if command == "port":
            answer = str(proxy.port)
        elif command == "total":
            with proxy._lock:
                answer = str(sum(proxy.requests.values()))
        elif command == "reset":
            proxy.reset()
            answer = "ok"
        else:
            proxy.close()
            sys.stdout.write("ok\n")
            sys.stdout.flush()
            return
        sys.stdout.write(answer + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    _serve(int(sys.argv[1]), float(sys.argv[2]))
