"""Tests of shared/logs.py: redaction, trace parsing and the JSON and text sinks."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from shared import logs

JWT = (
    "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0"
    ".eyJzdWIiOiJ1LTEiLCJyb2xlIjoiYWRtaW4ifQ"
    ".MEUCIQDsignaturepartXYZ_-abc"
)
PEM = (
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oFrrIA0hT+2ioAoGCCqGSM49\n"
    "-----END EC PRIVATE KEY-----"
)
TRACE_ID, SPAN_ID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def context() -> Iterator[None]:
    rid = logs.request_id_var.set("rid-7")
    trace = logs.trace_var.set(logs.TraceContext(TRACE_ID, SPAN_ID, True))
    yield
    logs.trace_var.reset(trace)
    logs.request_id_var.reset(rid)


# ---------------------------------------------------------------- redaction


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("login failed password=hunter2 for bob", "hunter2"),
        ('{"password": "hunter2", "user": "bob"}', "hunter2"),
        ("passwd: 's3cr3t!' accepted", "s3cr3t!"),
        ("Authorization: Bearer abc.DEF-123_xyz~", "abc.DEF-123_xyz~"),
        (f"token {JWT} seen", JWT),
        (f"key loaded: {PEM}", "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oFrrIA0hT"),
        ("connect postgresql://app:Sup3rSecret@db:5432/acr", "Sup3rSecret"),
        ("redis://default:r3dis-pass@cache:6379/0 down", "r3dis-pass"),
        ("api_key=AKIAFAKEKEY123 sent", "AKIAFAKEKEY123"),
        ("API-KEY: zzz-key-value", "zzz-key-value"),
        ('client_secret="cs-98765"&grant_type=x', "cs-98765"),
        ("Basic dXNlcjpwYXNzd29yZA== header", "dXNlcjpwYXNzd29yZA=="),
    ],
)
def test_redact_masks_secret_values(text: str, secret: str) -> None:
    masked = logs.redact(text)
    assert secret not in masked, masked
    assert logs.REDACTED in masked, masked


def test_redact_keeps_the_context_around_a_secret() -> None:
    assert logs.redact("login failed password=hunter2 for bob") == (
        "login failed password=[REDACTED] for bob"
    )
    assert (
        logs.redact("postgresql://app:pw@db:5432/acr") == "postgresql://app:[REDACTED]@db:5432/acr"
    )


@pytest.mark.parametrize(
    "text",
    [
        "GET /users/me 200 3.1ms",
        "user bob@example.com registered with role member",
        "Applied migration 0001_init.sql to schema auth_service",
        "see https://example.com/docs?page=2",
        "3 field(s) failed validation.",
    ],
)
def test_redact_leaves_ordinary_text_alone(text: str) -> None:
    assert logs.redact(text) == text


def test_redact_value_masks_secret_named_keys_at_any_depth() -> None:
    payload: dict[str, Any] = {
        "user": "bob",
        "password": {"nested": "object"},
        "settings": {"client_secret": 12345, "limits": [1, 2], "Authorization": "x"},
        "events": [{"refresh_token": "rt"}, {"note": "password=inline"}],
        "count": 3,
    }
    assert logs.redact_value(payload) == {
        "user": "bob",
        "password": logs.REDACTED,
        "settings": {
            "client_secret": logs.REDACTED,
            "limits": [1, 2],
            "Authorization": logs.REDACTED,
        },
        "events": [{"refresh_token": logs.REDACTED}, {"note": f"password={logs.REDACTED}"}],
        "count": 3,
    }


# ---------------------------------------------------------------- trace parsing


def test_traceparent_is_parsed() -> None:
    trace = logs.parse_trace({"traceparent": f"00-{TRACE_ID}-{SPAN_ID}-01"})
    assert trace == logs.TraceContext(TRACE_ID, SPAN_ID, True)
    assert trace.traceparent() == f"00-{TRACE_ID}-{SPAN_ID}-01"
    unsampled = logs.parse_trace({"traceparent": f"00-{TRACE_ID}-{SPAN_ID}-00"})
    assert unsampled is not None and unsampled.sampled is False


def test_uppercase_traceparent_is_normalised() -> None:
    trace = logs.parse_trace({"traceparent": f"00-{TRACE_ID.upper()}-{SPAN_ID.upper()}-01"})
    assert trace == logs.TraceContext(TRACE_ID, SPAN_ID, True)


@pytest.mark.parametrize(
    "value",
    [
        f"00-{'0' * 32}-{SPAN_ID}-01",
        f"00-{TRACE_ID}-{'0' * 16}-01",
        f"00-{TRACE_ID}-{SPAN_ID}",
        "garbage",
        f"00-{TRACE_ID[:-1]}-{SPAN_ID}-01",
    ],
)
def test_invalid_traceparent_gives_no_trace(value: str) -> None:
    assert logs.parse_trace({"traceparent": value}) is None


def test_cloud_trace_context_is_parsed_when_traceparent_is_absent() -> None:
    trace = logs.parse_trace({"x-cloud-trace-context": "105445aa7843bc8bf206b12000100000/1;o=1"})
    assert trace == logs.TraceContext("105445aa7843bc8bf206b12000100000", "0000000000000001", True)
    bare = logs.parse_trace({"x-cloud-trace-context": "105445AA7843BC8BF206B12000100000"})
    assert bare == logs.TraceContext("105445aa7843bc8bf206b12000100000", "0" * 16, False)


def test_traceparent_wins_over_cloud_trace_context() -> None:
    trace = logs.parse_trace(
        {
            "traceparent": f"00-{TRACE_ID}-{SPAN_ID}-01",
            "x-cloud-trace-context": "105445aa7843bc8bf206b12000100000/1;o=1",
        }
    )
    assert trace is not None and trace.trace_id == TRACE_ID


# ---------------------------------------------------------------- sinks


def _json_lines(out: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    # skip the library's one-off diagnostic entry; a dict message is spread into the entry
    return [line for line in lines if "logging.googleapis.com/diagnostic" not in line]


@pytest.mark.usefixtures("context")
def test_json_sink_writes_cloud_logging_entries(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "proj-1")
    logs.setup(service="svc-a", level="INFO", fmt="json")
    logging.getLogger("shared.test").warning("disk %s is full", "/data")
    (entry,) = _json_lines(capsys.readouterr().out)
    assert entry["message"] == "disk /data is full"
    assert entry["severity"] == "WARNING"
    assert entry["logging.googleapis.com/trace"] == f"projects/proj-1/traces/{TRACE_ID}"
    assert entry["logging.googleapis.com/spanId"] == SPAN_ID
    assert entry["logging.googleapis.com/trace_sampled"] is True
    labels = entry["logging.googleapis.com/labels"]
    assert (labels["service"], labels["request_id"]) == ("svc-a", "rid-7"), labels


@pytest.mark.usefixtures("context")
def test_json_sink_puts_the_access_log_in_http_request(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs.setup(service="svc-a", level="INFO", fmt="json")
    http_request = {"requestMethod": "GET", "requestUrl": "/x", "status": 200}
    logging.getLogger("access").info("GET /x 200", extra={"http_request": http_request})
    (entry,) = _json_lines(capsys.readouterr().out)
    assert entry["httpRequest"] == http_request
    assert entry["logging.googleapis.com/trace"] == TRACE_ID, "no project: the bare trace id"


def _access_line(capsys: pytest.CaptureFixture[str], *, alone: bool) -> dict[str, Any]:
    """The entry ``logs.access`` writes when the JSON handler is the only one (its direct
    path) or when another handler listens too (through ``logging``)."""
    ours = [h for h in logging.root.handlers if getattr(h, "_acr", False)]
    others = [] if alone else [logging.NullHandler()]
    saved = logging.root.handlers
    logging.root.handlers = [*ours, *others]
    try:
        http_request = {"requestMethod": "GET", "requestUrl": "-", "status": 201}
        logs.access("GET", "/p/token=hunter2", 201, 0.0123, http_request)
    finally:
        logging.root.handlers = saved
    (entry,) = _json_lines(capsys.readouterr().out)
    return entry


@pytest.mark.usefixtures("context")
def test_the_direct_access_line_is_the_entry_logging_writes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The access log skips ``logging`` when only our JSON handler would see it: the same
    entry, field by field (the source location included), with the path redacted."""
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "proj-1")
    logs.setup(service="svc-a", level="INFO", fmt="json")

    direct, logged = _access_line(capsys, alone=True), _access_line(capsys, alone=False)

    assert direct == logged
    assert direct["message"] == f"GET /p/token={logs.REDACTED} 201 12.3ms"
    assert direct["httpRequest"]["requestUrl"] == f"/p/token={logs.REDACTED}"
    assert direct["logging.googleapis.com/trace"] == f"projects/proj-1/traces/{TRACE_ID}"
    assert direct["logging.googleapis.com/labels"]["request_id"] == "rid-7"
    assert direct["logging.googleapis.com/sourceLocation"]["function"] == "_access_line"


