"""A TCP forwarder whose connections can be cut, like a network that goes away.

Chromium's offline mode stops new connections but leaves an open websocket
alone; a real drop (a tunnel, a closed lid) kills it. The browser's pusher-js
reaches soketi through this: ``cut()`` closes every open connection and,
while ``down`` is set, new ones are closed at once (Chromium's offline
emulation lets connections to 127.0.0.1 through).
"""

from __future__ import annotations

import contextlib
import socket
import threading


class TcpProxy:
    def __init__(self, target_port: int | list[int]) -> None:
        """One target, or several: connections go round-robin, skipping one that refuses."""
        self.targets = target_port if isinstance(target_port, list) else [target_port]
        self._next = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        self.down = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down:
                client.close()
                continue
            upstream = self._connect()
            if upstream is None:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _connect(self) -> socket.socket | None:
        for _ in self.targets:
            port = self.targets[self._next % len(self.targets)]
            self._next += 1
            try:
                return socket.create_connection(("127.0.0.1", port), timeout=5)
            except OSError:
                continue
        return None

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            self._close(source, sink)

    def _close(self, *sockets: socket.socket) -> None:
        for sock in sockets:
            with self._lock:
                self._open.discard(sock)
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def cut(self) -> None:
        """Close every open connection at once (new ones are still accepted)."""
        with self._lock:
            current = list(self._open)
        self._close(*current)

    def close(self) -> None:
        self._closed = True
        self.listener.close()
        self.cut()
