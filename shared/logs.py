"""logs configures structured logging, trace correlation and secret redaction.

In the cluster (``K_SERVICE`` set) or with ``LOG_FORMAT=json`` every record is one
JSON object on stdout in Cloud Logging's structured format (``severity``, ``message``,
``logging.googleapis.com/trace``, ``spanId``, ``trace_sampled``, ``labels``,
``sourceLocation``, ``httpRequest``), which the GKE logging agent parses into a LogEntry;
locally the lines are readable text. Every record passes the redaction filter first, so
passwords, tokens, keys and secrets never reach a sink.

Why ``CloudLoggingFormatter`` and not google-cloud-logging's ``StructuredLogHandler``:
both write the same entry (``tests/shared/test_logs.py`` feeds the same records to both
and compares the parsed lines field by field), but importing the library costs every cold
start ~0.18 s and ~34 MiB (grpc, protobuf and the Logging API clients, which a handler
that writes to stdout never calls). The library's one-off "diagnostic" entry (its own
version, sent on the first record) is not written.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

REDACTED = "[REDACTED]"


@dataclass(frozen=True, slots=True)
class TraceContext:
    trace_id: str
    span_id: str
    sampled: bool

    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{'01' if self.sampled else '00'}"


request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
trace_var: contextvars.ContextVar[TraceContext | None] = contextvars.ContextVar(
    "trace", default=None
)

_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_CLOUD_TRACE = re.compile(r"^([0-9a-fA-F]{32})(?:/(\d+))?(?:;o=([01]))?$")


def parse_trace(headers: Mapping[str, str]) -> TraceContext | None:
    """Read W3C ``traceparent`` or, failing that, ``X-Cloud-Trace-Context``."""
    match = _TRACEPARENT.match(headers.get("traceparent", "").strip().lower())
    if match and match.group(1) != "0" * 32 and match.group(2) != "0" * 16:
        return TraceContext(match.group(1), match.group(2), int(match.group(3), 16) & 1 == 1)
    match = _CLOUD_TRACE.match(headers.get("x-cloud-trace-context", "").strip())
    if match:
        span = int(match.group(2) or "0") & 0xFFFFFFFFFFFFFFFF
        return TraceContext(match.group(1).lower(), f"{span:016x}", match.group(3) == "1")
    return None


_SENSITIVE_KEY = re.compile(
    r"pass(word|wd)?|secret|token|api[_-]?key|authorization|private[_-]?key|credential|cookie",
    re.IGNORECASE,
)
# Log lines carry user text (paths, names, messages), so every pattern runs in time linear
# in the line: a start can only be at the beginning of a run (a look-behind), and runs are
# matched possessively. Python's backtracking made the earlier forms cubic: 2 KB of "pass"
# cost 66 s (4 KB, 529 s) in one log call, on the request's event loop.
_CREDENTIAL_KEY_WORDS = r"(?:pass(?:word|wd)?|secret|token|api[_-]?key|private[_-]?key|credential)"
_PATTERNS = [
    # key=value and "key": "value" pairs whose key names a secret; the look-ahead finds the
    # word inside the key's run, scanned once from the run's start
    re.compile(
        r"""(?P<k>["']?+(?<![\w.-])(?=[\w.-]*?"""
        + _CREDENTIAL_KEY_WORDS
        + r""")[\w.-]++["']?+\s*+[:=]\s*+)(?P<q>["']?+)(?P<v>[^"'\s,;&}]++)""",
        re.IGNORECASE,
    ),
    re.compile(r"(?P<k>\bBearer\s++)(?P<q>)(?P<v>[A-Za-z0-9._~+/=-]++)", re.IGNORECASE),
    re.compile(r"(?P<k>\bBasic\s++)(?P<q>)(?P<v>[A-Za-z0-9+/=]{8,}+)", re.IGNORECASE),
    # compact JWS / JWT (not after a '-': a run of "-eyJ..." would be rescanned from each)
    re.compile(
        r"(?P<k>)(?P<q>)(?P<v>(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}+\.[A-Za-z0-9_-]{5,}+"
        r"\.[A-Za-z0-9_-]*+)"
    ),
    # a PEM private key, to its END line or, unterminated, to the end of the text
    re.compile(
        r"(?P<k>)(?P<q>)(?P<v>-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?"
        r"(?:-----END [A-Z ]*PRIVATE KEY-----|$))"
    ),
]
# credentials inside URLs, scheme://user:password@host: the password runs to the next '@'
_URL_USER = re.compile(r"(?<![a-z0-9+.-])[a-z0-9+.-]++://[^:/@\s]++:", re.IGNORECASE)
_URL_PASSWORD_END = re.compile(r"[@\s]")


