"""A TCP proxy in front of PostgreSQL that a test can make refuse, cut or accept again.

The app under test connects to the proxy's port instead of the database's. Then:

- ``refuse()`` closes the listening socket (new connections get ECONNREFUSED, as
  when the database host is down) and cuts every open connection;
- ``cut()`` only cuts the open connections and keeps accepting (the database
  restarted, a firewall dropped idle connections: the next connect works);
- ``accept()`` listens again on the same port.

Real sockets, real refusals: the driver raises exactly what it raises in production.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class DbProxy:
    def __init__(self, upstream_host: str, upstream_port: int):
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self._listener: socket.socket | None = None
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        self._lock = threading.Lock()

    # --- switching ---------------------------------------------------------------

    def accept(self) -> DbProxy:
        """Listen (again) on our port; the first call picks a free one."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept_loop, args=(listener,), daemon=True).start()
        return self

    def refuse(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone would not.
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        self.cut()

    def cut(self) -> None:
        with self._lock:
            pairs, self._pairs = self._pairs, set()
        for pair in pairs:
            for sock in pair:
                _close(sock)

    def stop(self) -> None:
        self.refuse()

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._pairs)

    # --- plumbing ----------------------------------------------------------------

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # refuse() closed the listener
            if self._listener is not listener:
                _close(client)
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                _close(client)
                continue
            pair = (client, server)
            with self._lock:
                self._pairs.add(pair)
            threading.Thread(target=self._pump, args=(client, server, pair), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, pair), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, pair) -> None:
        try:
            while chunk := source.recv(65536):
                target.sendall(chunk)
        except OSError:
            pass
        with self._lock:
            self._pairs.discard(pair)
        _close(source)
        _close(target)


def _close(sock: socket.socket) -> None:
    # shutdown() first so the peer sees the connection end at once, even while
    # another thread of ours is blocked reading the same socket.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
