"""A TCP proxy whose link can be cut and restored, to take a real server away from a process."""

from __future__ import annotations

import contextlib
import socket
import threading
from urllib.parse import parse_qs, urlsplit, urlunsplit


class TcpProxy:
    """Forwards ``127.0.0.1:<port>`` to ``target_host:target_port``.

    ``cut()`` closes every open connection and stops listening (clients get
    ``connection refused``, as from a stopped server); ``restore()`` listens again on
    the same port.
    """

    def __init__(self, target_host: str, target_port: int, *, unix_path: str | None = None) -> None:
        self.target = (target_host, target_port)
        self.unix_path = unix_path  # forward to a Unix socket instead (embedded PostgreSQL)
        self.port = 0
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []

    def start(self) -> TcpProxy:
        self.restore()
        return self

    def restore(self) -> None:
        with self._lock:
            if self._listener is not None:
                return
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(64)
            listener.settimeout(0.05)  # so a cut is noticed without closing under accept()
            self.port = listener.getsockname()[1]
            self._listener = listener
        self._spawn(self._accept_loop, listener)

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            open_sockets, self._sockets = self._sockets, set()
        if listener is not None:
            listener.close()
        for sock in open_sockets:
            _close(sock)

    def stop(self) -> None:
        self.cut()
        for thread in self._threads:
            thread.join(timeout=2)

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            with self._lock:
                if self._listener is not listener:
                    return
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._connect(client)

    def _connect(self, client: socket.socket) -> None:
        client.settimeout(None)
        try:
            if self.unix_path is not None:
                upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                upstream.settimeout(5)
                upstream.connect(self.unix_path)
            else:
                upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            _close(client)
            return
        upstream.settimeout(None)
        with self._lock:
            if self._listener is None:  # cut while connecting
                _close(client)
                _close(upstream)
                return
            self._sockets.update((client, upstream))
        self._spawn(self._pump, client, upstream)
        self._spawn(self._pump, upstream, client)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            with self._lock:
                self._sockets.discard(source)
                self._sockets.discard(sink)
            _close(source)
            _close(sink)

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        thread.start()
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def postgres_proxy(database_url: str) -> TcpProxy:
    """A started proxy to the PostgreSQL of ``database_url`` (TCP, or the Unix socket an
    embedded server listens on only)."""
    parts = urlsplit(database_url)
    socket_dir = parse_qs(parts.query).get("host", [""])[0]
    if socket_dir.startswith("/"):
        return TcpProxy("", 0, unix_path=f"{socket_dir}/.s.PGSQL.{parts.port or 5432}").start()
    assert parts.hostname and parts.port, f"PostgreSQL expected, got {parts.netloc}"
    return TcpProxy(parts.hostname, parts.port).start()


def through(database_url: str, proxy: TcpProxy) -> str:
    """``database_url`` with its server replaced by the proxy's address."""
    parts = urlsplit(database_url)
    credentials = parts.netloc.rpartition("@")[0]
    host = f"127.0.0.1:{proxy.port}"
    netloc = f"{credentials}@{host}" if credentials else host
    return urlunsplit(parts._replace(netloc=netloc, query=""))
