"""openapi builds a function's OpenAPI 3.1 document from its routes and pydantic models."""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import models_json_schema

from shared.health import HEALTH_PATHS
from shared.routing import Route

_REF = "#/components/schemas/{model}"
_PROBLEM = {"$ref": "#/components/schemas/Problem"}
_PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["type", "title", "status", "detail"],
}


_OAUTH_ERROR = {"$ref": "#/components/schemas/OAuthError"}
_OAUTH_ERROR_SCHEMA = {
    "type": "object",
    "description": "RFC 6749 section 5.2 error response.",
    "properties": {
        "error": {"type": "string"},
        "error_description": {"type": "string"},
    },
    "required": ["error"],
}
_OPENAI_ERROR = {"$ref": "#/components/schemas/OpenAIError"}
_OPENAI_ERROR_SCHEMA = {
    "type": "object",
    "description": "OpenAI's error object, as the OpenAI-compatible endpoint answers.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "param": {"type": ["string", "null"]},
                "code": {"type": ["string", "null"]},
            },
            "required": ["message", "type"],
        }
    },
    "required": ["error"],
}


def document(name: str, routes: list[Route], *, version: str) -> dict[str, Any]:
    """The OpenAPI document of one function."""
    # Bodies are described as they are parsed, answers as they are serialized (aliases such
    # as ``from``); a model whose two forms differ gets two components (``-Input``/``-Output``).
    wanted = _models(routes)
    refs, schemas = models_json_schema(wanted, ref_template=_REF) if wanted else ({}, {"$defs": {}})
    components = dict(schemas.get("$defs", {}))
    components["Problem"] = _PROBLEM_SCHEMA
    formats = {route.error_format for route in routes}
    if "oauth" in formats:
        components["OAuthError"] = _OAUTH_ERROR_SCHEMA
    if "openai" in formats:
        components["OpenAIError"] = _OPENAI_ERROR_SCHEMA
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        item = paths.setdefault(route.path_format, {})
        item[route.method.lower()] = _operation(route, refs)
        if route.path != route.path_format:  # OpenAPI has no {name:path}; the gateway needs it
            item["x-path-template"] = route.path
    _link(routes, paths)
    for path in sorted(HEALTH_PATHS):
        paths[path] = {"get": _health_operation(path)}
    return {
        "openapi": "3.1.0",
        "info": {"title": name, "version": version},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


def _link(routes: list[Route], paths: dict[str, dict[str, Any]]) -> None:
    """OpenAPI links from each creation to the operations on what it created, so a client
    (and schemathesis' stateful phase) can follow ``POST /projects`` to ``GET
    /projects/{id}``: the new resource's ``id`` fills the next path parameter, and the
    creation's own path parameters carry over."""
    for route in routes:
        fields = getattr(route.response, "model_fields", {})
        if route.method != "POST" or route.status != 201 or "id" not in fields:
            continue
        prefix = route.path_format.rstrip("/") + "/{"
        links: dict[str, Any] = {}
        for target in routes:
            if target is route or target.internal or not target.path_format.startswith(prefix):
                continue
            created = target.path_format[len(prefix) :].split("}", 1)[0]
            if created in route.convertors:
                continue
            parameters = {f"path.{created}": "$response.body#/id"}
            parameters |= {f"path.{n}": f"$request.path.{n}" for n in route.convertors}
            if set(target.convertors) != {k.removeprefix("path.") for k in parameters}:
                continue
            name = f"{target.method.lower()}_{target.endpoint.__name__}"
            links[name] = {"operationId": name, "parameters": parameters}
        if links:
            paths[route.path_format]["post"]["responses"]["201"] = {
                **paths[route.path_format]["post"]["responses"]["201"],
                "links": links,
            }


def merge(documents: dict[str, dict[str, Any]], *, title: str, version: str) -> dict[str, Any]:
    """One document of several functions' (by function name), as the gateway serves it.

    Only what a client can call is listed: health paths (each function has its own) and
    ``x-internal`` operations (event deliveries, 404 at the gateway) are left out. Two
    functions may name different schemas alike (``Usage``) or reuse an operationId; the
    later one is renamed with its function's name, and its references and links follow.
    """
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": {}},
    }
    schemas, operation_ids = merged["components"]["schemas"], set()
    for function, document in documents.items():
        prefix = "".join(part.capitalize() for part in function.replace("_", "-").split("-"))
        components = document.get("components", {})
        renamed = {
            name: f"{prefix}{name}"
            for name, schema in components.get("schemas", {}).items()
            if name in schemas and schemas[name] != schema
        }
        ids = {
            op["operationId"]
            for item in document.get("paths", {}).values()
            for op in item.values()
            if isinstance(op, dict) and "operationId" in op
        }
        renamed_ops = {i: f"{function}_{i}" for i in ids if i in operation_ids}
        document = _rename(document, renamed, renamed_ops)
        for name, schema in document.get("components", {}).get("schemas", {}).items():
            schemas.setdefault(name, schema)
        merged["components"]["securitySchemes"].update(components.get("securitySchemes", {}))
        for path, item in document.get("paths", {}).items():
            if path in HEALTH_PATHS:
                continue
            kept = {
                k: v for k, v in item.items() if not (isinstance(v, dict) and v.get("x-internal"))
            }
            if any(isinstance(v, dict) for v in kept.values()):
                merged["paths"].setdefault(path, {}).update(kept)
                operation_ids |= {v["operationId"] for v in kept.values() if isinstance(v, dict)}
    return merged