def _mask_url_passwords(text: str) -> str:
    """``scheme://user:[REDACTED]@host``. Where the password ends (the next '@' or blank) is
    found once per run, however many ``scheme://user:`` stand before it."""
    pieces: list[str] = []
    kept = searched = 0
    end = -1
    while (found := _URL_USER.search(text, searched)) is not None:
        start = found.end()
        if end < start:
            stop = _URL_PASSWORD_END.search(text, start)
            end = stop.start() if stop else len(text)
        if end > start and end < len(text) and text[end] == "@":
            pieces += [text[kept:start], REDACTED]
            kept = searched = end
        else:
            searched = start
    return "".join(pieces) + text[kept:] if pieces else text


# Every pattern above needs one of these words; a text with none is returned as is after
# one search instead of six substitutions (most lines, the access log's among them).
_TRIGGER = re.compile(r"pass|secret|token|key|credential|bearer|basic|://|eyJ", re.IGNORECASE)


def redact(text: str) -> str:
    """Mask secret-looking values in ``text``."""
    if not _TRIGGER.search(text):
        return text
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: f"{m.group('k')}{m.group('q')}{REDACTED}", text)
    return _mask_url_passwords(text) if "://" in text else text


_TOKEN_SHAPES = re.compile(
    r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"  # AWS access key ids
    r"|\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}\b|\bgithub_pat_[A-Za-z0-9_]{30,}"
    r"|\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}"  # OpenAI / Anthropic keys
    r"|\bxox[abprs]-[A-Za-z0-9-]{10,}"  # Slack tokens
    r"|\bAIza[0-9A-Za-z_-]{35}"  # Google API keys
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"
)


def mask_secrets(text: str) -> str:
    """``redact`` plus the well-known shapes of credentials (AWS, GitHub, OpenAI, Slack,
    Google keys, PEM private keys) wherever they stand: for texts shown to users, such as a
    finding's message, which may quote the very secret it reports."""
    return _TOKEN_SHAPES.sub(REDACTED, redact(text))


