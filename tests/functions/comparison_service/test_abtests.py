"""ab-tests over HTTP: lifecycle, sticky assignment, outcome events, results, promotion."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from typing import Any

import httpx
import pytest

from tests.functions.comparison_service._support import (
    ab_test_body,
    cloud_event,
    experiment_with_versions,
    running_test,
)

FEEDBACK = "dev.acr.finding.feedback"
COMPLETED = "dev.acr.analysis.completed"


async def _assign(ab: httpx.AsyncClient, test_id: str, unit: str, headers: dict[str, str]) -> str:
    answer = await ab.get(f"/ab-tests/{test_id}/assign", params={"unit": unit}, headers=headers)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["variant"])


async def _send(ab: httpx.AsyncClient, event_type: str, data: dict[str, Any], **options: Any):
    headers, body = cloud_event(event_type, data, **options)
    answer = await ab.post("/ab-tests/events", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _feedback(test: dict[str, Any], variant: str, verdict: str, **extra: Any) -> dict[str, Any]:
    return {
        "finding_id": extra.pop("finding_id", str(uuid.uuid4())),
        "analysis_id": str(uuid.uuid4()),
        "project_id": extra.pop("project_id", "p1"),
        "verdict": verdict,
        "previous_verdict": extra.pop("previous_verdict", None),
        "ab_test_id": test["id"],
        "variant": variant,
        "config_version_id": test["variants"][0]["version_id"],
    }


async def _results(ab: httpx.AsyncClient, test_id: str, headers: dict[str, str]) -> dict[str, Any]:
    answer = await ab.get(f"/ab-tests/{test_id}/results", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _counts(results: dict[str, Any], variant: str) -> dict[str, int]:
    return next(v["counts"] for v in results["variants"] if v["name"] == variant)


async def test_a_test_is_created_as_a_draft_and_assigns_only_while_running(
    ab, versions_url, admin, member, internal
) -> None:
    experiment_id, ids = await experiment_with_versions(versions_url, admin)
    created = await ab.post("/ab-tests", json=ab_test_body(experiment_id, ids), headers=admin)
    assert created.status_code == 201 and created.json()["status"] == "draft", created.text
    test_id = created.json()["id"]
    draft = await ab.get(f"/ab-tests/{test_id}/assign", params={"unit": "p"}, headers=internal)
    assert draft.status_code == 409 and "draft" in draft.json()["detail"], draft.text
    await ab.post(f"/ab-tests/{test_id}/start", headers=admin)
    assert await _assign(ab, test_id, "p", internal) in {"control", "treatment"}
    stopped = await ab.post(f"/ab-tests/{test_id}/stop", headers=admin)
    assert stopped.json()["status"] == "stopped" and stopped.json()["stopped_at"], stopped.text
    after = await ab.get(f"/ab-tests/{test_id}/assign", params={"unit": "p"}, headers=internal)
    assert after.status_code == 409 and "stopped" in after.json()["detail"], after.text
    again = await ab.post(f"/ab-tests/{test_id}/start", headers=admin)
    assert again.status_code == 409, again.text


async def test_variants_must_be_versions_of_the_tests_experiment(ab, versions_url, admin) -> None:
    experiment_id, ids = await experiment_with_versions(versions_url, admin)
    _, foreign = await experiment_with_versions(versions_url, admin, count=1)
    body = ab_test_body(experiment_id, [ids[0], foreign[0]])
    answer = await ab.post("/ab-tests", json=body, headers=admin)
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["loc"] == ["body", "variants", 1, "version_id"]
    missing = ab_test_body(experiment_id, [ids[0], str(uuid.uuid4())])
    answer = await ab.post("/ab-tests", json=missing, headers=admin)
    assert answer.status_code == 422 and "does not exist" in answer.text, answer.text


async def test_only_one_test_per_experiment_runs_and_the_analysis_side_can_find_it(
    ab, versions_url, admin, member, internal
) -> None:
    experiment_id, ids = await experiment_with_versions(versions_url, admin)
    first = (
        await ab.post("/ab-tests", json=ab_test_body(experiment_id, ids), headers=admin)
    ).json()
    second = (
        await ab.post("/ab-tests", json=ab_test_body(experiment_id, ids), headers=admin)
    ).json()
    query = {"experiment_id": experiment_id, "unit": "project-1"}
    none = await ab.get("/ab-tests/assign", params=query, headers=internal)
    assert none.status_code == 200 and none.json() is None, none.text
    await ab.post(f"/ab-tests/{first['id']}/start", headers=admin)
    clash = await ab.post(f"/ab-tests/{second['id']}/start", headers=admin)
    assert clash.status_code == 409 and "already running" in clash.json()["detail"], clash.text
    found = (await ab.get("/ab-tests/assign", params=query, headers=internal)).json()
    assert found["ab_test_id"] == first["id"] and found["unit"] == "project-1", found
    assert found["version_id"] in ids
    listed = await ab.get(
        "/ab-tests", params={"experiment_id": experiment_id, "status": "running"}, headers=member
    )
    assert [t["id"] for t in listed.json()["items"]] == [first["id"]], listed.text
    every = await ab.get("/ab-tests", params={"experiment_id": experiment_id}, headers=member)
    for item in every.json()["items"]:  # each listed test with its own variants, in order
        alone = (await ab.get(f"/ab-tests/{item['id']}", headers=member)).json()
        assert item == alone and [v["name"] for v in item["variants"]] == ["control", "treatment"]
    assert {t["id"] for t in every.json()["items"]} == {first["id"], second["id"]}
    # the running test is cached per experiment; stopping it forgets that at once
    assert (await ab.post(f"/ab-tests/{first['id']}/stop", headers=admin)).status_code == 200
    after = await ab.get("/ab-tests/assign", params=query, headers=internal)
    assert after.json() is None, after.text
    await ab.post(f"/ab-tests/{second['id']}/start", headers=admin)
    again = (await ab.get("/ab-tests/assign", params=query, headers=internal)).json()
    assert again["ab_test_id"] == second["id"], again


async def test_assignment_is_sticky_across_weight_changes(
    ab, versions_url, admin, internal
) -> None:
    test = await running_test(ab, versions_url, admin)
    before = {u: await _assign(ab, test["id"], f"project-{u}", internal) for u in range(60)}
    assert set(before.values()) == {"control", "treatment"}, before
    patched = await ab.patch(
        f"/ab-tests/{test['id']}",
        json={"variants": [{"name": "control", "weight": 0}, {"name": "treatment", "weight": 1}]},
        headers=admin,
    )
    assert patched.status_code == 200, patched.text
    assert [v["weight"] for v in patched.json()["variants"]] == [0, 1]
    unknown = await ab.patch(
        f"/ab-tests/{test['id']}",
        json={"variants": [{"name": "control", "weight": 1}, {"name": "ghost", "weight": 1}]},
        headers=admin,
    )
    assert unknown.status_code == 422, "the test exists: the body is what is wrong"
    assert "ghost" in unknown.json()["detail"] and unknown.json()["errors"][0]["loc"] == [
        "body",
        "variants",
    ]
    unchanged = (await ab.get(f"/ab-tests/{test['id']}", headers=admin)).json()
    assert [v["weight"] for v in unchanged["variants"]] == [0, 1], "nothing half-applied"
    after = {u: await _assign(ab, test["id"], f"project-{u}", internal) for u in range(60)}
    assert after == before, "a weight change never moves an assigned unit"
    newcomers = {await _assign(ab, test["id"], f"new-{u}", internal) for u in range(30)}
    assert newcomers == {"treatment"}, "new units follow the new weights"
    results = await _results(ab, test["id"], admin)
    srm = results["sample_ratio_mismatch"]
    assert srm["flagged"] is False and srm["observed"]["treatment"] >= 30, srm


async def test_assignments_over_http_follow_the_weights(ab, versions_url, admin, internal) -> None:
    test = await running_test(ab, versions_url, admin)
    units = [f"unit-{i}" for i in range(1000)]
    # 50 in flight at a time, as a busy analysis service would send them: a thousand at once
    # exhaust the function's database pool, which rightly answers 503 (retry later).
    gate = asyncio.Semaphore(50)

    async def assign(unit: str) -> str:
        async with gate:
            return await _assign(ab, test["id"], unit, internal)

    variants = await asyncio.gather(*(assign(u) for u in units))
    share = variants.count("control") / len(variants)
    assert 0.44 <= share <= 0.56, share
    results = await _results(ab, test["id"], admin)
    assert sum(v["units"] for v in results["variants"]) == 1000, results["variants"]


async def test_a_skewed_allocation_is_flagged_as_a_sample_ratio_mismatch(
    ab, versions_url, admin, database_url
) -> None:
    """Units that bypassed the hash (a buggy caller pinning everyone to treatment)."""
    import asyncpg

    from functions.comparison_service import repository

    test = await running_test(ab, versions_url, admin)
    conn = await asyncpg.connect(
        database_url, server_settings={"search_path": "comparison_service"}
    )
    try:
        for i in range(300):
            variant = "treatment" if i % 4 else "control"
            await repository.assign(
                conn, test_id=uuid.UUID(test["id"]), unit=f"u{i}", variant=variant, epoch=1
            )
    finally:
        await conn.close()
    srm = (await _results(ab, test["id"], admin))["sample_ratio_mismatch"]
    assert srm["observed"] == {"control": 75, "treatment": 225}, srm
    assert srm["expected"] == {"control": 150.0, "treatment": 150.0}
    assert srm["flagged"] is True and srm["p_value"] < 0.001, srm


async def test_a_redelivered_event_is_counted_once(ab, versions_url, admin) -> None:
    test = await running_test(ab, versions_url, admin)
    event_id = str(uuid.uuid4())
    data = _feedback(test, "treatment", "accepted")
    first = await _send(ab, FEEDBACK, data, event_id=event_id)
    again = await _send(ab, FEEDBACK, data, event_id=event_id)
    structured = await _send(ab, FEEDBACK, data, event_id=event_id, structured=True)
    assert (first["status"], again["status"], structured["status"]) == (
        "applied",
        "duplicate",
        "duplicate",
    )
    counts = _counts(await _results(ab, test["id"], admin), "treatment")
    assert counts["accepted"] == 1 and counts["judged"] == 1, counts


async def test_an_event_sent_to_a_public_host_is_a_404_and_changes_nothing(
    ab, versions_url, admin
) -> None:
    test = await running_test(ab, versions_url, admin)
    headers, body = cloud_event(FEEDBACK, _feedback(test, "treatment", "accepted"))
    for host in ("ab-tests.ai-codereview.example.com", "127.0.0.1:8061", "testserver"):
        answer = await ab.post("/ab-tests/events", content=body, headers={**headers, "host": host})
        assert answer.status_code == 404, (host, answer.text)
    counts = _counts(await _results(ab, test["id"], admin), "treatment")
    assert counts["judged"] == 0, counts
    # the same event at the cluster-local address is the first to count
    assert (await _send(ab, FEEDBACK, json.loads(body)))["status"] == "applied"


async def test_a_changed_verdict_moves_the_count(ab, versions_url, admin) -> None:
    test = await running_test(ab, versions_url, admin)
    finding_id = str(uuid.uuid4())
    await _send(ab, FEEDBACK, _feedback(test, "control", "accepted", finding_id=finding_id))
    await _send(
        ab,
        FEEDBACK,
        _feedback(
            test, "control", "false_positive", finding_id=finding_id, previous_verdict="accepted"
        ),
    )
    counts = _counts(await _results(ab, test["id"], admin), "control")
    assert (counts["accepted"], counts["false_positive"], counts["judged"]) == (0, 1, 1), counts


async def test_events_without_an_ab_test_are_acknowledged_and_ignored(
    ab, versions_url, admin
) -> None:
    test = await running_test(ab, versions_url, admin)
    data = {**_feedback(test, "control", "accepted"), "ab_test_id": None, "variant": None}
    answer = await _send(ab, FEEDBACK, data)
    assert answer["status"] == "ignored", answer
    unknown = await _send(ab, FEEDBACK, {**data, "ab_test_id": str(uuid.uuid4()), "variant": "x"})
    assert unknown["status"] == "ignored" and "does not exist" in unknown["reason"], unknown
    other = await _send(ab, "dev.acr.analysis.requested", {"analysis_id": "a"})
    assert other["status"] == "ignored", other
    assert _counts(await _results(ab, test["id"], admin), "control")["judged"] == 0


async def test_completed_analyses_feed_cost_and_latency_once_per_analysis(
    ab, versions_url, admin
) -> None:
    test = await running_test(ab, versions_url, admin)
    analysis_id = str(uuid.uuid4())
    data = {
        "analysis_id": analysis_id,
        "project_id": "p",
        "status": "completed",
        "ab_test_id": test["id"],
        "variant": "control",
        "config_version_id": "v",
        "cost_usd": "0.0125",
        "latency_ms": 1500,
        "findings": 4,
    }
    assert (await _send(ab, COMPLETED, data))["status"] == "applied"
    assert (await _send(ab, COMPLETED, data))["status"] == "unchanged", "same analysis, new id"
    await _send(
        ab,
        COMPLETED,
        {**data, "analysis_id": str(uuid.uuid4()), "cost_usd": "0.0375", "latency_ms": 2500},
    )
    await _send(ab, COMPLETED, {**data, "analysis_id": str(uuid.uuid4()), "status": "failed"})
    control = (await _results(ab, test["id"], admin))["variants"][0]
    assert control["counts"]["analyses"] == 2 and control["counts"]["failed_analyses"] == 1
    assert abs(control["metrics"]["cost_per_analysis"]["value"] - 0.025) < 1e-12, control
    latency = control["metrics"]["latency_ms"]
    assert latency["value"] == 2000 and 1400 <= latency["p50"] <= 1600 <= latency["p95"], latency


async def test_a_malformed_event_is_a_client_error(ab, versions_url, admin) -> None:
    test = await running_test(ab, versions_url, admin)
    headers, body = cloud_event(FEEDBACK, {**_feedback(test, "control", "maybe")})
    bad_verdict = await ab.post("/ab-tests/events", content=body, headers=headers)
    assert bad_verdict.status_code == 422 and "verdict" in bad_verdict.text, bad_verdict.text
    not_an_event = await ab.post(
        "/ab-tests/events", json={"hello": "world"}, headers={"host": headers["host"]}
    )
    assert not_an_event.status_code == 400, not_an_event.text


async def test_posted_outcomes_must_match_the_units_assignment(ab, versions_url, admin) -> None:
    test = await running_test(ab, versions_url, admin)
    variant = await _assign(ab, test["id"], "project-x", admin)
    other = "control" if variant == "treatment" else "treatment"
    metrics = {"accepted": 3, "dismissed": 1, "cost_usd": "0.02", "latency_ms": 800}
    ok = await ab.post(
        f"/ab-tests/{test['id']}/outcomes",
        json={"unit": "project-x", "variant": variant, "metrics": metrics},
        headers=admin,
    )
    assert ok.status_code == 201, ok.text
    wrong = await ab.post(
        f"/ab-tests/{test['id']}/outcomes",
        json={"unit": "project-x", "variant": other, "metrics": metrics},
        headers=admin,
    )
    unassigned = await ab.post(
        f"/ab-tests/{test['id']}/outcomes",
        json={"unit": "nobody", "variant": other, "metrics": metrics},
        headers=admin,
    )
    assert wrong.status_code == 409 and unassigned.status_code == 409, (wrong.text, unassigned.text)
    counts = _counts(await _results(ab, test["id"], admin), variant)
    assert (counts["accepted"], counts["dismissed"], counts["analyses"]) == (3, 1, 1), counts


async def test_a_simulated_test_over_http_finds_the_better_variant_and_promotes_it(
    ab, versions_url, admin, member, internal
) -> None:
    test = await running_test(ab, versions_url, admin, min_samples=50)
    rng = random.Random(3)
    rates = {"control": 0.30, "treatment": 0.70}
    for unit in range(160):
        variant = await _assign(ab, test["id"], f"project-{unit}", internal)
        accepted = sum(rng.random() < rates[variant] for _ in range(2))
        recorded = await ab.post(
            f"/ab-tests/{test['id']}/outcomes",
            headers=admin,
            json={
                "unit": f"project-{unit}",
                "variant": variant,
                "metrics": {"accepted": accepted, "dismissed": 2 - accepted},
            },
        )
        assert recorded.status_code == 201, recorded.text
    results = await _results(ab, test["id"], member)
    assert (results["decision"], results["winner"]) == ("winner", "treatment"), results["reason"]
    comparison = results["comparisons"][0]["metrics"]["acceptance_rate"]
    assert comparison["lift"] > 0 and comparison["p_value"] < 0.001, comparison
    denied = await ab.post(f"/ab-tests/{test['id']}/promote", json={}, headers=member)
    assert denied.status_code == 403, denied.text
    promoted = await ab.post(f"/ab-tests/{test['id']}/promote", json={}, headers=admin)
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["version_id"] == test["variants"][1]["version_id"]
    async with httpx.AsyncClient(base_url=versions_url, headers=admin) as versions:
        history = await versions.get(
            f"/experiments/{test['experiment_id']}/aliases/production/history"
        )
        resolved = await versions.get("/resolve", params={"experiment": test["experiment_id"]})
    latest = history.json()["items"][0]
    assert latest["to_version_id"] == test["variants"][1]["version_id"], latest
    assert latest["reason"].startswith(f"A/B test {test['name']}: treatment won (p="), latest
    assert resolved.json()["version"]["id"] == test["variants"][1]["version_id"], resolved.text
    twice = await ab.post(f"/ab-tests/{test['id']}/promote", json={}, headers=admin)
    assert twice.status_code == 409, twice.text


async def test_without_a_winner_only_a_forced_promotion_moves_production(
    ab, versions_url, admin
) -> None:
    test = await running_test(ab, versions_url, admin)
    refused = await ab.post(f"/ab-tests/{test['id']}/promote", json={}, headers=admin)
    assert refused.status_code == 409 and "no winner" in refused.json()["detail"], refused.text
    forced = await ab.post(
        f"/ab-tests/{test['id']}/promote",
        json={"variant": "treatment", "force": True},
        headers=admin,
    )
    assert forced.status_code == 200, forced.text
    assert "promoted by an admin without a winner" in forced.json()["reason"]
    shown = await ab.get(f"/ab-tests/{test['id']}", headers=admin)
    assert shown.json()["promoted_variant"] == "treatment", shown.text


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/ab-tests/not-a-uuid", None, 422),
        ("GET", f"/ab-tests/{uuid.uuid4()}", None, 404),
        ("GET", f"/ab-tests/{uuid.uuid4()}/results", None, 404),
        ("GET", f"/ab-tests/{uuid.uuid4()}/assign?unit=p", None, 404),
        ("POST", f"/ab-tests/{uuid.uuid4()}/start", None, 404),
        ("GET", "/ab-tests/assign?experiment_id=nope&unit=p", None, 422),
        ("GET", "/ab-tests?status=paused", None, 422),
        (
            "POST",
            "/ab-tests",
            {"name": "x", "experiment_id": str(uuid.uuid4()), "variants": []},
            422,
        ),
        ("POST", "/ab-tests", {"name": "../etc", "experiment_id": "x", "variants": [{}]}, 422),
    ],
)
async def test_hostile_requests_get_precise_problems(ab, admin, method, path, body, status) -> None:
    answer = await ab.request(method, path, json=body, headers=admin)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"


async def test_forged_or_missing_tokens_are_401_and_members_cannot_manage(
    ab, versions_url, admin, member, identity
) -> None:
    test = await running_test(ab, versions_url, admin)
    forged = identity.token(role="admin")[:-4] + "AAAA"
    bad = {"Authorization": f"Bearer {forged}"}
    assert (await ab.get(f"/ab-tests/{test['id']}", headers=bad)).status_code == 401
    assert (await ab.get(f"/ab-tests/{test['id']}")).status_code == 401
    headers, body = cloud_event(FEEDBACK, _feedback(test, "control", "accepted"))
    forged_event = await ab.post("/ab-tests/events", content=body, headers={**headers, **bad})
    assert forged_event.status_code == 401, forged_event.text
    stop = await ab.post(f"/ab-tests/{test['id']}/stop", headers=member)
    assert stop.status_code == 403, stop.text
    outcome = await ab.post(
        f"/ab-tests/{test['id']}/outcomes",
        headers=member,
        json={"unit": "u", "variant": "control", "metrics": {}},
    )
    assert outcome.status_code == 403, outcome.text


async def test_a_member_cannot_choose_units_to_fill_one_arm(
    ab, versions_url, admin, member
) -> None:
    """Issue 9 item 9: 40 chosen units all landed in control and fired the SRM check. A
    member's assignment is their own (unit = their user id); only internal services (the
    analysis, for its project) and admins name a unit."""
    test = await running_test(ab, versions_url, admin)
    for unit in ("project-1", "someone-else"):
        chosen = await ab.get(
            f"/ab-tests/{test['id']}/assign", params={"unit": unit}, headers=member
        )
        assert chosen.status_code == 403, chosen.text
        by_experiment = await ab.get(
            "/ab-tests/assign",
            params={"experiment_id": test["experiment_id"], "unit": unit},
            headers=member,
        )
        assert by_experiment.status_code == 403, by_experiment.text
    own = await ab.get(f"/ab-tests/{test['id']}/assign", headers=member)
    assert own.status_code == 200 and own.json()["unit"] != "project-1", own.text
    results = await _results(ab, test["id"], admin)
    assert sum(v["units"] for v in results["variants"]) == 1, "only the member's own unit"
