"""An A/B test end to end: real ab_tests and versions processes, feedback as CloudEvents."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from tests.functions.comparison_service._support import cloud_event, experiment_with_versions


async def test_feedback_events_pick_a_winner_that_promotion_makes_production(
    start_function: Callable[..., Any], identity: Any
) -> None:
    versions = start_function("versions")
    ab_tests = start_function("ab_tests", VERSIONS_URL=versions.url)
    admin = identity.headers(str(uuid.uuid4()), role="admin")
    analysis_side = identity.headers(str(uuid.uuid4()), role="service", scope="internal")
    experiment_id, version_ids = await experiment_with_versions(versions.url, admin)
    body = {
        "name": f"e2e-{uuid.uuid4().hex[:8]}",
        "experiment_id": experiment_id,
        "variants": [
            {"name": "baseline", "version_id": version_ids[0], "weight": 1},
            {"name": "candidate", "version_id": version_ids[1], "weight": 1},
        ],
        "primary_metric": "acceptance_rate",
        "min_samples": 100,
    }
    rng = random.Random(42)
    rates = {"baseline": 0.40, "candidate": 0.60}
    async with httpx.AsyncClient(base_url=ab_tests.url, timeout=10) as ab:
        created = await ab.post("/ab-tests", json=body, headers=admin)
        assert created.status_code == 201, created.text
        test_id = created.json()["id"]
        assert (await ab.post(f"/ab-tests/{test_id}/start", headers=admin)).status_code == 200
        for project in range(200):
            unit = f"project-{project}"
            found = await ab.get(
                "/ab-tests/assign",
                params={"experiment_id": experiment_id, "unit": unit},
                headers=analysis_side,
            )
            assignment = found.json()
            assert assignment["ab_test_id"] == test_id, found.text
            for _ in range(4):  # four judged findings per project's analysis
                verdict = "accepted" if rng.random() < rates[assignment["variant"]] else "dismissed"
                data = {
                    "finding_id": str(uuid.uuid4()),
                    "analysis_id": str(uuid.uuid4()),
                    "project_id": unit,
                    "verdict": verdict,
                    "previous_verdict": None,
                    "ab_test_id": test_id,
                    "variant": assignment["variant"],
                    "config_version_id": assignment["version_id"],
                }
                headers, content = cloud_event("dev.acr.finding.feedback", data)
                sent = await ab.post("/ab-tests/events", content=content, headers=headers)
                assert sent.status_code == 200 and sent.json()["status"] == "applied", sent.text
        results = (await ab.get(f"/ab-tests/{test_id}/results", headers=admin)).json()
        assert (results["decision"], results["winner"]) == ("winner", "candidate"), results
        assert results["sample_ratio_mismatch"]["flagged"] is False
        promoted = await ab.post(f"/ab-tests/{test_id}/promote", json={}, headers=admin)
        assert promoted.status_code == 200, promoted.text
    async with httpx.AsyncClient(base_url=versions.url, headers=admin) as client:
        resolved = await client.get("/resolve", params={"experiment": experiment_id})
    assert resolved.json()["version"]["id"] == version_ids[1], resolved.text
