"""analyses and analysis-worker in-process, against real projects/project-files/versions
processes, a stand-in orchestrator (the /review contract) and a recording event sink."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import jsonschema

from tests.functions.analysis_service._support import (
    PY312,
    Service,
    StandInOrchestrator,
    add_member,
    new_user,
    project_with_files,
    wait_until,
)
from tests.helpers import Accounts

REQUESTED = "dev.acr.analysis.requested"
SARIF_SCHEMA = Path(__file__).resolve().parents[2] / "fixtures" / "sarif-2.1.0.json"
FILES = {
    "app/main.py": "import os\n\n\ndef run(text):\n    return eval(text)\n",
    "app/util.py": "def helper(x):\n    # TODO: validate x\n    return eval(x)\n",
    "README.md": "# demo\n",
}
DIFF = """diff --git a/app/main.py b/app/main.py
--- a/app/main.py
+++ b/app/main.py
@@ -1,4 +1,5 @@
 import os
+import sys
 
 
 def run(text):
@@ -20,4 +21,5 @@ def later():
     a = 1
     b = 2
-    return a
+    value = eval(b)
+    return value
     # end
"""


async def _project(
    service: Service, owner: dict[str, str], files: dict[str, str]
) -> tuple[str, str]:
    urls = service.platform.urls
    return await project_with_files(urls["projects"], urls["project_files"], owner, files)


def _last_event(service: Service, analysis_id: str) -> tuple[dict[str, str], bytes]:
    matching = [
        e
        for e in service.sink.of_type(REQUESTED)
        if json.loads(e[1]).get("analysis_id") == analysis_id
    ]
    assert matching, f"no requested event for {analysis_id} in {service.sink.received}"
    return matching[-1]


async def _deliver(service: Service, analysis_id: str) -> Any:
    headers, body = _last_event(service, analysis_id)
    ce = {k: v for k, v in headers.items() if k.startswith("ce-") or k == "content-type"}
    return await service.worker.post("/", content=body, headers=ce)


async def _analyze(
    service: Service, owner: dict[str, str], body: dict[str, Any], **headers: str
) -> dict[str, Any]:
    created = await service.api.post("/analyses", json=body, headers={**owner, **headers})
    assert created.status_code == 202, created.text
    delivered = await _deliver(service, created.json()["id"])
    assert delivered.status_code == 200, delivered.text
    found = await service.api.get(f"/analyses/{created.json()['id']}", headers=owner)
    assert found.status_code == 200, found.text
    result: dict[str, Any] = found.json()
    return result


async def _findings(
    service: Service, owner: dict[str, str], analysis_id: str, **params: str
) -> list[dict[str, Any]]:
    answer = await service.api.get(
        f"/analyses/{analysis_id}/findings", params=params, headers=owner
    )
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def _db(database_url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("set search_path to analysis_service")
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def test_post_is_idempotent_and_sends_a_binary_cloudevent_to_k_sink(
    service: Callable[..., Service], identity: Any, database_url: str
) -> None:
    svc = service()
    user = new_user()
    owner = identity.headers(user)
    project_id, snapshot_id = await _project(svc, owner, FILES)
    body = {"project_id": project_id, "snapshot_id": snapshot_id}
    first = await svc.api.post("/analyses", json=body, headers={**owner, "Idempotency-Key": "k1"})
    again = await svc.api.post("/analyses", json=body, headers={**owner, "Idempotency-Key": "k1"})
    # Another token of the same user misses the Redis record: the database guard answers.
    other_token = identity.headers(user)
    guarded = await svc.api.post(
        "/analyses", json=body, headers={**other_token, "Idempotency-Key": "k1"}
    )
    assert first.status_code == 202, first.text
    assert first.json()["status"] == "queued" and first.json()["kind"] == "snapshot"
    assert again.json()["id"] == first.json()["id"] == guarded.json()["id"]
    assert again.headers.get("idempotent-replayed") == "true"
    rows = await _db(
        database_url, "select id from analyses where project_id = $1", uuid.UUID(project_id)
    )
    assert len(rows) == 1, "One Idempotency-Key must create one analysis."
    headers, data = _last_event(svc, first.json()["id"])
    assert headers["ce-specversion"] == "1.0" and headers["ce-type"] == REQUESTED
    assert headers["ce-source"] == "//ai-codereview.dev/analyses"
    assert headers["content-type"].startswith("application/json"), "binary mode: data is the body"
    assert json.loads(data) == {"analysis_id": first.json()["id"]}
    assert first.json()["config_version_id"], "the production version is recorded at once"


async def test_hostile_requests_get_401_404_413_and_422(
    service: Callable[..., Service], identity: Any
) -> None:
    svc = service(MAX_DIFF_BYTES="2000")
    owner = identity.headers(new_user())
    stranger = identity.headers(new_user())
    project_id, snapshot_id = await _project(svc, owner, FILES)
    body = {"project_id": project_id, "snapshot_id": snapshot_id}
    forged = {"Authorization": "Bearer " + identity.token(new_user())[:-8] + "AAAAAAAA"}
    assert (await svc.api.post("/analyses", json=body, headers=forged)).status_code == 401
    stranger_post = await svc.api.post("/analyses", json=body, headers=stranger)
    assert stranger_post.status_code == 404, stranger_post.text
    created = await svc.api.post("/analyses", json=body, headers=owner)
    analysis_id = created.json()["id"]
    assert (await svc.api.get(f"/analyses/{analysis_id}", headers=stranger)).status_code == 404
    assert (await svc.api.get(f"/analyses/{uuid.uuid4()}", headers=owner)).status_code == 404
    missing = await svc.api.post(
        f"/findings/{uuid.uuid4()}/feedback", json={"verdict": "accepted"}, headers=owner
    )
    assert missing.status_code == 404
    unknown_snapshot = {"project_id": project_id, "snapshot_id": str(uuid.uuid4())}
    assert (
        await svc.api.post("/analyses", json=unknown_snapshot, headers=owner)
    ).status_code == 404
    bad = await svc.api.post(
        "/analyses", json={"project_id": project_id, "diff": "@@ -1 +1 @@\n-a\n+b\n"}, headers=owner
    )
    assert bad.status_code == 422 and "diff" in bad.text, bad.text
    huge = await svc.api.post(
        "/analyses", json={"project_id": project_id, "diff": DIFF + "x" * 5000}, headers=owner
    )
    assert huge.status_code == 413, huge.text
    both = await svc.api.post("/analyses", json={**body, "diff": DIFF}, headers=owner)
    assert both.status_code == 422


async def test_a_snapshot_analysis_stores_findings_usage_version_and_coverage(
    service: Callable[..., Service], identity: Any, stand_in: StandInOrchestrator
) -> None:
    svc = service()
    owner = identity.headers(new_user())
    files = {**FILES, "app/modern.py": f"{PY312}\nvalue = eval('1')\n"}
    project_id, snapshot_id = await _project(svc, owner, files)
    done = await _analyze(svc, owner, {"project_id": project_id, "snapshot_id": snapshot_id})
    assert done["status"] == "completed" and done["progress"] == 1.0, done
    findings = await _findings(svc, owner, done["id"])
    where = sorted((f["path"], f["line"], f["rule"]) for f in findings)
    assert where == [
        ("app/main.py", 5, "B307"),
        ("app/modern.py", 2, "B307"),
        ("app/util.py", 3, "B307"),
    ]
    assert all(f["config_version_id"] == done["config_version_id"] for f in findings)
    assert done["summary"]["by_severity"]["high"] == 3
    coverage = done["coverage"]
    modern = next(f for f in coverage["files"] if f["path"] == "app/modern.py")
    assert modern["status"] == "partial", coverage
    assert modern["reasons"][0]["code"] == "parse_error:bandit", "bandit could not parse it"
    assert {"ruff", "secrets"} <= set(coverage["analyzers"]), "the others still reviewed it"
    readme = next(f for f in coverage["files"] if f["path"] == "README.md")
    assert readme["status"] in ("reviewed", "skipped"), readme
    assert {c.split(":", 1)[0] for c in stand_in.calls} == {"static"}, "local routing: no AI pass"


async def test_a_diff_analysis_reviews_only_changed_hunks_with_new_file_line_numbers(
    service: Callable[..., Service], identity: Any, stand_in: StandInOrchestrator
) -> None:
    svc = service()
    owner = identity.headers(new_user())
    project_id, _ = await _project(svc, owner, FILES)
    done = await _analyze(svc, owner, {"project_id": project_id, "diff": DIFF})
    assert done["status"] == "completed" and done["kind"] == "diff", done
    starts = sorted(
        (c["start_line"], c["content"].count("\n") + 1)
        for r in stand_in.requests
        for c in r["chunks"]
    )
    assert starts == [(1, 5), (21, 5)], f"two regions in new-file numbers, got {starts}"
    findings = await _findings(svc, owner, done["id"])
    assert [(f["path"], f["line"], f["on_changed_line"]) for f in findings] == [
        ("app/main.py", 23, True)
    ], findings


async def test_one_event_delivered_twice_at_once_produces_one_set_of_findings(
    service: Callable[..., Service], identity: Any, stand_in: StandInOrchestrator, database_url: str
) -> None:
    stand_in.delay = 0.2
    svc = service()
    owner = identity.headers(new_user())
    project_id, snapshot_id = await _project(svc, owner, FILES)
    created = await svc.api.post(
        "/analyses", json={"project_id": project_id, "snapshot_id": snapshot_id}, headers=owner
    )
    analysis_id = created.json()["id"]
    first, second = await asyncio.gather(_deliver(svc, analysis_id), _deliver(svc, analysis_id))
    statuses = sorted([first.json()["status"], second.json()["status"]])
    # The second delivery of the same id is held off by its Redis claim (shared.events.delivery).
    assert statuses == ["completed", "duplicate"], statuses
    assert max(stand_in.calls.values()) == 1, f"a chunk was reviewed twice: {stand_in.calls}"
    third = await _deliver(svc, analysis_id)
    assert third.json()["status"] == "duplicate", "the handled event is recognised by its id"
    rows = await _db(
        database_url,
        "select count(*) as n from findings where analysis_id = $1",
        uuid.UUID(analysis_id),
    )
    assert rows[0]["n"] == 2


async def test_progress_moves_chunk_by_chunk_to_one(
    service: Callable[..., Service], identity: Any, stand_in: StandInOrchestrator
) -> None:
    stand_in.delay = 0.15
    svc = service(WORKER_CONCURRENCY="1")
    owner = identity.headers(new_user())
    files = {f"pkg/m{i}.py": f"x = {i}\n" for i in range(4)}
    project_id, snapshot_id = await _project(svc, owner, files)
    created = await svc.api.post(
        "/analyses", json={"project_id": project_id, "snapshot_id": snapshot_id}, headers=owner
    )
    analysis_id = created.json()["id"]
    delivery = asyncio.ensure_future(_deliver(svc, analysis_id))
    seen = set()
    while not delivery.done():
        seen.add((await svc.api.get(f"/analyses/{analysis_id}", headers=owner)).json()["progress"])
        await asyncio.sleep(0.03)
    assert (await delivery).json()["status"] == "completed"
    final = (await svc.api.get(f"/analyses/{analysis_id}", headers=owner)).json()["progress"]
    assert final == 1.0
    assert seen <= {0.0, 0.25, 0.5, 0.75, 1.0}, seen
    assert len(seen & {0.25, 0.5, 0.75}) >= 2, f"one step per chunk: {seen}"


async def test_filtered_pages_of_many_findings_are_the_filtered_list_in_order(
    service: Callable[..., Service], identity: Any
) -> None:
    """More findings than one read batch: pages follow the keyset in SQL and still hold
    exactly the filtered findings, in (path, line) order, each once."""
    svc = service()
    owner = identity.headers(new_user())
    files = {"big/a.py": "y = eval(a)\n" * 420, "big/b.py": "x = 1\nz = eval(b)\n"}
    project_id, snapshot_id = await _project(svc, owner, files)
    done = await _analyze(svc, owner, {"project_id": project_id, "snapshot_id": snapshot_id})

    async def pages(**params: str) -> list[tuple[str, int, str]]:
        seen: list[tuple[str, int, str]] = []
        cursor = None
        while True:
            query = {**params, **({"cursor": cursor} if cursor else {})}
            page = await svc.api.get(
                f"/analyses/{done['id']}/findings", params=query, headers=owner
            )
            assert page.status_code == 200, page.text
            seen += [(f["path"], f["line"], f["severity"]) for f in page.json()["items"]]
            cursor = page.json()["next_cursor"]
            if not cursor:
                return seen

    everything = await pages(limit="200")
    assert len(everything) == 421 and everything == sorted(everything), len(everything)
    assert len(set(everything)) == 421, "no finding twice across pages"
    assert await pages(limit="9") == everything
    # the one match lies past two read batches of 200 rows
    assert await pages(limit="9", path="big/b.py") == [("big/b.py", 2, "high")]


async def test_a_service_acting_for_the_owner_queues_an_analysis_as_that_owner(
    service: Callable[..., Service], identity: Any
) -> None:
    """project-files is asked for the snapshot as the user the service acts for: the
    identity forwarded is Authorization and X-Acting-User together."""
    svc = service()
    user = new_user()
    project_id, snapshot_id = await _project(svc, identity.headers(user), FILES)
    acting = {
        **identity.headers("sa:ci", role="service", scope="internal"),
        "X-Acting-User": user,
    }
    body = {"project_id": project_id, "snapshot_id": snapshot_id}
    created = await svc.api.post("/analyses", json=body, headers=acting)
    assert created.status_code == 202, created.text


async def test_a_service_token_acting_for_nobody_is_refused_as_a_problem_not_a_500(
    service: Callable[..., Service], identity: Any
) -> None:
    """Issue 11 point 2: an analysis is requested by, and charged to, a user; a service
    token naming none has nobody to act for (it answered 500 once)."""
    svc = service()
    user = new_user()
    project_id, snapshot_id = await _project(svc, identity.headers(user), FILES)
    body = {"project_id": project_id, "snapshot_id": snapshot_id}
    for scope in ("internal", "reviews:write"):
        bare = identity.headers("sa:ci", role="service", scope=scope)
        answer = await svc.api.post("/analyses", json=body, headers=bare)
        assert answer.status_code == 403, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        problem = answer.json()
        assert problem["type"].endswith("/forbidden") and problem["instance"] == "/analyses"
        assert "X-Acting-User" in problem["detail"], problem


async def test_events_at_a_public_host_reach_no_worker_route(
    service: Callable[..., Service],
    client_for: Callable[..., Any],
    service_env: dict[str, str],
    identity: Any,
    stand_in: StandInOrchestrator,
) -> None:
    svc = service()
    owner = identity.headers(new_user())
    project_id, snapshot_id = await _project(svc, owner, FILES)
    created = await svc.api.post(
        "/analyses", json={"project_id": project_id, "snapshot_id": snapshot_id}, headers=owner
    )
    analysis_id = created.json()["id"]
    headers, body = _last_event(svc, analysis_id)
    ce = {k: v for k, v in headers.items() if k.startswith("ce-") or k == "content-type"}
    outside = client_for("analysis_worker", host="analysis-worker.example.com", **service_env)
    for path in ("/", "/requeue", "/dead-letter"):
        answer = await outside.post(path, content=body, headers=ce)
        assert answer.status_code == 404, (path, answer.text)
    assert stand_in.calls == {}, "nothing was reviewed"
    job = await svc.api.get(f"/analyses/{analysis_id}", headers=owner)
    assert job.json()["status"] == "queued", job.text
    assert (await _deliver(svc, analysis_id)).json()["status"] == "completed"


async def test_unsigned_or_forged_events_start_nothing_even_at_the_cluster_host(
    service: Callable[..., Service], identity: Any, stand_in: StandInOrchestrator
) -> None:
    """Issue 9 item 1: any pod can use the cluster-local Host; only a signature counts."""
    svc = service()
    owner = identity.headers(new_user())
    project_id, snapshot_id = await _project(svc, owner, FILES)
    created = await svc.api.post(
        "/analyses", json={"project_id": project_id, "snapshot_id": snapshot_id}, headers=owner
    )
    analysis_id = created.json()["id"]
    headers, body = _last_event(svc, analysis_id)
    ce = {k: v for k, v in headers.items() if k.startswith("ce-") or k == "content-type"}
    assert ce["ce-acrsignature"].startswith("v1="), "the producer signs what it emits"
    unsigned = {k: v for k, v in ce.items() if k != "ce-acrsignature"}
    forged = {**ce, "ce-acrsignature": "v1=" + "A" * 43}
    renamed = {**ce, "ce-id": str(uuid.uuid4())}  # a replay under a new id breaks the signature
    for path in ("/", "/dead-letter"):
        for attempt in (unsigned, forged, renamed):
            answer = await svc.worker.post(path, content=body, headers=attempt)
            assert answer.status_code == 403, (path, answer.text)
    not_a_ping = await svc.worker.post("/requeue", content=body, headers=ce)
    assert not_a_ping.status_code == 400, not_a_ping.text
    assert stand_in.calls == {}, "nothing was reviewed"
    job = await svc.api.get(f"/analyses/{analysis_id}", headers=owner)
    assert job.json()["status"] == "queued", job.text
    assert (await _deliver(svc, analysis_id)).json()["status"] == "completed"


async def test_cancel_stops_the_worker_between_chunks(
    service: Callable[..., Service], identity: Any, stand_in: StandInOrchestrator
) -> None:
    stand_in.delay = 0.3
    svc = service(WORKER_CONCURRENCY="1")
    owner = identity.headers(new_user())
    files = {f"pkg/m{i}.py": f"x = {i}\n" for i in range(8)}
    project_id, snapshot_id = await _project(svc, owner, files)
    created = await svc.api.post(
        "/analyses", json={"project_id": project_id, "snapshot_id": snapshot_id}, headers=owner
    )
    analysis_id = created.json()["id"]
    running = asyncio.ensure_future(_deliver(svc, analysis_id))

    async def started() -> bool:
        found = await svc.api.get(f"/analyses/{analysis_id}", headers=owner)
        return bool(found.json()["progress"] > 0)

    await wait_until(started)
    cancelled = await svc.api.post(f"/analyses/{analysis_id}/cancel", headers=owner)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    answer = await running
    assert answer.status_code == 200 and answer.json()["status"] == "lost", answer.text
    assert sum(stand_in.calls.values()) < 8, "the worker must stop before the remaining chunks"
    again = await svc.api.post(f"/analyses/{analysis_id}/cancel", headers=owner)
    assert again.status_code == 409


async def test_a_job_past_its_time_limit_fails_with_reason_timeout(
    service: Callable[..., Service], identity: Any, stand_in: StandInOrchestrator
) -> None:
    stand_in.delay = 0.6
    svc = service(WORKER_CONCURRENCY="1", ANALYSIS_TIMEOUT_SECONDS="1")
    owner = identity.headers(new_user())
    files = {f"pkg/m{i}.py": f"x = {i}\n" for i in range(5)}
    project_id, snapshot_id = await _project(svc, owner, files)
    done = await _analyze(svc, owner, {"project_id": project_id, "snapshot_id": snapshot_id})
    assert done["status"] == "failed" and done["error"].startswith("timeout"), done
    assert done["finished_at"] is not None


async def test_an_orchestrator_quota_refusal_fails_the_job_naming_the_limit(
    service: Callable[..., Service], identity: Any, stand_in: StandInOrchestrator
) -> None:
    stand_in.status = 429
    svc = service()
    owner = identity.headers(new_user())
    project_id, snapshot_id = await _project(svc, owner, FILES)
    done = await _analyze(svc, owner, {"project_id": project_id, "snapshot_id": snapshot_id})
    assert done["status"] == "failed", done
    assert "quota" in done["error"] and "tokens_per_day" in done["error"], done["error"]
    completed = svc.sink.of_type("dev.acr.analysis.completed")
    assert any(json.loads(b)["status"] == "failed" for _, b in completed)


async def test_requeue_sends_again_a_job_whose_worker_stopped_beating(
    service: Callable[..., Service], identity: Any, database_url: str
) -> None:
    svc = service(WORKER_LEASE_SECONDS="1")
    owner = identity.headers(new_user())
    project_id, snapshot_id = await _project(svc, owner, FILES)
    created = await svc.api.post(
        "/analyses", json={"project_id": project_id, "snapshot_id": snapshot_id}, headers=owner
    )
    analysis_id = uuid.UUID(created.json()["id"])
    await _db(
        database_url,
        "update analyses set status = 'running', claimed_by = 'dead-worker', attempt = 1,"
        " heartbeat_at = now() - interval '1 hour', claimed_at = now() - interval '1 hour',"
        " deadline_at = now() + interval '1 hour' where id = $1",
        analysis_id,
    )
    ping = {
        "ce-specversion": "1.0",
        "ce-id": str(uuid.uuid4()),
        "ce-type": "dev.knative.sources.ping",
        "ce-source": "/apis/v1/namespaces/test/pingsources/requeue",
        "content-type": "application/json",
    }
    answer = await svc.worker.post("/requeue", content=b'{"task": "requeue-stale"}', headers=ping)
    assert answer.status_code == 200 and str(analysis_id) in answer.json()["requeued"], answer.text
    row = (
        await _db(
            database_url, "select status, claimed_by from analyses where id = $1", analysis_id
        )
    )[0]
    assert (row["status"], row["claimed_by"]) == ("queued", None)
    assert (
        len(
            [
                e
                for e in svc.sink.of_type(REQUESTED)
                if json.loads(e[1])["analysis_id"] == str(analysis_id)
            ]
        )
        == 2
    )
    resumed = await _deliver(svc, str(analysis_id))
    assert resumed.json()["status"] == "completed", resumed.text


async def test_dismissed_findings_stay_suppressed_and_repeats_are_not_new(
    service: Callable[..., Service], identity: Any
) -> None:
    svc = service()
    owner = identity.headers(new_user())
    project_id, snapshot_id = await _project(svc, owner, FILES)
    body = {"project_id": project_id, "snapshot_id": snapshot_id}
    first = await _analyze(svc, owner, body)
    findings = await _findings(svc, owner, first["id"])
    assert all(f["new"] and not f["repeated"] for f in findings)
    dismissed = next(f for f in findings if f["path"] == "app/util.py")
    verdict = await svc.api.post(
        f"/findings/{dismissed['id']}/feedback", json={"verdict": "false_positive"}, headers=owner
    )
    assert verdict.status_code == 200 and verdict.json()["previous_verdict"] is None, verdict.text
    event = svc.sink.of_type("dev.acr.finding.feedback")[-1]
    data = json.loads(event[1])
    assert data["finding_id"] == dismissed["id"] and data["verdict"] == "false_positive"
    assert data["config_version_id"] == first["config_version_id"] and data["ab_test_id"] is None
    listed = await _findings(svc, owner, first["id"])
    assert next(f for f in listed if f["id"] == dismissed["id"])["feedback"] == "false_positive"
    second = await _analyze(svc, owner, body)
    visible = await _findings(svc, owner, second["id"])
    assert [f["path"] for f in visible] == ["app/main.py"], "the false positive stays hidden"
    assert visible[0]["repeated"] and visible[0]["first_seen_analysis_id"] == first["id"]
    everything = await _findings(svc, owner, second["id"], include_suppressed="true")
    hidden = next(f for f in everything if f["path"] == "app/util.py")
    assert hidden["suppressed"] and hidden["suppression"] == "false_positive"
    assert second["summary"]["suppressed"] == 1 and second["summary"]["repeated"] == 1


async def test_findings_filter_and_the_sarif_export_validates(
    service: Callable[..., Service], identity: Any
) -> None:
    svc = service()
    owner = identity.headers(new_user())
    project_id, snapshot_id = await _project(svc, owner, FILES)
    done = await _analyze(svc, owner, {"project_id": project_id, "snapshot_id": snapshot_id})
    only_util = await _findings(svc, owner, done["id"], path="app/util.py")
    assert [f["path"] for f in only_util] == ["app/util.py"]
    assert await _findings(svc, owner, done["id"], severity="low") == []
    paged = await svc.api.get(
        f"/analyses/{done['id']}/findings", params={"limit": "1"}, headers=owner
    )
    assert len(paged.json()["items"]) == 1 and paged.json()["next_cursor"]
    rest = await svc.api.get(
        f"/analyses/{done['id']}/findings",
        params={"cursor": paged.json()["next_cursor"]},
        headers=owner,
    )
    assert [f["path"] for f in rest.json()["items"]] == ["app/util.py"]
    bad = await svc.api.get(
        f"/analyses/{done['id']}/findings", params={"severity": "urgent"}, headers=owner
    )
    assert bad.status_code == 422
    exported = await svc.api.get(f"/analyses/{done['id']}/sarif", headers=owner)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith(
        "application/sarif+json"
    )
    log = exported.json()
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(log)]
    assert not errors, errors
    assert len(log["runs"][0]["results"]) == 2
    listing = await svc.api.get("/analyses", params={"project_id": project_id}, headers=owner)
    assert [a["id"] for a in listing.json()["items"]] == [done["id"]]


async def test_a_project_in_a_running_ab_test_uses_its_variant_unless_config_is_given(
    service: Callable[..., Service], identity: Any, start_function: Callable[..., Any]
) -> None:
    versions_url = service().platform.urls["versions"]
    ab = start_function("ab_tests", VERSIONS_URL=versions_url)
    admin = identity.headers(new_user(), role="admin")
    name = f"exp-{uuid.uuid4().hex[:10]}"
    async with httpx.AsyncClient(base_url=versions_url, headers=admin, timeout=10) as client:
        experiment_id = (await client.post("/experiments", json={"name": name})).json()["id"]
        ids = []
        for budget in (1000, 2000):
            config = {"token_budget": budget, "severity_threshold": "low"}
            made = await client.post(
                f"/experiments/{experiment_id}/versions", json={"config": config}
            )
            ids.append(made.json()["id"])
        moved = await client.put(
            f"/experiments/{experiment_id}/aliases/production", json={"version_id": ids[0]}
        )
        assert moved.status_code == 200, moved.text
    async with httpx.AsyncClient(base_url=ab.url, headers=admin, timeout=10) as client:
        variants = [
            {"name": n, "version_id": v, "weight": 1}
            for n, v in zip(("control", "treatment"), ids, strict=True)
        ]
        test = await client.post(
            "/ab-tests",
            json={
                "name": name,
                "experiment_id": experiment_id,
                "variants": variants,
                "primary_metric": "acceptance_rate",
            },
        )
        assert test.status_code == 201, test.text
        assert (await client.post(f"/ab-tests/{test.json()['id']}/start")).status_code == 200
    svc = service(AB_TESTS_URL=ab.url, DEFAULT_EXPERIMENT=name)
    owner = identity.headers(new_user())
    project_id, snapshot_id = await _project(svc, owner, FILES)
    body = {"project_id": project_id, "snapshot_id": snapshot_id}
    tested = await _analyze(svc, owner, body)
    chosen = {"control": ids[0], "treatment": ids[1]}[tested["variant"]]
    assert tested["ab_test_id"] == test.json()["id"] and tested["config_version_id"] == chosen
    completed = json.loads(svc.sink.of_type("dev.acr.analysis.completed")[-1][1])
    assert (completed["ab_test_id"], completed["variant"]) == (test.json()["id"], tested["variant"])
    assert completed["config_version_id"] == chosen and completed["status"] == "completed"
    explicit = await svc.api.post(
        "/analyses", json={**body, "config": {"version_id": ids[1]}}, headers=owner
    )
    assert explicit.json()["config_version_id"] == ids[1]
    assert explicit.json()["ab_test_id"] is None and explicit.json()["variant"] is None, (
        "config wins"
    )
    by_alias = await svc.api.post(
        "/analyses", json={**body, "config": {"alias": "production"}}, headers=owner
    )
    assert by_alias.json()["config_version_id"] == ids[0] and by_alias.json()["ab_test_id"] is None
    unknown = await svc.api.post(
        "/analyses", json={**body, "config": {"alias": "nope"}}, headers=owner
    )
    assert unknown.status_code == 422, unknown.text


async def test_a_backtracking_glob_is_answered_and_an_overlong_one_is_422(
    service: Callable[..., Service], identity: Any
) -> None:
    """Issue 9 item 4: the ReDoS query over HTTP gets its (empty) answer; the pattern is
    bounded, and the filter runs off the event loop."""
    svc = service()
    owner = identity.headers(new_user())
    long_name = "a" * 200 + ".py"
    project_id, snapshot_id = await _project(svc, owner, {long_name: "x = eval('1')\n"})
    done = await _analyze(svc, owner, {"project_id": project_id, "snapshot_id": snapshot_id})
    assert await _findings(svc, owner, done["id"]), "the stand-in reports a finding"
    hostile = await _findings(svc, owner, done["id"], path="**a**a**a**a**a**a**b")
    assert hostile == []
    matching = await _findings(svc, owner, done["id"], path="**a**a**a**a**a**a**.py")
    assert {f["path"] for f in matching} == {long_name}
    overlong = await svc.api.get(
        f"/analyses/{done['id']}/findings", params={"path": "*" * 300}, headers=owner
    )
    assert overlong.status_code == 422, overlong.text
    assert overlong.json()["errors"][0]["loc"] == ["query", "path"]


async def test_a_member_has_a_bounded_number_of_analyses_in_flight(
    service: Callable[..., Service], identity: Any
) -> None:
    """Issue 9 item 7: 15 analyses in a burst were all accepted."""
    svc = service(MAX_ANALYSES_IN_FLIGHT_PER_USER="2")
    owner = identity.headers(new_user())
    project_id, snapshot_id = await _project(svc, owner, FILES)
    body = {"project_id": project_id, "snapshot_id": snapshot_id}
    answers = await asyncio.gather(
        *(svc.api.post("/analyses", json=body, headers=owner) for _ in range(5))
    )
    assert sorted(a.status_code for a in answers) == [202, 202, 429, 429, 429]
    refused = next(a for a in answers if a.status_code == 429)
    assert refused.headers["retry-after"] and refused.json()["status"] == 429
    queued = next(a for a in answers if a.status_code == 202).json()["id"]
    assert (await _deliver(svc, queued)).json()["status"] == "completed"
    again = await svc.api.post("/analyses", json=body, headers=owner)
    assert again.status_code == 202, "a finished analysis frees its place"


async def test_a_viewers_dismissal_is_theirs_and_a_removed_member_cannot_give_feedback(
    service: Callable[..., Service], identity: Any, accounts: Accounts
) -> None:
    """Issue 9 item 10: a viewer's feedback suppressed a finding for the whole project, and
    a removed member kept giving feedback while the access cache remembered them."""
    svc = service(PROJECT_ACCESS_CACHE_SECONDS="30")
    owner_id, viewer_id = new_user(), accounts.user_id()  # a member must be a real user
    owner, viewer = identity.headers(owner_id), identity.headers(viewer_id)
    project_id, snapshot_id = await _project(svc, owner, FILES)
    await add_member(svc.platform.urls["projects"], project_id, owner, viewer_id, "viewer")
    body = {"project_id": project_id, "snapshot_id": snapshot_id}
    first = await _analyze(svc, owner, body)
    target = next(
        f for f in await _findings(svc, viewer, first["id"]) if f["path"] == "app/util.py"
    )
    said = await svc.api.post(
        f"/findings/{target['id']}/feedback", json={"verdict": "dismissed"}, headers=viewer
    )
    assert said.status_code == 200 and said.json()["suppressed_in_later_analyses"] is False
    second = await _analyze(svc, owner, body)
    assert "app/util.py" in [f["path"] for f in await _findings(svc, owner, second["id"])]
    async with httpx.AsyncClient(headers=owner, timeout=10) as client:
        removed = await client.delete(
            f"{svc.platform.urls['projects']}/projects/{project_id}/members/{viewer_id}"
        )
    assert removed.status_code == 204, removed.text
    late = await svc.api.post(
        f"/findings/{target['id']}/feedback", json={"verdict": "accepted"}, headers=viewer
    )
    assert late.status_code == 404, late.text
