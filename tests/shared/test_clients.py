"""Tests of shared/clients.py against a real local HTTP server that fails on demand."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from localdev import local
from shared import clients, logs


class Flaky:
    """A real HTTP server answering 503 to the first ``failures`` requests, then 200."""

    def __init__(self) -> None:
        self.failures = 0
        self.seen: list[tuple[str, dict[str, str]]] = []
        flaky = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                flaky.seen.append((self.command, {k.lower(): v for k, v in self.headers.items()}))
                status = 503 if flaky.failures > 0 else 200
                flaky.failures = max(0, flaky.failures - 1)
                body = f'{{"status": {status}}}'.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = _answer  # noqa: N815 - http.server's naming

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/thing"


@pytest.fixture(scope="module")
def server() -> Iterator[Flaky]:
    flaky = Flaky()
    thread = threading.Thread(target=flaky.server.serve_forever, daemon=True)
    thread.start()
    yield flaky
    flaky.server.shutdown()
    flaky.server.server_close()


@pytest.fixture(autouse=True)
def reset(server: Flaky) -> None:
    server.failures = 0
    server.seen.clear()


async def test_get_is_retried_through_transient_503s(server: Flaky) -> None:
    server.failures = 2
    answer = await clients.get(server.url)
    assert answer.status_code == 200 and answer.json() == {"status": 200}
    assert [method for method, _ in server.seen] == ["GET", "GET", "GET"]


async def test_get_gives_up_after_the_retries_with_the_last_answer(server: Flaky) -> None:
    server.failures = 5
    answer = await clients.get(server.url, retries=1)
    assert answer.status_code == 503
    assert len(server.seen) == 2


async def test_post_is_not_retried(server: Flaky) -> None:
    server.failures = 1
    answer = await clients.request("POST", server.url, json={"a": 1})
    assert answer.status_code == 503
    assert [method for method, _ in server.seen] == ["POST"]


async def test_put_is_retried_as_idempotent(server: Flaky) -> None:
    server.failures = 1
    answer = await clients.request("put", server.url, content=b"x")
    assert answer.status_code == 200
    assert [method for method, _ in server.seen] == ["PUT", "PUT"]


async def test_request_id_and_traceparent_are_forwarded(server: Flaky) -> None:
    trace = logs.TraceContext("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", True)
    rid, tr = logs.request_id_var.set("req-abc"), logs.trace_var.set(trace)
    try:
        await clients.get(server.url)
    finally:
        logs.trace_var.reset(tr)
        logs.request_id_var.reset(rid)
    ((_, headers),) = server.seen
    assert headers["x-request-id"] == "req-abc"
    assert headers["traceparent"] == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


async def test_nothing_is_forwarded_outside_a_request(server: Flaky) -> None:
    await clients.get(server.url)
    ((_, headers),) = server.seen
    assert "x-request-id" not in headers and "traceparent" not in headers


async def test_explicit_headers_win_over_propagated_ones(server: Flaky) -> None:
    token = logs.request_id_var.set("from-context")
    try:
        await clients.get(server.url, headers={"X-Request-ID": "explicit"})
    finally:
        logs.request_id_var.reset(token)
    assert server.seen[0][1]["x-request-id"] == "explicit"


async def test_connection_refused_raises_after_the_retries() -> None:
    url = f"http://127.0.0.1:{local.free_port()}/"
    with pytest.raises(httpx.ConnectError):
        await clients.get(url, retries=1)
    assert issubclass(httpx.ConnectError, clients.transport_errors())


async def test_close_drops_the_pool_and_a_new_one_is_made() -> None:
    first = clients.client()
    await clients.close()
    assert first.is_closed
    assert clients.client() is not first


@pytest.fixture(scope="module")
def problems() -> Iterator[str]:
    """A real HTTP server answering /<status> with that status and a problem body."""
    import json

    from tests.helpers import Answer, http_stub

    def answer(method: str, path: str, headers: Any) -> Answer:
        status = int(path.strip("/"))
        body = {"status": status, "detail": f"said {status}", "errors": [{"loc": ["x"]}]}
        kind = {"Content-Type": "application/problem+json", "Retry-After": "7"}
        return status, json.dumps(body).encode(), kind

    with http_stub(answer) as host:
        yield f"http://{host}"


@pytest.mark.parametrize(
    ("status", "error", "expected_status"),
    [
        (401, "Unauthorized", 401),
        (403, "Forbidden", 403),
        (404, "NotFound", 404),
        (422, "ValidationFailed", 422),
        (429, "RateLimited", 429),
        (500, "Unavailable", 503),
        (502, "Unavailable", 503),
    ],
)
async def test_call_turns_a_functions_refusal_into_our_error(
    problems: str, status: int, error: str, expected_status: int
) -> None:
    from shared import errors

    with pytest.raises(errors.ProblemError) as caught:
        await clients.call("other", "GET", f"{problems}/{status}", retries=0)
    assert type(caught.value).__name__ == error and caught.value.status == expected_status
    if status in (403, 404, 422, 429):
        assert caught.value.detail == f"other: said {status}", caught.value.detail
    if status == 429:
        assert caught.value.headers["Retry-After"] == "7"
    if status == 422:
        assert caught.value.extra["errors"] == [{"loc": ["x"]}]


async def test_call_answers_success_and_names_an_unreachable_dependency(problems: str) -> None:
    from shared import errors

    assert (await clients.call("other", "GET", f"{problems}/200")).status_code == 200
    with pytest.raises(errors.Unavailable) as caught:
        await clients.call("ghost", "GET", f"http://127.0.0.1:{_closed_port()}/x", retries=0)
    assert caught.value.dependency == "ghost"


async def test_call_for_reads_the_answer_as_the_model_of_what_is_used(problems: str) -> None:
    from pydantic import BaseModel

    class Said(BaseModel):
        status: int
        detail: str

    said = await clients.call_for(Said, "other", "GET", f"{problems}/200")
    assert said == Said(status=200, detail="said 200"), "other fields (errors) are ignored"


async def test_an_answer_that_is_not_the_model_is_a_503_naming_the_dependency(
    problems: str,
) -> None:
    from pydantic import BaseModel

    from shared import errors

    class Manifest(BaseModel):
        files: list[str]

    with pytest.raises(errors.Unavailable) as caught:
        await clients.call_for(Manifest, "project-files", "GET", f"{problems}/200")
    assert caught.value.status == 503 and caught.value.dependency == "project-files"
    assert caught.value.reason == "project-files answered a body that is not a Manifest."
    assert caught.value.detail == errors.Unavailable.PUBLIC_DETAIL, "why is logged, not answered"
    with pytest.raises(errors.NotFound):  # refusals stay what call() makes of them
        await clients.call_for(Manifest, "project-files", "GET", f"{problems}/404")


def _closed_port() -> int:
    from localdev import local

    return local.free_port()


def test_forwarded_carries_the_callers_identity_and_nothing_else() -> None:
    from starlette.requests import Request

    scope = {
        "type": "http",
        "headers": [
            (b"authorization", b"Bearer abc"),
            (b"x-acting-user", b"u-1"),
            (b"cookie", b"session=x"),
            (b"x-request-id", b"r-1"),
        ],
    }
    assert clients.forwarded(Request(scope)) == {
        "Authorization": "Bearer abc",
        "X-Acting-User": "u-1",
    }
    assert clients.forwarded({"AUTHORIZATION": "Bearer abc"}) == {"Authorization": "Bearer abc"}
    assert clients.forwarded({"authorization": "", "x-acting-user": "u"}) == {"X-Acting-User": "u"}


async def test_idle_connections_are_dropped_before_the_function_server_closes_its_end() -> None:
    """functions-framework serves through gunicorn, which closes an idle keep-alive
    connection after its ``keepalive`` (2 s): reusing one at that moment fails as "Server
    disconnected" (a 503 to the caller, seen in the soak), so the pool lets them go first."""
    from gunicorn.config import Config

    pool = clients.client()._transport._pool  # type: ignore[attr-defined]
    assert 0 < pool._keepalive_expiry < Config().keepalive