@pytest.mark.usefixtures("context")
def test_no_direct_access_line_below_its_level(capsys: pytest.CaptureFixture[str]) -> None:
    logs.setup(service="svc-a", level="WARNING", fmt="json")
    saved = logging.root.handlers
    logging.root.handlers = [h for h in saved if getattr(h, "_acr", False)]
    try:
        logs.access("GET", "/x", 200, 0.001, {"requestMethod": "GET"})
    finally:
        logging.root.handlers = saved
    assert capsys.readouterr().out == ""


def test_json_sink_never_writes_a_logged_secret(capsys: pytest.CaptureFixture[str]) -> None:
    logs.setup(service="svc-a", level="INFO", fmt="json")
    log = logging.getLogger("shared.test")
    log.info("login password=%s", "hunter2")
    log.info({"event": "login", "client_secret": "cs-98765"})
    log.info("header Authorization: Bearer %s", JWT)
    try:
        raise RuntimeError("connect postgresql://app:Sup3rSecret@db/acr")
    except RuntimeError:
        log.exception("connection failed")
    out = capsys.readouterr().out
    entries = _json_lines(out)
    assert len(entries) == 4, out
    for secret in ("hunter2", "cs-98765", JWT, "Sup3rSecret"):
        assert secret not in out, f"{secret!r} reached the log"
    assert entries[1]["event"] == "login" and entries[1]["client_secret"] == logs.REDACTED
    assert "RuntimeError" in entries[3]["message"], "the trace itself is kept"


