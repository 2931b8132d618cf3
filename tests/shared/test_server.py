"""The function's HTTP server keeps an idle connection longer than its callers do
(shared/server.py): a real functions-framework process, one raw HTTP/1.1 connection."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import h11

from shared import server


def _get(conn: h11.Connection, sock: socket.socket, path: str) -> tuple[int, bytes]:
    sock.sendall(conn.send(h11.Request(method="GET", target=path, headers=[("Host", "x")])))
    sock.sendall(conn.send(h11.EndOfMessage()))
    status, body = 0, b""
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(sock.recv(65536))
        elif isinstance(event, h11.Response):
            status = event.status_code
        elif isinstance(event, h11.Data):
            body += bytes(event.data)
        elif isinstance(event, h11.EndOfMessage):
            conn.start_next_cycle()
            return status, body
        elif isinstance(event, h11.ConnectionClosed):
            raise AssertionError("The function closed the connection instead of answering.")


def test_an_idle_connection_outlives_gunicorns_default_keep_alive(projects_url: str) -> None:
    """gunicorn's 2 s would close it under Knative's queue-proxy, which keeps its idle
    connections 90 s: a request sent as the server closes is reset unanswered."""
    address = urlsplit(projects_url)
    assert server.KEEP_ALIVE_SECONDS > 90
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        conn = h11.Connection(h11.CLIENT)
        first = _get(conn, sock, "/health")
        time.sleep(3.0)  # idle past gunicorn's default keep-alive
        second = _get(conn, sock, "/health")
    assert first[0] == second[0] == 200
    assert b'"status"' in second[1]
