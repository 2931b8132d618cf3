"""Tests of shared/openapi.py: the sample function's document is sound OpenAPI 3.1."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from tests.shared.sample_functions import Sample, open_sample

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest_asyncio.fixture
async def document(platform_env: dict[str, str]) -> AsyncIterator[tuple[dict[str, Any], Sample]]:
    async with open_sample("routes", platform_env) as sample:
        answer = await sample.client.get("/openapi.json")
        assert answer.status_code == 200, answer.text
        yield answer.json(), sample


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


async def test_document_has_the_openapi_31_top_level_shape(document: Any) -> None:
    doc, _ = document
    assert doc["openapi"] == "3.1.0"
    assert doc["info"] == {"title": "routes", "version": doc["info"]["version"]}
    assert isinstance(doc["info"]["version"], str) and doc["info"]["version"]
    assert set(doc) >= {"openapi", "info", "paths", "components"}
    bearer = doc["components"]["securitySchemes"]["bearer"]
    assert bearer == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


async def test_every_route_path_and_method_is_present(document: Any) -> None:
    doc, sample = document
    for route in sample.module.router.routes:
        assert route.method.lower() in doc["paths"].get(route.path_format, {}), route.path
    operation_ids = [
        op["operationId"]
        for ops in doc["paths"].values()
        for method, op in ops.items()
        if not method.startswith("x-")
    ]
    assert len(operation_ids) == len(set(operation_ids)), "operationId must be unique"


async def test_every_operation_is_well_formed(document: Any) -> None:
    doc, _ = document
    for path, operations in doc["paths"].items():
        assert path.startswith("/"), path
        assert ":" not in path, f"{path}: OpenAPI templates have no convertors"
        for method, operation in operations.items():
            if method.startswith("x-"):  # extensions, e.g. the gateway's x-path-template
                continue
            assert method in METHODS, (path, method)
            assert operation["responses"], (path, method)
            for code in operation["responses"]:
                assert re.fullmatch(r"[1-5]\d\d", code), (path, method, code)
                assert operation["responses"][code]["description"]


async def test_every_reference_points_at_an_existing_component(document: Any) -> None:
    doc, _ = document
    schemas = doc["components"]["schemas"]
    refs = _refs(doc["paths"]) + _refs(schemas)
    assert "#/components/schemas/Item" in refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in schemas, f"dangling {ref}"


async def test_request_body_references_the_model_schema(document: Any) -> None:
    doc, _ = document
    body = doc["paths"]["/items"]["post"]["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Item"}
    item = doc["components"]["schemas"]["Item"]
    assert set(item["properties"]) == {"name", "quantity"}
    assert sorted(item["required"]) == ["name", "quantity"]
    created = doc["paths"]["/items"]["post"]["responses"]["201"]["content"]
    assert created["application/json"]["schema"] == {"$ref": "#/components/schemas/Created"}


async def test_path_parameters_are_declared_for_templated_paths(document: Any) -> None:
    doc, _ = document
    for path, operations in doc["paths"].items():
        names = re.findall(r"{(\w+)(?::\w+)?}", path)
        for method, operation in operations.items():
            if method.startswith("x-"):
                continue
            declared = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
            assert declared == names, (path, declared)
            assert all(p["required"] for p in operation.get("parameters", []))


async def test_problem_answers_use_the_problem_schema(document: Any) -> None:
    doc, _ = document
    responses = doc["paths"]["/items/{item_id}"]["get"]["responses"]
    problem = responses["404"]["content"]["application/problem+json"]["schema"]
    assert problem == {"$ref": "#/components/schemas/Problem"}
    assert doc["components"]["schemas"]["Problem"]["required"] == [
        "type",
        "title",
        "status",
        "detail",
    ]


async def test_writes_document_409_and_json_bodies_415(document: Any) -> None:
    doc, _ = document
    read = doc["paths"]["/items/{item_id}"]["get"]["responses"]
    create = doc["paths"]["/items"]["post"]["responses"]
    delete = doc["paths"]["/items/{item_id}"]["delete"]["responses"]
    assert "409" not in read and "415" not in read
    assert {"409", "415"} <= set(create), sorted(create)
    assert "409" in delete and "415" not in delete, "no body, no media type to refuse"


async def test_public_routes_need_no_token_and_others_do(document: Any) -> None:
    doc, _ = document
    assert "security" not in doc["paths"]["/items"]["post"]
    assert doc["paths"]["/items/{item_id}"]["get"]["security"] == [{"bearer": []}]


async def test_internal_routes_are_marked_and_say_where_they_answer(document: Any) -> None:
    doc, _ = document
    events = doc["paths"]["/events"]["post"]
    assert events["x-internal"] is True
    assert "cluster-local" in events["description"]
    assert "x-internal" not in doc["paths"]["/items"]["post"]


async def test_health_paths_are_listed(document: Any) -> None:
    doc, _ = document
    for path in ("/health", "/ready", "/health/startup"):
        assert set(doc["paths"][path]["get"]["responses"]) == {"200", "503"}, path


async def test_summary_is_the_handlers_first_docstring_line(document: Any) -> None:
    doc, _ = document
    assert doc["paths"]["/items"]["post"]["summary"] == "Create an item (idempotent)."


def test_a_path_convertor_is_written_as_a_plain_openapi_parameter() -> None:
    """Found by schemathesis: ``{path:path}`` is no OpenAPI template; the gateway keeps
    the convertor in ``x-path-template`` so that nested paths still route."""
    from shared import openapi
    from shared.function import Router

    router = Router()

    @router.get("/files/{path:path}")
    async def read(request: object) -> None:
        """Read a file."""

    document = openapi.document("f", router.routes, version="1")
    item = document["paths"]["/files/{path}"]
    assert item["x-path-template"] == "/files/{path:path}"
    assert [p["name"] for p in item["get"]["parameters"]] == ["path"]
    assert "/files/{path:path}" not in document["paths"]


def test_answers_are_described_as_serialized_and_bodies_as_parsed() -> None:
    from datetime import datetime

    from pydantic import BaseModel, ConfigDict, Field

    from shared import openapi
    from shared.function import Route

    class Window(BaseModel):
        model_config = ConfigDict(serialize_by_alias=True, populate_by_name=True)
        from_: datetime = Field(serialization_alias="from")
        note: str = "x"

    async def handler(request: Any, body: Window) -> Window:
        return body

    doc = openapi.document(
        "probe", [Route("POST", "/windows", handler, body=Window, response=Window)], version="1"
    )
    operation = doc["paths"]["/windows"]["post"]
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schemas = doc["components"]["schemas"]
    out, into = schemas[answer.rsplit("/", 1)[1]], schemas[body.rsplit("/", 1)[1]]
    assert "from" in out["properties"] and "from_" not in out["properties"], out
    assert "from_" in into["properties"], into
    assert "from" in out["required"], "the answer always carries it"


def test_oauth_and_openai_routes_document_the_error_bodies_they_write() -> None:
    from shared import openapi
    from shared.function import Route

    async def handler(request: Any) -> None:
        return None

    routes = [
        Route("POST", "/token", handler, public=True, error_format="oauth"),
        Route("POST", "/v1/chat/completions", handler, error_format="openai"),
        Route("GET", "/plain", handler),
    ]
    doc = openapi.document("probe", routes, version="1")
    token = doc["paths"]["/token"]["post"]["responses"]
    chat = doc["paths"]["/v1/chat/completions"]["post"]["responses"]
    plain = doc["paths"]["/plain"]["get"]["responses"]
    assert set(token["400"]["content"]) == {"application/json", "application/problem+json"}
    assert token["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/OAuthError")
    assert set(token["413"]["content"]) == {"application/problem+json"}
    assert set(chat["401"]["content"]) == {"application/json"}
    assert chat["429"]["content"]["application/json"]["schema"]["$ref"].endswith("/OpenAIError")
    assert set(plain["404"]["content"]) == {"application/problem+json"}
    schemas = doc["components"]["schemas"]
    assert {"OAuthError", "OpenAIError", "Problem"} <= set(schemas)
    assert schemas["OpenAIError"]["properties"]["error"]["required"] == ["message", "type"]


def test_ids_are_documented_as_uuids_unless_a_route_says_otherwise() -> None:
    from shared import openapi
    from shared.function import Route

    async def handler(request: Any) -> None:
        return None

    routes = [
        Route("GET", "/projects/{id}/snapshots/{snapshot_id}/files/{path:path}", handler),
        Route(
            "GET",
            "/quotas/{scope}/{scope_id}",
            handler,
            path_schemas={"scope_id": {"type": "string", "enum": ["*"]}},
        ),
    ]
    doc = openapi.document("probe", routes, version="1")

    def schemas(path: str) -> dict[str, Any]:
        return {p["name"]: p["schema"] for p in doc["paths"][path]["get"]["parameters"]}

    files = schemas("/projects/{id}/snapshots/{snapshot_id}/files/{path}")
    assert files["id"] == files["snapshot_id"] == {"type": "string", "format": "uuid"}
    assert files["path"] == {"type": "string"}
    quotas = schemas("/quotas/{scope}/{scope_id}")
    assert quotas == {"scope": {"type": "string"}, "scope_id": {"type": "string", "enum": ["*"]}}


def test_other_success_statuses_are_documented_with_the_same_body() -> None:
    from pydantic import BaseModel

    from shared import openapi
    from shared.function import Route

    class Made(BaseModel):
        id: str

    async def handler(request: Any) -> Made:
        return Made(id="x")

    doc = openapi.document(
        "probe",
        [Route("PUT", "/things/{path:path}", handler, response=Made, status=200, also=(201,))],
        version="1",
    )
    responses = doc["paths"]["/things/{path}"]["put"]["responses"]
    assert responses["200"] == responses["201"]
    assert responses["201"]["content"]["application/json"]["schema"]["$ref"].endswith("/Made")


def test_merging_renames_colliding_schemas_and_operations_and_drops_internal_routes() -> None:
    """Issue 9 items 14 and 16: ``Usage`` and ``ConfigRef`` of two functions overwrote each
    other, and the merged document listed internal event routes."""
    from shared import openapi

    def doc(usage: dict[str, Any], op: str) -> dict[str, Any]:
        return {
            "paths": {
                f"/{op}": {
                    "get": {
                        "operationId": "get_thing",
                        "responses": {
                            "200": {
                                "content": {
                                    "application/json": {
                                        "schema": {"$ref": "#/components/schemas/Usage"}
                                    }
                                },
                                "links": {"self": {"operationId": "get_thing"}},
                            }
                        },
                    },
                    "post": {"operationId": f"events_{op}", "x-internal": True},
                },
                "/health": {"get": {"operationId": "health_health"}},
            },
            "components": {"schemas": {"Usage": usage}},
        }

    merged = openapi.merge(
        {
            "quotas": doc({"type": "object", "title": "tokens"}, "a"),
            "ab-tests": doc({"type": "object", "title": "counts"}, "b"),
        },
        title="t",
        version="1",
    )
    schemas = merged["components"]["schemas"]
    assert schemas["Usage"]["title"] == "tokens" and schemas["AbTestsUsage"]["title"] == "counts"
    b = merged["paths"]["/b"]["get"]
    assert b["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/AbTestsUsage"
    )
    assert b["operationId"] == "ab-tests_get_thing"
    assert b["responses"]["200"]["links"]["self"]["operationId"] == "ab-tests_get_thing"
    assert "post" not in merged["paths"]["/a"] and "/health" not in merged["paths"]