@pytest.mark.usefixtures("context")
def test_text_sink_writes_a_readable_line_with_the_request_id(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs.setup(service="svc-b", level="INFO", fmt="text")
    logging.getLogger("shared.test").info("token=abc123 refreshed")
    err = capsys.readouterr().err.strip()
    assert err.endswith("INFO    svc-b [rid-7] shared.test: token=[REDACTED] refreshed"), err


def test_objects_and_messages_changed_after_creation_are_still_masked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    class Rewriter(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            if record.getMessage() == "rewrite me":
                record.msg = "now password=late-secret"
            return True

    logs.setup(service="svc-b", level="INFO", fmt="text")
    log = logging.getLogger("shared.test.objects")
    log.addFilter(Rewriter())
    try:
        log.info(RuntimeError("dsn postgresql://app:0bject-secret@db/acr"))  # not a str
        log.info("rewrite me")
    finally:
        log.filters.clear()
    err = capsys.readouterr().err
    assert "0bject-secret" not in err and "late-secret" not in err, err
    assert err.count(logs.REDACTED) == 2, err


def test_text_sink_marks_records_outside_a_request(capsys: pytest.CaptureFixture[str]) -> None:
    logs.setup(service="svc-b", level="WARNING", fmt="text")
    logging.getLogger("shared.test").info("dropped below the level")
    logging.getLogger("shared.test").warning("kept")
    err = capsys.readouterr().err
    assert "dropped" not in err
    assert "svc-b [-] shared.test: kept" in err


def test_setup_replaces_its_own_handler_instead_of_stacking(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs.setup(service="svc-c", fmt="text")
    logs.setup(service="svc-c", fmt="text")
    ours = [h for h in logging.getLogger().handlers if getattr(h, "_acr", False)]
    assert len(ours) == 1
    logging.getLogger("shared.test").warning("once")
    assert capsys.readouterr().err.count("once") == 1


def test_outgoing_calls_and_uvicorn_add_no_second_line_per_request(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import httpx

    logs.setup(service="svc-d", level="INFO", fmt="text")
    transport = httpx.MockTransport(lambda request: httpx.Response(204))
    with httpx.Client(transport=transport) as client:
        assert client.get("http://upstream.test/ping").status_code == 204
    logging.getLogger("uvicorn.access").info('127.0.0.1 - "GET / HTTP/1.1" 200')
    logging.getLogger("shared.test").info("ours")
    err = capsys.readouterr().err
    assert "HTTP Request" not in err and "GET / HTTP/1.1" not in err, err
    assert "shared.test: ours" in err
    logging.getLogger("httpx").warning("a library warning still shows")
    assert "a library warning still shows" in capsys.readouterr().err


def test_debug_level_lets_the_libraries_speak(capsys: pytest.CaptureFixture[str]) -> None:
    import httpx

    logs.setup(service="svc-d", level="DEBUG", fmt="text")
    with httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(204))) as client:
        client.get("http://upstream.test/ping")
    assert 'HTTP Request: GET http://upstream.test/ping "HTTP/1.1 204 No Content"' in (
        capsys.readouterr().err
    )


def _backtracking_redact(text: str) -> str:
    """The redaction as it was before it was made linear: right on small inputs, cubic on
    some long ones (2 KB of "pass" took 66 s)."""
    import re

    patterns = [
        re.compile(
            r"""(?P<k>["']?[\w.-]*(?:pass(?:word|wd)?|secret|token|api[_-]?key|private[_-]?key|"""
            r"""credential)[\w.-]*["']?\s*[:=]\s*)(?P<q>["']?)(?P<v>[^"'\s,;&}]+)""",
            re.IGNORECASE,
        ),
        re.compile(r"(?P<k>\bBearer\s+)(?P<q>)(?P<v>[A-Za-z0-9._~+/=-]+)", re.IGNORECASE),
        re.compile(r"(?P<k>\bBasic\s+)(?P<q>)(?P<v>[A-Za-z0-9+/=]{8,})", re.IGNORECASE),
        re.compile(
            r"(?P<k>[a-z][a-z0-9+.-]*://[^:/@\s]+:)(?P<q>)(?P<v>[^@\s]+)(?=@)", re.IGNORECASE
        ),
    ]
    for pattern in patterns:
        text = pattern.sub(lambda m: f"{m.group('k')}{m.group('q')}{logs.REDACTED}", text)
    return text


def test_the_linear_redaction_agrees_with_the_backtracking_one_on_small_inputs() -> None:
    import random

    rng = random.Random(12)
    pieces = [
        "pass", "password", "Secret", "token", "api_key", "key", "x", "a.b", "-", "_", "1",
        "=", ":", " ", '"', "'", ",", "&", "}", "@", "/", "://", "http", "Bearer ", "Basic ",
        "dXNlcjpwYXNz",
    ]  # fmt: skip
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 10)))
        if (
            text.startswith(tuple("0123456789"))
            or "://" in text
            and any(text[i - 1].isdigit() for i in range(1, len(text)) if text.startswith("://", i))
        ):
            continue  # a scheme starting with a digit: masked now, not before (more, not less)
        assert logs.redact(text) == _backtracking_redact(text), text


