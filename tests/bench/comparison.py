"""version-control and comparison benchmarks: cached ``/resolve`` and A/B assignment under load
beside hello, and the results of an A/B test holding a million outcome events."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from tests.bench.harness import (
    Bench,
    Result,
    Server,
    benchmark,
    call,
    interleave,
    load_results,
    load_rounds,
    pinned,
    timed,
)
from tests.bench.loadgen import Target

CONFIG: dict[str, Any] = {
    "prompt_template": "Review {path} ({language}):\n{code}",
    "routing": {"candidates": [{"provider": "local", "model": "local-analyzers"}]},
    "analyzers": ["ruff"],
    "severity_threshold": "low",
}


@benchmark("resolve", "versions GET /resolve (Redis-cached) vs hello under keep-alive load")
def resolve(bench: Bench) -> list[Result]:
    versions, hello = bench.shared("versions", "hello")
    member = bench.identity.headers()
    path = "/resolve?experiment=default&alias=production"
    for _ in range(2):  # the second answer comes from the cache
        answer = client_get(versions, path, member)
    if answer.headers.get("x-cache") != "hit":
        raise RuntimeError(f"/resolve was not cached: {answer.headers}")
    subject = Target.get("versions /resolve", versions.port, path, member)
    hello_target = Target.get("hello", hello.port, "/", {})
    with pinned(versions, hello):
        values, base = load_rounds(
            bench,
            [subject, hello_target],
            duration=bench.options.service_duration,
            servers=[versions, hello],
        )
    return load_results(
        "resolve", "GET /resolve (cache hit) vs GET /", subject, values, hello_target, base
    )


def client_get(server: Server, path: str, headers: dict[str, str]) -> Any:
    from tests.bench.harness import client

    response = client().get(f"{server.url}{path}", headers=headers)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:500]}")
    return response


def running_test(bench: Bench, versions: Server, ab_tests: Server, *, start: bool = True) -> str:
    """A new experiment with two versions and a (running) A/B test between them; its id."""
    admin = bench.admin
    experiment = call(
        "POST",
        f"{versions.url}/experiments",
        json={"name": f"exp-{uuid.uuid4().hex[:10]}"},
        headers=admin,
        expect=(201,),
    )["id"]
    ids = [
        call(
            "POST",
            f"{versions.url}/experiments/{experiment}/versions",
            json={"config": {**CONFIG, "token_budget": 1000 + i}},
            headers=admin,
            expect=(201,),
        )["id"]
        for i in range(2)
    ]
    body = {
        "name": f"bench-{uuid.uuid4().hex[:10]}",
        "experiment_id": experiment,
        "variants": [
            {"name": name, "version_id": version, "weight": 1}
            for name, version in zip(("control", "treatment"), ids, strict=True)
        ],
        "min_samples": 1000,
    }
    test_id = str(
        call("POST", f"{ab_tests.url}/ab-tests", json=body, headers=admin, expect=(201,))["id"]
    )
    if start:
        call("POST", f"{ab_tests.url}/ab-tests/{test_id}/start", headers=admin, expect=(200,))
    return test_id


@benchmark("assign", "ab-tests GET /ab-tests/{id}/assign (new and repeat units) vs hello")
def assign(bench: Bench) -> list[Result]:
    versions, hello = bench.shared("versions", "hello")
    (ab_tests,) = bench.shared(("ab_tests", {"VERSIONS_URL": versions.url}))
    test_id = running_test(bench, versions, ab_tests)
    # analysis-service's platform token: only internal services name the unit (issue 9)
    member = bench.identity.headers("sa:platform", role="service", scope="internal")
    units = bench.options.assign_units
    for n in range(units):  # every repeat unit is assigned (and cached) before the load
        client_get(ab_tests, f"/ab-tests/{test_id}/assign?unit=repeat-{n}", member)
    base_path = f"/ab-tests/{test_id}/assign?unit="
    new = Target.get("assign new unit", ab_tests.port, base_path + "new-{uuid}", member)
    repeat = Target(
        "assign repeat unit",
        ab_tests.port,
        (Target.get("", 0, base_path + "repeat-{n}", member).steps[0],),
        choices=units,
    )
    hello_target = Target.get("hello", hello.port, "/", {})
    with pinned(ab_tests, hello):
        fresh, again, base = load_rounds(
            bench, [new, repeat, hello_target], duration=bench.options.service_duration
        )
    return [
        *load_results(
            "assign", "GET assign?unit=<new uuid> vs GET /", new, fresh, hello_target, base
        ),
        *load_results(
            "assign",
            f"GET assign?unit=<one of {units}> vs GET /",
            repeat,
            again,
            hello_target,
            base,
        ),
    ]


# ---------------------------------------------------------------- a million outcome events


FEEDBACK = "dev.acr.finding.feedback"
COMPLETED = "dev.acr.analysis.completed"
RATES = {"control": 0.40, "treatment": 0.43}  # acceptance; 10% of verdicts are false positives


def outcome_events(
    test_id: str, count: int, units: list[str], assigned: dict[str, str], seed: int = 7
) -> list[tuple[str, str, dict[str, Any]]]:
    """``(event id, type, data)`` as the analysis side emits them: 5% analysis completions,
    the rest first verdicts on findings."""
    rng = random.Random(seed)
    events = []
    for i in range(count):
        unit = units[i % len(units)]
        variant = assigned[unit]
        common = {
            "project_id": unit,
            "ab_test_id": test_id,
            "variant": variant,
            "config_version_id": None,
        }
        if i % 20 == 0:
            data = {
                **common,
                "analysis_id": f"a-{i}",
                "status": "completed",
                "cost_usd": f"{rng.uniform(0.01, 0.2):.6f}",
                "latency_ms": rng.lognormvariate(9, 0.5),
                "findings": rng.randint(0, 30),
            }
            events.append((str(uuid.uuid4()), COMPLETED, data))
        else:
            draw = rng.random()
            verdict = (
                "false_positive"
                if draw < 0.1
                else "accepted"
                if draw < 0.1 + 0.9 * RATES[variant]
                else "dismissed"
            )
            data = {
                **common,
                "finding_id": f"f-{i}",
                "analysis_id": f"a-{i - i % 20}",
                "verdict": verdict,
                "previous_verdict": None,
            }
            events.append((str(uuid.uuid4()), FEEDBACK, data))
    return events


async def ingest(
    database_url: str, test_id: str, count: int, *, real: int = 1000, batch: int = 100_000
) -> dict[str, float]:
    """Write ``count`` outcome events: the first ``real`` through the service's own
    ``outcomes.apply_event`` (one transaction each, as the events endpoint does), the rest in
    batches: the raw rows that path writes by COPY, and the aggregates through the service's
    ``repository.bump`` (verdict counts summed per variant, each completion on its own)."""
    import asyncpg

    from functions.comparison_service import assignment, outcomes, repository

    test = uuid.UUID(test_id)
    started = time.perf_counter()
    conn = await asyncpg.connect(
        database_url, server_settings={"search_path": "comparison_service"}
    )
    try:
        weights = [("control", 1.0), ("treatment", 1.0)]
        units = [f"project-{n}" for n in range(max(10, min(5000, count // 200)))]
        assigned = {u: assignment.pick(test_id, u, weights) for u in units}
        async with conn.transaction():
            for unit, variant in assigned.items():
                await repository.assign(conn, test_id=test, unit=unit, variant=variant, epoch=1)
        events = outcome_events(test_id, count, units, assigned)
        for event_id, event_type, data in events[:real]:
            async with conn.transaction():
                answer = await outcomes.apply_event(
                    conn,
                    event_id=event_id,
                    event_type=event_type,
                    data=data,
                    produced_at=datetime.now(UTC),  # the signed time of a running test's event
                )
            if answer["status"] != "applied":
                raise RuntimeError(f"event {event_id}: {answer}")
        for first in range(real, count, batch):
            await _bulk(conn, test, events[first : first + batch], repository)
        stats = await repository.variant_stats(conn, test)
    finally:
        await conn.close()
    judged = sum(s.accepted + s.dismissed + s.false_positive for s in stats.values())
    analyses = sum(s.analyses for s in stats.values())
    if judged + analyses != count:
        raise RuntimeError(f"aggregates hold {judged} verdicts + {analyses} analyses, not {count}")
    return {"seconds": time.perf_counter() - started, "units": len(units)}


async def _bulk(
    conn: Any, test: uuid.UUID, events: list[tuple[str, str, dict[str, Any]]], repository: Any
) -> None:
    async with conn.transaction():
        await conn.copy_records_to_table(
            "processed_events",
            records=[(e, t) for e, t, _ in events],
            columns=["event_id", "event_type"],
        )
        verdicts = [
            (test, d["finding_id"], d["variant"], d["verdict"])
            for _, t, d in events
            if t == FEEDBACK
        ]
        await conn.copy_records_to_table(
            "finding_verdicts",
            records=verdicts,
            columns=["test_id", "finding_id", "variant", "verdict"],
        )
        await conn.copy_records_to_table(
            "counted_analyses",
            records=[(test, d["analysis_id"]) for _, t, d in events if t == COMPLETED],
            columns=["test_id", "analysis_id"],
        )
        await conn.copy_records_to_table(
            "outcomes",
            records=[
                (test, d["variant"], d["project_id"], t, e, json.dumps(d)) for e, t, d in events
            ],
            columns=["test_id", "variant", "unit", "source", "event_id", "data"],
        )
        summed: dict[tuple[str, str], int] = {}
        for _, variant, verdict in ((v[0], v[2], v[3]) for v in verdicts):
            summed[variant, verdict] = summed.get((variant, verdict), 0) + 1
        for (variant, verdict), n in summed.items():
            await repository.bump(conn, test_id=test, variant=variant, counts={verdict: n})
        for _, t, d in events:
            if t == COMPLETED:
                await repository.bump(
                    conn,
                    test_id=test,
                    variant=d["variant"],
                    counts={"analyses": 1},
                    cost=float(d["cost_usd"]),
                    latency=d["latency_ms"],
                )


@benchmark("ab_results", "GET /ab-tests/{id}/results over 1,000,000 outcome events vs GET the test")
def ab_results(bench: Bench) -> list[Result]:
    (versions,) = bench.shared("versions")
    (ab_tests,) = bench.shared(("ab_tests", {"VERSIONS_URL": versions.url}))
    test_id = running_test(bench, versions, ab_tests)
    count = bench.options.ab_events
    ingested = asyncio.run(ingest(bench.database_url, test_id, count, real=min(1000, count // 2)))
    member = bench.identity.headers()
    url = f"{ab_tests.url}/ab-tests/{test_id}"
    first_ms, document = timed("GET", f"{url}/results", headers=member, expect=(200,))
    if "decision" not in document:
        raise RuntimeError(f"results answered {document}")
    results, reads = interleave(
        bench.options.results_calls,
        lambda: timed("GET", f"{url}/results", headers=member, expect=(200,))[0],
        lambda: timed("GET", url, headers=member, expect=(200,))[0],
    )
    return [
        Result(
            "ab_results",
            f"GET /results, {count:,} events",
            "ms",
            "ab-tests",
            results,
            "GET /ab-tests/{id}",
            reads,
            notes={
                "ingest": {
                    "events": count,
                    "seconds": round(ingested["seconds"], 1),
                    "units": ingested["units"],
                    "first_results_ms": round(first_ms, 1),
                    "decision": document["decision"],
                }
            },
        )
    ]