async def test_the_process_loads_its_ca_bundle_once_at_its_first_handshake(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Each httpx client loads a CA bundle of its own (~20 ms, ~1 MiB) unless given a
    context: the calls between functions and the Secret Manager reads share one, and it
    loads the bundle at its first TLS handshake, never for plain HTTP."""
    import ssl

    from shared import config

    loads: list[object] = []
    load = ssl.SSLContext.load_verify_locations

    def counted(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loads.append(args or kwargs)
        load(self, *args, **kwargs)

    ca, server_context = _ca_and_server(tmp_path, "trusted")
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted)
    monkeypatch.setattr(clients, "_client", None)
    clients.tls.cache_clear()
    config._http.cache_clear()
    try:
        first = clients.client()
        secrets_client = config._http()
        assert loads == [], loads
        assert clients.tls().verify_mode == ssl.CERT_REQUIRED and clients.tls().check_hostname
        assert clients.tls().cert_store_stats()["x509_ca"] == 0
        async with _tls_server(server_context) as url:
            for _ in range(2):
                answer = await first.get(url)
                assert answer.status_code == 200 and answer.text == "ok"
                await first.aclose()
                monkeypatch.setattr(clients, "_client", None)
                first = clients.client()  # another loop's client: the same context
        assert loads == [{"cafile": str(ca)}], loads
        assert clients.tls().cert_store_stats()["x509_ca"] == 1
    finally:
        await clients.close()
        secrets_client.close()
        config._http.cache_clear()
        clients.tls.cache_clear()


async def test_a_server_outside_the_trusted_bundle_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Deferring the bundle defers no check: the first handshake verifies the chain."""
    ca, _ = _ca_and_server(tmp_path, "trusted")
    _, stranger = _ca_and_server(tmp_path, "stranger")
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    monkeypatch.setattr(clients, "_client", None)
    clients.tls.cache_clear()
    try:
        async with _tls_server(stranger) as url:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await clients.client().get(url)
    finally:
        await clients.close()
        clients.tls.cache_clear()


def _ca_and_server(folder: Path, name: str) -> tuple[Path, ssl.SSLContext]:
    """A CA of its own (written to ``<name>-ca.pem``) and a server context for
    ``localhost`` / 127.0.0.1 holding a certificate it signed."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def certificate(subject: str, key: Any, issuer: str, signer: Any, *, ca: bool) -> Any:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
            builder = builder.add_extension(usage, critical=True).add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
        else:
            names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            builder = builder.add_extension(
                x509.SubjectAlternativeName(names), critical=False
            ).add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
                critical=False,
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key, leaf_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca_cert = certificate(f"{name} CA", ca_key, f"{name} CA", ca_key, ca=True)
    leaf = certificate("localhost", leaf_key, f"{name} CA", ca_key, ca=False)
    pem = serialization.Encoding.PEM
    ca_file = folder / f"{name}-ca.pem"
    ca_file.write_bytes(ca_cert.public_bytes(pem))
    chain = folder / f"{name}-server.pem"
    key = leaf_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    chain.write_bytes(leaf.public_bytes(pem) + key)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(chain)
    return ca_file, context


@contextlib.asynccontextmanager
async def _tls_server(context: ssl.SSLContext) -> AsyncIterator[str]:
    """An HTTPS server on 127.0.0.1 answering every request ``200 ok``."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"https://localhost:{port}/"
    finally:
        server.close()
        await server.wait_closed()
