"""Issue 9 item 1: forged, unsigned, replayed and stale outcome events do not skew an A/B
test, and nothing but an admin's action moves ``production``."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.functions.comparison_service._support import cloud_event, running_test

FEEDBACK = "dev.acr.finding.feedback"


def _feedback(test: dict[str, Any], variant: str, verdict: str) -> dict[str, Any]:
    return {
        "finding_id": str(uuid.uuid4()),
        "analysis_id": str(uuid.uuid4()),
        "project_id": f"p-{uuid.uuid4().hex[:6]}",
        "verdict": verdict,
        "previous_verdict": None,
        "ab_test_id": test["id"],
        "variant": variant,
        "config_version_id": test["variants"][0]["version_id"],
    }


async def _accepted(ab: httpx.AsyncClient, test_id: str, admin: dict[str, str]) -> int:
    results = (await ab.get(f"/ab-tests/{test_id}/results", headers=admin)).json()
    return sum(v["counts"].get("accepted", 0) for v in results["variants"])


async def test_unsigned_forged_and_stale_events_are_refused_whatever_the_host(
    ab, versions_url, admin
) -> None:
    test = await running_test(ab, versions_url, admin)
    data = _feedback(test, "treatment", "accepted")
    headers, body = cloud_event(FEEDBACK, data)
    unsigned = {k: v for k, v in headers.items() if k != "ce-acrsignature"}
    tampered = json.dumps({**data, "variant": "control"}).encode()
    stale_time = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    attempts = {
        "unsigned": (unsigned, body),
        "another key": cloud_event(FEEDBACK, data, key=b"the attacker's key"),
        "tampered data": (headers, tampered),
        "stale": cloud_event(FEEDBACK, data, time=stale_time),
        "from the future": cloud_event(
            FEEDBACK, data, time=(datetime.now(UTC) + timedelta(hours=1)).isoformat()
        ),
        "structured, unsigned": _unsigned_structured(data),
    }
    for name, (attempt_headers, content) in attempts.items():
        answer = await ab.post("/ab-tests/events", content=content, headers=attempt_headers)
        assert answer.status_code == 403, (name, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    assert await _accepted(ab, test["id"], admin) == 0, "no refused event may count"
    genuine = await ab.post("/ab-tests/events", content=body, headers=headers)
    assert genuine.json()["status"] == "applied", genuine.text
    assert await _accepted(ab, test["id"], admin) == 1


def _unsigned_structured(data: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    headers, body = cloud_event(FEEDBACK, data, structured=True)
    envelope = json.loads(body)
    envelope.pop("acrsignature")
    return headers, json.dumps(envelope).encode()


async def test_a_replayed_event_counts_once_and_a_structured_copy_verifies(
    ab, versions_url, admin
) -> None:
    test = await running_test(ab, versions_url, admin)
    event_id = str(uuid.uuid4())
    data = _feedback(test, "control", "accepted")
    headers, body = cloud_event(FEEDBACK, data, event_id=event_id, structured=True)
    answers = [
        (await ab.post("/ab-tests/events", content=body, headers=headers)).json()["status"]
        for _ in range(5)
    ]
    assert answers == ["applied"] + ["duplicate"] * 4, answers
    assert await _accepted(ab, test["id"], admin) == 1


async def test_events_for_a_test_that_is_not_running_do_not_count(ab, versions_url, admin) -> None:
    test = await running_test(ab, versions_url, admin)
    stopped = await ab.post(f"/ab-tests/{test['id']}/stop", headers=admin)
    assert stopped.status_code == 200, stopped.text
    headers, body = cloud_event(FEEDBACK, _feedback(test, "control", "accepted"))
    answer = await ab.post("/ab-tests/events", content=body, headers=headers)
    assert answer.json()["status"] == "ignored", answer.text
    assert await _accepted(ab, test["id"], admin) == 0
    outcome = await ab.post(
        f"/ab-tests/{test['id']}/outcomes",
        headers=admin,
        json={"unit": "u", "variant": "control", "metrics": {"accepted": 3}},
    )
    assert outcome.status_code == 409, outcome.text


async def test_reading_results_never_promotes_only_an_admin_stop_does(
    ab, versions_url, admin, member
) -> None:
    test = await running_test(ab, versions_url, admin, auto_promote=True, min_samples=20)
    for unit in range(60):
        for variant, accepted in (("control", unit % 5 == 0), ("treatment", unit % 5 != 0)):
            verdict = "accepted" if accepted else "dismissed"
            data = {**_feedback(test, variant, verdict), "project_id": f"u{unit}"}
            headers, body = cloud_event(FEEDBACK, data)
            await ab.post("/ab-tests/events", content=body, headers=headers)
    for reader in (member, admin):
        results = (await ab.get(f"/ab-tests/{test['id']}/results", headers=reader)).json()
        assert (results["decision"], results["winner"]) == ("winner", "treatment"), results
        assert "promotion" not in results and results["promoted_variant"] is None, results
    async with httpx.AsyncClient(base_url=versions_url, headers=admin) as versions:
        before = await versions.get("/resolve", params={"experiment": test["experiment_id"]})
        assert before.status_code in (200, 404), before.text
        assert before.status_code == 404 or before.json()["version"]["id"] != _version(
            test, "treatment"
        )
        stopped = await ab.post(f"/ab-tests/{test['id']}/stop", headers=admin)
        assert stopped.status_code == 200 and stopped.json()["promoted_variant"] == "treatment"
        after = await versions.get("/resolve", params={"experiment": test["experiment_id"]})
    assert after.json()["version"]["id"] == _version(test, "treatment"), after.text


def _version(test: dict[str, Any], name: str) -> str:
    return str(next(v["version_id"] for v in test["variants"] if v["name"] == name))


async def test_a_poisoned_signed_event_is_a_422_not_a_500(ab, versions_url, admin) -> None:
    """Issue 9 item 11: NUL in an id, or an absurd cost, reached PostgreSQL."""
    test = await running_test(ab, versions_url, admin)
    poisons = [
        (
            "dev.acr.finding.feedback",
            {**_feedback(test, "control", "accepted"), "finding_id": "a\u0000b"},
        ),
        (
            "dev.acr.analysis.completed",
            {
                "analysis_id": "a1",
                "status": "completed",
                "ab_test_id": test["id"],
                "variant": "control",
                "cost_usd": "1e400",
            },
        ),
    ]
    for event_type, data in poisons:
        headers, body = cloud_event(event_type, data)
        answer = await ab.post("/ab-tests/events", content=body, headers=headers)
        assert answer.status_code == 422, answer.text