R = logs.REDACTED
HOSTILE_LINES = {  # text -> its masking
    "pass-run": ("pass" * 50_000, "pass" * 50_000),
    "password-run": ("password" * 20_000 + "=", "password" * 20_000 + "="),
    "url-prefixes": ("x://a:" * 40_000, "x://a:" * 40_000),
    "scheme-run": ("a" * 200_000 + " http://", "a" * 200_000 + " http://"),
    "jwt-heads": ("eyJaaaaa-" * 30_000, "eyJaaaaa-" * 30_000),
    "pem-heads": ("-----BEGIN PRIVATE KEY-----" * 20_000, R),
    "bearer-run": ("Bearer " * 40_000, f"Bearer {R} " * 20_000),
    "token-run": ("token=" * 40_000, f"token={R}"),
    "url-then-at": ("x://a:" * 40_000 + "@h", f"x://a:{R}@h"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_LINES))
def test_redaction_of_long_hostile_lines_completes(case: str) -> None:
    """Each of these took minutes to hours with the backtracking patterns (cubic or
    quadratic in the line); every pattern now starts only at the beginning of a run."""
    text, expected = HOSTILE_LINES[case]
    assert logs.redact(text) == expected


def test_an_unterminated_private_key_is_masked_to_the_end() -> None:
    text = "loaded -----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVW\n(truncated)"
    assert logs.redact(text) == f"loaded {logs.REDACTED}"