def _rename(value: Any, schemas: dict[str, str], operations: dict[str, str]) -> Any:
    if not schemas and not operations:
        return value
    if isinstance(value, list):
        return [_rename(v, schemas, operations) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key == "$ref" and isinstance(item, str) and item.startswith("#/components/schemas/"):
            name = item.rsplit("/", 1)[1]
            out[key] = _REF.format(model=schemas.get(name, name))
        elif key == "operationId" and isinstance(item, str):
            out[key] = operations.get(item, item)
        elif key == "schemas" and isinstance(item, dict):
            out[key] = {schemas.get(k, k): _rename(v, schemas, operations) for k, v in item.items()}
        else:
            out[key] = _rename(item, schemas, operations)
    return out


_Mode = typing.Literal["validation", "serialization"]
_Refs = typing.Mapping[tuple[Any, _Mode], Any]


def _models(routes: list[Route]) -> list[tuple[type[BaseModel], _Mode]]:
    found: list[tuple[type[BaseModel], _Mode]] = []
    for route in routes:
        wanted: list[tuple[type[BaseModel], _Mode]] = [
            (model, "serialization") for model in _response_models(route.response)
        ]
        if route.body is not None:
            wanted.append((route.body, "validation"))
        found += [pair for pair in wanted if pair not in found]
    return found


def _response_models(response: Any) -> list[type[BaseModel]]:
    if isinstance(response, type) and issubclass(response, BaseModel):
        return [response]
    return [
        a for a in typing.get_args(response) if isinstance(a, type) and issubclass(a, BaseModel)
    ]


def _schema(annotation: Any, mode: _Mode, refs: _Refs) -> dict[str, Any]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return dict(refs[(annotation, mode)])
    schema: dict[str, Any] = TypeAdapter(annotation).json_schema(mode=mode, ref_template=_REF)
    schema.pop("$defs", None)
    return schema


def _path_schema(route: Route, name: str) -> dict[str, Any]:
    """A route's own schema for the parameter, else a UUID for ``id``/``*_id`` (API.md:
    "Ids are UUIDs"), else any text."""
    if name in route.path_schemas:
        return dict(route.path_schemas[name])
    if name == "id" or name.endswith("_id"):
        return {"type": "string", "format": "uuid"}
    return {"type": "string"}


def _operation(route: Route, refs: _Refs) -> dict[str, Any]:
    params = [
        {"name": name, "in": "path", "required": True, "schema": _path_schema(route, name)}
        for name in route.convertors
    ]
    responses: dict[str, Any] = {}
    ok: dict[str, Any] = {"description": "Success"}
    if route.response is not None:
        ok["content"] = {
            "application/json": {"schema": _schema(route.response, "serialization", refs)}
        }
    for status in (route.status, *route.also):
        responses[str(status)] = ok
    codes = ["400", "401", "403", "404", "413", "422", "429", "503"]
    if route.method not in ("GET", "HEAD"):
        codes.append("409")  # a write can meet the resource in another state
    if route.body is not None:
        codes.append("415")  # the body must be application/json
    for code in sorted(codes):
        content: dict[str, Any] = {"application/problem+json": {"schema": _PROBLEM}}
        if route.error_format == "openai":
            content = {"application/json": {"schema": _OPENAI_ERROR}}
        elif route.error_format == "oauth" and code in ("400", "401"):
            content["application/json"] = {"schema": _OAUTH_ERROR}
        responses[code] = {"description": "Error", "content": content}
    operation: dict[str, Any] = {
        "operationId": f"{route.method.lower()}_{route.endpoint.__name__}",
        "summary": route.summary,
        "parameters": params,
        "responses": responses,
    }
    if route.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _schema(route.body, "validation", refs)}},
        }
    elif route.request_schema:
        operation["requestBody"] = {
            "required": True,
            "content": {kind: {"schema": dict(s)} for kind, s in route.request_schema.items()},
        }
    if not route.public:
        operation["security"] = [{"bearer": []}]
    if route.internal:
        operation["x-internal"] = True
        operation["description"] = (
            "Internal: answered only at the function's cluster-local address"
            " (Knative Trigger and PingSource deliveries); 404 elsewhere."
        )
    return operation


def _health_operation(path: str) -> dict[str, Any]:
    return {
        "operationId": "health_" + path.strip("/").replace("/", "_"),
        "summary": f"Health check {path}",
        "responses": {"200": {"description": "Healthy"}, "503": {"description": "Unhealthy"}},
    }
