"""comparisons over HTTP, reading findings from a stand-in analyses function on a real port."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


class AnalysesStandIn:
    """GET /analyses/{id}/findings in the contract's shape, paged by ``limit``/``cursor``."""

    def __init__(self) -> None:
        self.findings: dict[str, list[dict[str, Any]]] = {}
        self.authorizations: list[str] = []
        self.port = 0

    async def page(self, request: Request) -> JSONResponse:
        self.authorizations.append(request.headers.get("authorization", ""))
        items = self.findings.get(request.path_params["id"])
        if items is None:
            return JSONResponse({"status": 404, "detail": "no such analysis"}, status_code=404)
        limit = int(request.query_params.get("limit", "50"))
        start = int(request.query_params.get("cursor") or 0)
        more = start + limit < len(items)
        return JSONResponse(
            {
                "items": items[start : start + limit],
                "next_cursor": str(start + limit) if more else None,
            }
        )

    def add(self, findings: list[dict[str, Any]]) -> str:
        analysis_id = str(uuid.uuid4())
        self.findings[analysis_id] = findings
        return analysis_id


def _finding(path: str, line: int, fingerprint: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "path": path,
        "line": line,
        "end_line": line,
        "severity": "high",
        "category": "security",
        "rule": "B602",
        "message": "m",
        "source": "static",
        "fingerprint": fingerprint,
        **extra,
    }


@pytest.fixture(scope="module")
def analyses() -> Iterator[AnalysesStandIn]:
    stand_in = AnalysesStandIn()
    app = Starlette(routes=[Route("/analyses/{id}/findings", stand_in.page)])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    stand_in.port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield stand_in
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def comparisons(client_for, analyses) -> httpx.AsyncClient:
    return client_for("comparisons", ANALYSES_URL=f"http://127.0.0.1:{analyses.port}")


async def test_base_and_head_split_into_new_fixed_and_unchanged(
    comparisons, analyses, member
) -> None:
    base = analyses.add([_finding("a.py", 3, "f1"), _finding("a.py", 9, "f2")])
    head = analyses.add([_finding("a.py", 12, "f2"), _finding("b.py", 1, "f3")])
    answer = await comparisons.post(
        "/comparisons", json={"base_analysis_id": base, "head_analysis_id": head}, headers=member
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [f["fingerprint"] for f in body["new"]] == ["f3"]
    assert [f["fingerprint"] for f in body["fixed"]] == ["f1"]
    assert [f["fingerprint"] for f in body["unchanged"]] == ["f2"]
    assert body["counts"] == {"new": 1, "fixed": 1, "unchanged": 1}
    assert analyses.authorizations[-1] == member["Authorization"], "the caller's token is forwarded"


async def test_findings_are_read_across_pages(comparisons, analyses, member) -> None:
    many = [_finding("big.py", i, f"fp{i}") for i in range(450)]
    base = analyses.add(many[:300])
    head = analyses.add(many[100:])
    answer = await comparisons.post(
        "/comparisons", json={"base_analysis_id": base, "head_analysis_id": head}, headers=member
    )
    assert answer.json()["counts"] == {"new": 150, "fixed": 100, "unchanged": 200}, answer.text


async def test_benchmark_scores_an_analysis_against_expected_findings(
    comparisons, analyses, member
) -> None:
    analysis_id = analyses.add(
        [_finding("a.py", 10, "x"), _finding("a.py", 40, "y"), _finding("c.py", 2, "z")]
    )
    expected = [
        {"path": "a.py", "line": 12, "rule": "B602"},
        {"path": "./c.py", "category": "security"},
        {"path": "d.py", "line": 1},
    ]
    answer = await comparisons.post(
        "/comparisons/benchmark",
        json={"analysis_id": analysis_id, "expected": expected},
        headers=member,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["precision"], body["recall"]) == (2 / 3, 2 / 3), body
    assert [m["finding"]["fingerprint"] for m in body["matched"]] == ["x", "z"]
    assert body["missed"] == [{"path": "d.py", "line": 1}]
    assert [f["fingerprint"] for f in body["unexpected"]] == ["y"] and body["tolerance"] == 3


async def test_unknown_analyses_are_404_and_bad_bodies_422(comparisons, analyses, member) -> None:
    known = analyses.add([])
    missing = await comparisons.post(
        "/comparisons",
        json={"base_analysis_id": known, "head_analysis_id": str(uuid.uuid4())},
        headers=member,
    )
    assert missing.status_code == 404, missing.text
    bad = await comparisons.post(
        "/comparisons/benchmark",
        json={"analysis_id": "x", "expected": [{"line": 0}]},
        headers=member,
    )
    assert bad.status_code == 422 and len(bad.json()["errors"]) >= 2, bad.text
    anonymous = await comparisons.post(
        "/comparisons", json={"base_analysis_id": known, "head_analysis_id": known}
    )
    assert anonymous.status_code == 401, anonymous.text


async def test_an_unreachable_analyses_function_is_a_503(client_for, member) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    comparisons = client_for("comparisons", ANALYSES_URL=f"http://127.0.0.1:{port}")
    answer = await comparisons.post(
        "/comparisons/benchmark",
        json={"analysis_id": str(uuid.uuid4()), "expected": []},
        headers=member,
    )
    assert answer.status_code == 503 and answer.headers["retry-after"], answer.text


async def test_a_benchmark_over_max_items_is_a_422_not_a_413(comparisons, analyses, member) -> None:
    """Issue 9 item 16: one expected finding past the documented ``maxItems`` is a
    validation failure naming the field, as the OpenAPI document promises, not a 413."""
    expected = [{"path": "a.py"} for _ in range(10_001)]
    answer = await comparisons.post(
        "/comparisons/benchmark",
        json={"analysis_id": analyses.add([]), "expected": expected},
        headers=member,
    )
    assert answer.status_code == 422, answer.text[:300]
    assert [e["loc"] for e in answer.json()["errors"]] == [["body", "expected"]], answer.text[:300]