def test_a_url_password_is_masked_whatever_precedes_its_scheme() -> None:
    assert logs.redact("x1redis://u:pw@h") == f"x1redis://u:{logs.REDACTED}@h"
    assert logs.redact("a://b:c d@e") == "a://b:c d@e", "a blank ends the password"


# ---------------------------------------------------------------- same entries as the library


def _through(handler: logging.Handler, service: str) -> list[dict[str, Any]]:
    """The entries ``handler`` writes for a set of records, behind our filters (as setup)."""
    handler.filters.insert(0, logs.ContextFilter(service=service, project="proj-1"))
    handler.filters.insert(0, logs.RedactingFilter())
    log = logging.getLogger("shared.test.same")
    log.propagate, log.handlers, log.level = False, [handler], logging.DEBUG
    try:
        log.warning("disk %s is full", "/data")
        log.info({"event": "login", "user": "bob", "severity": "forged", "n": 3})
        log.info("GET /x 200", extra={"http_request": {"requestMethod": "GET", "status": 200}})
        log.info("with fields", extra={"json_fields": {"analysis": "a-1"}, "labels": {"k": "v"}})
        log.error('{"kind": "json text", "ok": true}')
        log.debug('unicode ✓ and "quotes"\nnew line')
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("failed")
    finally:
        log.handlers = []
    return _json_lines(handler.stream.getvalue())  # type: ignore[attr-defined]


@pytest.mark.usefixtures("context")
def test_json_lines_carry_the_same_fields_as_google_cloud_loggings_handler() -> None:
    """The formatter replaces StructuredLogHandler (README, "Logging"): same entries."""
    import io

    from google.cloud.logging.handlers import StructuredLogHandler

    library = StructuredLogHandler(  # type: ignore[no-untyped-call]
        stream=io.StringIO(), labels={"service": "svc-s"}
    )
    ours = logging.StreamHandler(io.StringIO())
    ours.setFormatter(logs.CloudLoggingFormatter(labels={"service": "svc-s"}))

    expected, got = _through(library, "svc-s"), _through(ours, "svc-s")

    assert len(got) == 7, got
    for theirs, mine in zip(expected, got, strict=True):
        assert mine == theirs
    assert got[0]["logging.googleapis.com/trace"] == f"projects/proj-1/traces/{TRACE_ID}"
    assert got[1]["severity"] == "INFO" and got[1]["event"] == "login"
    assert got[2]["httpRequest"] == {"requestMethod": "GET", "status": 200}
    assert got[3]["analysis"] == "a-1" and got[3]["logging.googleapis.com/labels"]["k"] == "v"
    assert got[4]["kind"] == "json text"
    assert "ValueError: boom" in got[6]["message"]