def redact_value(value: Any) -> Any:
    """Redact a structured payload: secret-named keys are masked whatever their value."""
    if isinstance(value, Mapping):
        return {
            k: REDACTED if _SENSITIVE_KEY.search(str(k)) else redact_value(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    if isinstance(value, str):
        return redact(value)
    return value


class RedactingFilter(logging.Filter):
    """Masks secrets in the message, its arguments and a structured ``json_fields`` extra."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.__dict__.get("_acr_redacted") is record.msg:
            pass  # masked when the record was made, and not changed since
        elif isinstance(record.msg, Mapping):
            record.msg = redact_value(record.msg)
        else:
            record.msg = redact(record.getMessage())
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class ContextFilter(logging.Filter):
    """Adds the request id and the Cloud Trace correlation fields to every record."""

    def __init__(self, *, service: str, project: str | None) -> None:
        super().__init__()
        self.service = service
        self.project = project

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.request_id = request_id_var.get() or "-"
        trace = trace_var.get()
        if trace is not None:
            record.trace = (
                f"projects/{self.project}/traces/{trace.trace_id}"
                if self.project
                else trace.trace_id
            )
            record.span_id = trace.span_id
            record.trace_sampled = trace.sampled
        labels = dict(getattr(record, "labels", None) or {})
        labels.update({"service": self.service, "request_id": record.__dict__["request_id"]})
        record.labels = labels
        return True


def _install_record_redaction() -> None:
    """Redact at record creation, so every handler (ours, pytest's, a library's) sees
    masked messages; our handler's filter still masks formatted tracebacks."""
    current = logging.getLogRecordFactory()
    if getattr(current, "_acr_redacting", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        if isinstance(record.msg, Mapping):
            record.msg = redact_value(record.msg)
        elif record.args or isinstance(record.msg, str):
            try:
                message = record.getMessage()
            except (TypeError, ValueError):  # a bad format string: logging reports it at emit
                return record
            record.msg, record.args = redact(message), None
        else:
            return record  # another object: masked as text by the handler's filter
        record._acr_redacted = record.msg  # the handler's filter need not mask it again
        return record

    factory._acr_redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


_CHATTY_LOGGERS = ("httpx", "httpcore", "uvicorn.access")
_TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(service)s [%(request_id)s] %(name)s: %(message)s"


_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class SafeTextFormatter(logging.Formatter):
    """Text lines a terminal cannot be tricked by: control characters (ESC sequences, NUL,
    carriage returns that rewrite a line) and bidirectional overrides in a message are
    written as ``\\xNN``/``\\uNNNN`` escapes, so user input in a log line (a path, a name)
    can neither forge another line nor repaint the operator's terminal. JSON lines escape
    these by construction."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        head, newline, rest = text.partition("\n")  # a traceback keeps its own lines
        safe = _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode(), head)
        return safe + newline + rest


# Keys of a structured payload that Cloud Logging reads as the entry's own fields: a logged
# mapping may not set them (as StructuredLogHandler drops them).
_ENTRY_FIELDS = frozenset(
    {
        "severity",
        "httpRequest",
        "time",
        "timestamp",
        "timestampSeconds",
        "timestampNanos",
        "logging.googleapis.com/insertId",
        "logging.googleapis.com/labels",
        "logging.googleapis.com/operation",
        "logging.googleapis.com/sourceLocation",
        "logging.googleapis.com/spanId",
        "logging.googleapis.com/trace",
        "logging.googleapis.com/trace_sampled",
    }
)


class CloudLoggingFormatter(logging.Formatter):
    """One JSON line per record in Cloud Logging's structured-logging format.

    The entry is the record's message (``message``; a mapping message or a message that is
    a JSON object is spread into the entry instead, and a ``json_fields`` extra is merged),
    then ``severity``, ``logging.googleapis.com/labels`` (``python_logger``, the default
    labels, the record's ``labels``), ``trace``/``spanId``/``trace_sampled`` (the record's
    ``trace``, ``span_id``, ``trace_sampled``, set by ``ContextFilter``),
    ``sourceLocation`` and ``httpRequest`` (the ``http_request`` extra): the fields and
    values google-cloud-logging's ``StructuredLogHandler`` writes. Values JSON cannot hold
    are written as their ``str``.
    """

    def __init__(self, *, labels: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.labels = dict(labels or {})

    def format(self, record: logging.LogRecord) -> str:
        entry = self._payload(record)
        labels = {"python_logger": record.name, **self.labels}
        labels.update(getattr(record, "labels", None) or {})
        location = {"line": record.lineno, "file": record.pathname, "function": record.funcName}
        entry.update(
            {
                "severity": record.levelname,
                "logging.googleapis.com/labels": labels,
                "logging.googleapis.com/trace": getattr(record, "trace", None) or "",
                "logging.googleapis.com/spanId": getattr(record, "span_id", None) or "",
                "logging.googleapis.com/trace_sampled": bool(
                    getattr(record, "trace_sampled", False)
                ),
                "logging.googleapis.com/sourceLocation": getattr(
                    record, "source_location", location
                ),
                "httpRequest": getattr(record, "http_request", None) or {},
            }
        )
        return json.dumps(entry, ensure_ascii=False, default=str)

    def _payload(self, record: logging.LogRecord) -> dict[str, Any]:
        extra = getattr(record, "json_fields", None)
        extra = extra if isinstance(extra, Mapping) else {}
        if isinstance(record.msg, Mapping):
            payload: dict[str, Any] = {**record.msg, **extra}
        else:
            message = super().format(record)  # the message, then any traceback
            parsed: Any = None
            if message.startswith("{"):
                try:
                    parsed = json.loads(message)
                except ValueError:
                    parsed = None
            if isinstance(parsed, dict):
                payload = parsed
            elif extra:
                payload = {**extra, **({"message": message} if message != "None" else {})}
            else:
                payload = {"message": message} if message and message != "None" else {}
        return {k: v for k, v in payload.items() if k not in _ENTRY_FIELDS}


def setup(*, service: str, level: str = "INFO", fmt: str = "auto") -> None:
    """Route the root logger through redaction to JSON (cluster) or text (local).

    Args:
        service: The service name put on every record.
        level: The root log level.
        fmt: ``json``, ``text`` or ``auto`` (json when ``K_SERVICE`` is set).
    """
    _install_record_redaction()
    use_json = fmt == "json" or (fmt == "auto" and "K_SERVICE" in os.environ)
    handler: logging.Handler
    if use_json:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(CloudLoggingFormatter(labels={"service": service}))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(SafeTextFormatter(_TEXT_FORMAT))
    handler.filters.insert(
        0, ContextFilter(service=service, project=os.environ.get("GOOGLE_CLOUD_PROJECT"))
    )
    handler.filters.insert(0, RedactingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_acr", False):
            root.removeHandler(old)
    setattr(handler, "_acr", True)  # noqa: B010 - marks our handler for replacement
    root.addHandler(handler)
    global _json_sink
    _json_sink = (
        _JsonSink(handler, service, os.environ.get("GOOGLE_CLOUD_PROJECT")) if use_json else None
    )
    root.setLevel(level)
    # One line per request is the function's own access log (with trace and request id).
    # httpx would add an INFO line per outgoing call and uvicorn a second access line:
    # noise in Cloud Logging and, measured on the orchestrator, most of its logging cost.
    chatty = logging.DEBUG if level == "DEBUG" else logging.WARNING
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(chatty)


# ---------------------------------------------------------------- the access log


access_logger = logging.getLogger("access")


@dataclass(frozen=True, slots=True)
class _JsonSink:
    """The JSON handler ``setup`` installed, with what its filters add to a record."""

    handler: logging.StreamHandler[Any]
    service: str
    project: str | None


_json_sink: _JsonSink | None = None


def access(
    method: str, path: str, status: int, latency: float, http_request: dict[str, Any]
) -> None:
    """One access-log line: ``"<method> <path> <status> <ms>ms"`` with ``httpRequest``.

    Every request writes one, so it is the logging cost every request pays: through
    ``logging`` it was a third of a cached read's CPU (a ``LogRecord``, the record
    factory's and the filter's redaction of the message, the formatter's dict). When the
    access line would reach only ``setup``'s JSON handler (the deployed configuration) it
    is built here directly, as the same entry ``CloudLoggingFormatter`` writes for that
    record (``tests/shared/test_logs.py`` compares the two); any other configuration (text
    lines, another handler such as pytest's) goes through ``logging`` as before. The path,
    user text, is redacted once and written so in the message and ``requestUrl``.
    """
    path = redact(path)
    http_request["requestUrl"] = path
    sink = _json_sink
    root = logging.root
    if (
        sink is None
        or len(root.handlers) != 1
        or root.handlers[0] is not sink.handler
        or access_logger.handlers
        or root.filters
        or access_logger.filters
    ):
        access_logger.info(
            "%s %s %d %.1fms",
            method,
            path,
            status,
            latency * 1000,
            extra={"http_request": http_request},
            stacklevel=2,
        )
        return
    if not access_logger.isEnabledFor(logging.INFO):
        return
    caller = sys._getframe(1)  # noqa: SLF001 - the line logging would name as the source
    request_id = request_id_var.get() or "-"
    entry: dict[str, Any] = {
        "message": f"{method} {path} {status} {latency * 1000:.1f}ms",
        "severity": "INFO",
        "logging.googleapis.com/labels": {
            "python_logger": "access",
            "service": sink.service,
            "request_id": request_id,
        },
        "logging.googleapis.com/trace": "",
        "logging.googleapis.com/spanId": "",
        "logging.googleapis.com/trace_sampled": False,
        "logging.googleapis.com/sourceLocation": {
            "line": caller.f_lineno,
            "file": caller.f_code.co_filename,
            "function": caller.f_code.co_name,
        },
        "httpRequest": http_request,
    }
    trace = trace_var.get()
    if trace is not None:
        entry["logging.googleapis.com/trace"] = (
            f"projects/{sink.project}/traces/{trace.trace_id}" if sink.project else trace.trace_id
        )
        entry["logging.googleapis.com/spanId"] = trace.span_id
        entry["logging.googleapis.com/trace_sampled"] = bool(trace.sampled)
    line = json.dumps(entry, ensure_ascii=False, default=str) + sink.handler.terminator
    handler = sink.handler
    handler.acquire()
    try:
        handler.stream.write(line)
        handler.flush()
    finally:
        handler.release()
