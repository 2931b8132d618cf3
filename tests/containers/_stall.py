"""A TCP proxy to PostgreSQL that can hold the functions' queries back on demand.

The containers reach PostgreSQL through it, so the suite can make any request that
touches the database slow (``/ready`` runs ``select 1``) without a test-only route in the
functions: while stalled, bytes from the functions wait in the proxy; released, they flow.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from typing import Any


class StallingProxy:
    def __init__(self, target_host: str, target_port: int, port: int) -> None:
        self.target = (target_host, target_port)
        self.port = port
        self.held = 0
        """Chunks that waited in the proxy while it was stalled (proof queries were held)."""
        self._loop = asyncio.new_event_loop()
        self._open: asyncio.Event | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._call(self._start()).result(timeout=10)

    def stop(self) -> None:
        if self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def stall(self) -> None:
        self._call(self._set(False)).result(timeout=5)

    def release(self) -> None:
        self._call(self._set(True)).result(timeout=5)

    def _call(self, coroutine: Any) -> Future[Any]:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    async def _set(self, flowing: bool) -> None:
        assert self._open is not None
        if flowing:
            self._open.set()
        else:
            self._open.clear()

    async def _start(self) -> None:
        self._open = asyncio.Event()
        self._open.set()
        self._server = await asyncio.start_server(self._connect, "127.0.0.1", self.port)

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        await asyncio.gather(
            self._pipe(reader, up_writer, hold=True),
            self._pipe(up_reader, writer, hold=False),
            return_exceptions=True,
        )

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, hold: bool
    ) -> None:
        assert self._open is not None
        try:
            while data := await reader.read(65536):
                if hold and not self._open.is_set():
                    self.held += 1
                    await self._open.wait()
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()
