"""inputs reads what a request brings: its body (limited), JSON validated into a model,
and UUIDs in the path or query; each refusal is a ProblemError (400, 413, 415, 422)."""

from __future__ import annotations

import json
import re
import uuid
from typing import TYPE_CHECKING, Any, Literal, overload

from pydantic import BaseModel, ValidationError

from shared.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed

if TYPE_CHECKING:
    from starlette.requests import Request

_HTTP1 = ("1.1", "1.0")

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
"""A UUID in its one canonical text form (any case): Python's ``uuid.UUID`` also takes
braces, ``urn:uuid:`` and no hyphens, so one id had five spellings in paths and caches."""


def parse_uuid(raw: str) -> uuid.UUID:
    """``raw`` as a UUID if written in the canonical hyphenated form.

    Raises:
        ValueError: it is not.
    """
    if not _UUID.fullmatch(raw):
        raise ValueError(f"'{raw[:40]}' is not a UUID in its hyphenated form")
    return uuid.UUID(raw)


async def read_body(request: Request, *, limit: int) -> bytes:
    """Read the body once, refusing more than ``limit`` bytes (declared or streamed).

    Raises:
        PayloadTooLarge: the body is over the limit.
        BadRequest: the Content-Length header is not a number.
    """
    if hasattr(request, "_body"):
        cached: bytes = request._body
        return cached
    headers = request.headers
    declared = headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise BadRequest("Content-Length is not a number.")
        if int(declared) > limit:
            raise PayloadTooLarge(f"The body is {declared} bytes; the limit is {limit}.")
    elif "transfer-encoding" not in headers and request.scope.get("http_version") in _HTTP1:
        # HTTP/1.x (RFC 9112 section 6.3): neither header means no body; nothing to await
        request._body = b""
        return request._body
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The body exceeds the limit of {limit} bytes.")
        chunks.append(chunk)
    request._body = b"".join(chunks)
    return request._body


def parse_json(raw: bytes, model: type[BaseModel]) -> Any:
    """Parse ``raw`` as JSON into ``model``, strictly: a value must have its documented
    JSON type (``0`` is not a boolean, ``"5"`` not an integer), while the text forms JSON
    has for UUIDs, timestamps and decimals are accepted as their schema says.

    Raises:
        BadRequest: the body is not JSON.
        ValidationFailed: the JSON violates the schema (each field under ``errors``).
    """
    raw = raw or b"null"
    # Only a \u escape can put NUL or a lone surrogate in JSON text (raw ones are invalid
    # JSON or UTF-8), so the body is parsed a second time, to find them, only if it has one.
    if b"\\u" in raw:
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as e:
            raise BadRequest(f"The body is not valid JSON: {e}.") from None
        except RecursionError:  # nested deeper than any document of ours (5,000 levels)
            raise BadRequest("The body is not valid JSON: it is nested too deeply.") from None
        bad = _unstorable_text(data, ["body"])
        if bad is not None:
            raise ValidationFailed(
                [{"loc": bad, "msg": "must not contain NUL characters or unpaired surrogates"}]
            )
    try:
        return model.model_validate_json(raw, strict=True)
    except ValidationError as e:
        invalid = [err for err in e.errors(include_url=False) if err["type"] == "json_invalid"]
        if invalid:
            raise BadRequest(f"The body is not valid JSON: {invalid[0]['msg']}.") from None
        raise _field_errors(e, "body") from None


def unstorable_text(value: Any, location: list[Any]) -> list[Any] | None:
    """Where ``value`` (parsed JSON) holds text PostgreSQL cannot store, or None."""
    return _unstorable_text(value, location)


def _unstorable_text(value: Any, location: list[Any]) -> list[Any] | None:
    """Where a JSON string holds text PostgreSQL cannot store (NUL, lone surrogates).

    JSON can escape both; PostgreSQL's text cannot hold them, so without this check such
    input would reach the database and fail there as a 500.
    """
    if isinstance(value, str):
        if "\x00" in value:
            return location
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return location
        return None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _unstorable_text(key, location) if isinstance(key, str) else None
        found = found or _unstorable_text(item, [*location, key])
        if found is not None:
            return found
    return None


def validate(data: Any, model: type[BaseModel], *, location: str) -> Any:
    """Validate ``data`` into ``model``; errors become a 422 listing each field."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise _field_errors(e, location) from None


def _field_errors(error: ValidationError, location: str) -> ValidationFailed:
    return ValidationFailed(
        [
            {"loc": [location, *e["loc"]], "msg": e["msg"], "type": e["type"]}
            for e in error.errors(include_url=False, include_input=False, include_context=False)
        ]
    )


def require_json(request: Request) -> None:
    content_type = request.headers.get("content-type", "application/json").split(";")[0]
    if content_type.strip().lower() not in ("application/json", ""):
        raise UnsupportedMediaType(f"Expected application/json, got '{content_type}'.")


@overload
def query_uuid(request: Request, name: str, *, required: Literal[True]) -> uuid.UUID: ...
@overload
def query_uuid(request: Request, name: str, *, required: bool = False) -> uuid.UUID | None: ...
def query_uuid(request: Request, name: str, *, required: bool = False) -> uuid.UUID | None:
    """A UUID query parameter; None when absent or empty (unless ``required``).

    Raises:
        ValidationFailed: it is not a UUID, or it is required and missing.
    """
    raw = request.query_params.get(name)
    if not raw:
        if required:
            raise ValidationFailed([{"loc": ["query", name], "msg": "is required"}])
        return None
    try:
        return parse_uuid(raw)
    except ValueError:
        raise ValidationFailed([{"loc": ["query", name], "msg": "must be a UUID"}]) from None


def path_uuid(request: Request, name: str = "id") -> uuid.UUID:
    """A UUID path parameter.

    Raises:
        ValidationFailed: the segment is not a UUID.
    """
    try:
        return parse_uuid(str(request.path_params[name]))
    except ValueError:
        raise ValidationFailed([{"loc": ["path", name], "msg": "must be a UUID"}]) from None
