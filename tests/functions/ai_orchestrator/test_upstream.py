"""The orchestrator's client to the providers: kept connections, no shared cookies, and
every way of getting no answer reported as one error (real sockets on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from functions.ai_orchestrator.providers import upstream

Reply = Callable[[bytes], bytes | None]  # request head -> raw answer (None: never answer)


def ok(extra: str = "") -> bytes:
    body = b'{"ok": true}'
    return (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{extra}"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


@asynccontextmanager
async def server(reply: Reply) -> AsyncIterator[tuple[str, list[bytes], list[int]]]:
    """An HTTP/1.1 server: yields its URL, the request heads it read, and the client port
    of each (one port per connection the client opened)."""
    heads: list[bytes] = []
    ports: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        port = writer.get_extra_info("peername")[1]
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.lower().split(b"\r\n")
                    if line.startswith(b"content-length:")
                )
                await reader.readexactly(length)
                heads.append(head)
                ports.append(port)
                answer = reply(head)
                if answer is None:
                    await asyncio.sleep(3600)
                writer.write(answer or b"")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    listening = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1/chat/completions", heads, ports
    finally:
        listening.close()


async def test_calls_in_a_row_share_one_kept_connection_and_send_json() -> None:
    async with server(lambda head: ok()) as (url, heads, ports):
        for n in range(5):
            answer = await upstream.post(
                url, json.dumps({"n": n}).encode(), headers={"Authorization": "k"}, seconds=5
            )
            assert (answer.status, json.loads(answer.body)) == (200, {"ok": True})
    assert len(heads) == 5
    assert len(set(ports)) == 1  # kept alive between calls, not one connection each
    assert all(b"content-type: application/json" in head.lower() for head in heads)
    assert all(b"\r\nauthorization: k\r\n" in head.lower() for head in heads)


async def test_a_cookie_set_by_one_provider_answer_is_never_sent_back() -> None:
    """Users' calls share the session: a provider's cookie must not follow the next call."""
    async with server(lambda head: ok("Set-Cookie: session=abc; Path=/\r\n")) as (url, heads, _):
        named = url.replace("127.0.0.1", "localhost")  # a jar keeps no cookie of an IP address
        await upstream.post(named, b"{}", headers={}, seconds=5)
        await upstream.post(named, b"{}", headers={}, seconds=5)
    assert len(heads) == 2
    assert b"cookie" not in heads[1].lower()


async def test_no_answer_in_time_is_unreachable_and_timed_out() -> None:
    async with server(lambda head: None) as (url, _, _):
        with pytest.raises(upstream.Unreachable) as caught:
            await upstream.post(url, b"{}", headers={}, seconds=0.3)
    assert caught.value.timed_out


async def test_a_malformed_answer_or_a_refused_connection_is_unreachable_not_timed_out() -> None:
    async with server(lambda head: b"NOT HTTP AT ALL\r\n\r\n") as (url, _, _):
        with pytest.raises(upstream.Unreachable) as garbled:
            await upstream.post(url, b"{}", headers={}, seconds=5)
    assert not garbled.value.timed_out
    with pytest.raises(upstream.Unreachable) as refused:
        await upstream.post("http://127.0.0.1:9/v1", b"{}", headers={}, seconds=5)
    assert not refused.value.timed_out


async def test_close_ends_the_session_and_the_next_call_opens_another() -> None:
    first = upstream.session()
    await upstream.close()
    assert first.closed
    async with server(lambda head: ok()) as (url, heads, _):
        answer = await upstream.post(url, b"{}", headers={}, seconds=5)
    assert answer.status == 200 and len(heads) == 1
    assert upstream.session() is not first
