"""comparisons implements the comparisons function: base vs head, and benchmarks."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request

from functions.comparison_service import matching, remote
from functions.comparison_service.schemas import BenchmarkCreate, ComparisonCreate
from functions.comparison_service.settings import settings
from shared import clients
from shared.function import Router

router = Router()


@router.post("/comparisons", body=ComparisonCreate)
async def compare(request: Request, body: ComparisonCreate) -> dict[str, Any]:
    """Findings new in head, fixed since base, and unchanged, by fingerprint."""
    caller = clients.forwarded(request)
    base, head = await asyncio.gather(
        remote.findings(body.base_analysis_id, headers=caller),
        remote.findings(body.head_analysis_id, headers=caller),
    )
    changes = matching.diff(base, head)
    return {
        "base_analysis_id": str(body.base_analysis_id),
        "head_analysis_id": str(body.head_analysis_id),
        **changes,
        "counts": {k: len(v) for k, v in changes.items()},
    }


@router.post("/comparisons/benchmark", body=BenchmarkCreate)
async def benchmark(request: Request, body: BenchmarkCreate) -> dict[str, Any]:
    """Precision, recall and F1 of an analysis against expected findings, with the pairs."""
    found = await remote.findings(body.analysis_id, headers=clients.forwarded(request))
    expected = [e.model_dump(exclude_none=True) for e in body.expected]
    scores = matching.benchmark(expected, found, tolerance=settings().benchmark_line_tolerance)
    return {"analysis_id": str(body.analysis_id), **scores}
