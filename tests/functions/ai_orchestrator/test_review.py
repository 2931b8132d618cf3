"""POST /review: configuration, chunking, exact lines, usage, cost and hostile input."""

from __future__ import annotations

import json
import logging
import textwrap
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.fakes.ai_server import count_tokens
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.openai_api import FakeOpenAI
from tests.functions.ai_orchestrator._support import PRICE_IN, PRICE_OUT, SAMPLE_LINES, Platform

PYTHON = textwrap.dedent(
    """\
    import subprocess
    from flask import request

    AWS_ACCESS_KEY_ID = "AKIAZ7QW3RTY5UIOPA2B"


    def run():
        return subprocess.call(request.args["cmd"], shell=True)
    """
)
MODEL = "gpt-4o-mini"


def sample_chunk(chunk_id: str = "c1", start_line: int = 10) -> dict[str, Any]:
    return {
        "id": chunk_id,
        "path": "app/loader.py",
        "language": "python",
        "content": "\n".join(SAMPLE_LINES),
        "start_line": start_line,
    }


async def post_review(
    client: httpx.AsyncClient, platform: Platform, chunks: list[dict[str, Any]], **extra: Any
) -> httpx.Response:
    body = {"project_id": platform.project_id, "chunks": chunks, **extra}
    return await client.post("/review", json=body, headers=platform.member)


def located(answer: dict[str, Any]) -> list[tuple[str, int, str]]:
    return [(f["chunk_id"], f["line"], f["rule"]) for f in answer["findings"]]


async def test_the_builtin_local_reviewer_finds_known_problems_at_exact_lines_for_free(
    platform: Platform, client_for: Any
) -> None:
    await platform.version([("local", "local-analyzers")])
    client = client_for("orchestrator", **platform.orchestrator_env())
    chunk = {"id": "run", "path": "svc/run.py", "language": "python", "content": PYTHON}

    answer = await post_review(client, platform, [chunk])

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {
        ("run", 4, "secrets:AWSKeyDetector"),
        ("run", 8, "taint:command-injection"),
    } <= set(located(body)), body["findings"]
    injection = next(f for f in body["findings"] if f["rule"] == "taint:command-injection")
    assert (injection["cwe"], injection["owasp"]) == ("CWE-78", "A03:2021-Injection")
    assert [step["line"] for step in injection["trace"]] == [8, 8], injection["trace"]
    assert body["usage"] == {
        "provider": "local",
        "model": "local-analyzers",
        "input_tokens": 0,
        "output_tokens": 0,
        "cost_usd": "0",
        "cached": False,
    }
    assert body["chunks"][0]["analyzers"] == ["bandit", "ruff", "rules", "secrets", "taint"], body[
        "chunks"
    ]


async def test_a_review_through_openai_reports_exact_lines_tokens_and_the_exact_cost(
    platform: Platform, client_for: Any, fake_openai: FakeOpenAI
) -> None:
    name = await platform.provider("openai", fake_openai.base_url, models=(MODEL,))
    version_id = await platform.version([(name, MODEL)])
    client = client_for("orchestrator", **platform.orchestrator_env())

    answer = await post_review(client, platform, [sample_chunk()])

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert located(body) == [("c1", 11, "eval-call"), ("c1", 12, "hardcoded-password")]
    (call,) = fake_openai.calls("/v1/chat/completions")
    completion = json.loads(json.dumps({"findings": body["findings"]}))  # shape only
    assert completion["findings"][0]["path"] == "app/loader.py"
    usage = body["usage"]
    assert usage["input_tokens"] == count_tokens(call.body["messages"]), usage
    assert usage["output_tokens"] > 0 and usage["cached"] is False, usage
    expected = (
        Decimal(usage["input_tokens"]) * Decimal(PRICE_IN)
        + Decimal(usage["output_tokens"]) * Decimal(PRICE_OUT)
    ) / Decimal(1_000_000)
    assert Decimal(usage["cost_usd"]) == expected, usage
    assert (usage["provider"], usage["model"], body["config_version_id"]) == (
        name,
        MODEL,
        version_id,
    )
    ledger = await platform.usage()
    assert ledger["totals"]["cost_usd"] == usage["cost_usd"], ledger
    assert call.headers["authorization"] == f"Bearer {fake_openai.api_key}"


async def test_an_unchanged_chunk_is_answered_from_the_cache_at_zero_cost(
    platform: Platform, client_for: Any, fake_openai: FakeOpenAI, database_url: str
) -> None:
    name = await platform.provider("openai", fake_openai.base_url, models=(MODEL,))
    version_id = await platform.version([(name, MODEL)])
    client = client_for("orchestrator", **platform.orchestrator_env())
    first = await post_review(client, platform, [sample_chunk()])
    assert first.status_code == 200, first.text

    again = await post_review(client, platform, [sample_chunk("again")])

    assert again.status_code == 200, again.text
    body = again.json()
    assert fake_openai.request_count == 1, "the second review must not reach the provider"
    assert body["usage"] == {
        "provider": name,
        "model": MODEL,
        "input_tokens": 0,
        "output_tokens": 0,
        "cost_usd": "0",
        "cached": True,
    }
    assert located(body) == [("again", 11, "eval-call"), ("again", 12, "hardcoded-password")]
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        outcomes = await conn.fetch(
            "select outcome, cached, cost_usd from ai_orchestrator.calls"
            " where config_version_id = $1 order by created_at",
            __import__("uuid").UUID(version_id),
        )
        keys = await conn.fetchval(
            "select count(*) from ai_orchestrator.cache_keys where config_version_id = $1",
            __import__("uuid").UUID(version_id),
        )
    finally:
        await conn.close()
    assert [(r["outcome"], r["cached"]) for r in outcomes] == [("ok", False), ("cached", True)]
    assert outcomes[0]["cost_usd"] == Decimal(first.json()["usage"]["cost_usd"])
    assert keys == 1


async def test_a_changed_line_misses_the_cache(
    platform: Platform, client_for: Any, fake_openai: FakeOpenAI
) -> None:
    name = await platform.provider("openai", fake_openai.base_url, models=(MODEL,))
    await platform.version([(name, MODEL)])
    client = client_for("orchestrator", **platform.orchestrator_env())
    await post_review(client, platform, [sample_chunk()])

    moved = await post_review(client, platform, [sample_chunk(start_line=11)])

    assert moved.json()["usage"]["cached"] is False, moved.text
    assert fake_openai.request_count == 2
    assert located(moved.json()) == [("c1", 12, "eval-call"), ("c1", 13, "hardcoded-password")]


async def test_findings_outside_the_chunks_lines_are_dropped(
    platform: Platform, client_for: Any, fake_openai: FakeOpenAI
) -> None:
    name = await platform.provider("openai", fake_openai.base_url, models=(MODEL,))
    await platform.version([(name, MODEL)])
    client = client_for("orchestrator", **platform.orchestrator_env())
    base = {
        "path": "elsewhere.py",
        "severity": "high",
        "category": "bug",
        "rule": "r",
        "message": "m",
        "suggestion": None,
    }
    outside = {**base, "line": 3, "end_line": 3}
    inside = {**base, "line": 13, "end_line": 40}  # the chunk ends at 13: cut back
    fake_openai.respond_next({"findings": [outside, inside]})

    answer = await post_review(client, platform, [sample_chunk()])

    assert answer.status_code == 200, answer.text
    assert [(f["line"], f["end_line"], f["path"]) for f in answer.json()["findings"]] == [
        (13, 13, "app/loader.py")
    ]


async def test_a_chunk_over_the_token_budget_is_split_keeping_its_line_numbers(
    platform: Platform, client_for: Any, fake_openai: FakeOpenAI
) -> None:
    name = await platform.provider("openai", fake_openai.base_url, models=(MODEL,))
    await platform.version([(name, MODEL)], token_budget=256)
    client = client_for("orchestrator", **platform.orchestrator_env())
    lines = [f"value_{n} = compute({n}, factor={n * 3})" for n in range(1, 121)]
    lines[99] = "result = eval(data)"
    chunk = {"id": "big", "path": "big.py", "content": "\n".join(lines)}

    answer = await post_review(client, platform, [chunk])

    assert answer.status_code == 200, answer.text
    assert fake_openai.request_count > 1, "split into several calls"
    assert located(answer.json()) == [("big", 100, "eval-call")]
    assert [c["chunk_id"] for c in answer.json()["chunks"]] == ["big"]


async def test_a_diff_chunk_is_reviewed_at_its_new_file_line_numbers(
    platform: Platform, client_for: Any, fake_openai: FakeOpenAI
) -> None:
    name = await platform.provider("openai", fake_openai.base_url, models=(MODEL,))
    await platform.version([(name, MODEL)])
    client = client_for("orchestrator", **platform.orchestrator_env())
    diff = (
        "--- a/app/x.py\n+++ b/app/x.py\n@@ -20,3 +30,4 @@ def f():\n"
        "     keep = 1\n-    old = 2\n+    value = eval(text)\n+    password = 'x'\n     done = 3\n"
    )

    answer = await post_review(client, platform, [{"id": "d", "path": "app/x.py", "diff": diff}])

    assert answer.status_code == 200, answer.text
    assert located(answer.json()) == [("d", 31, "eval-call"), ("d", 32, "hardcoded-password")]


async def test_static_source_uses_the_local_analyzers_whatever_the_routing(
    platform: Platform, client_for: Any, fake_openai: FakeOpenAI
) -> None:
    name = await platform.provider("openai", fake_openai.base_url, models=(MODEL,))
    await platform.version([(name, MODEL)])
    client = client_for("orchestrator", **platform.orchestrator_env())
    chunk = {"id": "run", "path": "svc/run.py", "content": PYTHON}

    answer = await post_review(client, platform, [chunk], source="static")

    assert answer.status_code == 200, answer.text
    assert ("run", 8, "taint:command-injection") in located(answer.json())
    assert answer.json()["source"] == "static"
    assert answer.json()["usage"]["provider"] == "local"
    assert fake_openai.request_count == 0


async def test_config_is_chosen_by_version_id_or_by_alias(
    platform: Platform, client_for: Any, fake_openai: FakeOpenAI
) -> None:
    name = await platform.provider("openai", fake_openai.base_url, models=(MODEL,))
    local_version = await platform.version([("local", "local-analyzers")])
    openai_version = await platform.version([(name, MODEL)], alias="candidate")
    client = client_for("orchestrator", **platform.orchestrator_env())

    by_id = await post_review(
        client, platform, [sample_chunk()], config={"version_id": openai_version}
    )
    by_alias = await post_review(client, platform, [sample_chunk()], config={"alias": "production"})
    by_other_alias = await post_review(
        client, platform, [sample_chunk()], config={"alias": "candidate"}
    )
    default = await post_review(client, platform, [sample_chunk()])

    assert (by_id.json()["config_version_id"], by_id.json()["usage"]["provider"]) == (
        openai_version,
        name,
    ), by_id.text
    assert (by_alias.json()["config_version_id"], by_alias.json()["usage"]["provider"]) == (
        local_version,
        "local",
    ), by_alias.text
    assert by_other_alias.json()["config_version_id"] == openai_version
    assert default.json()["config_version_id"] == local_version


async def test_an_invalid_answer_is_repaired_by_one_retry(
    platform: Platform, client_for: Any, fake_openai: FakeOpenAI
) -> None:
    name = await platform.provider("openai", fake_openai.base_url, models=(MODEL,))
    await platform.version([(name, MODEL)])
    client = client_for("orchestrator", **platform.orchestrator_env())
    fake_openai.respond_next('{"findings": [{"line": "eleven"}')

    answer = await post_review(client, platform, [sample_chunk()])

    assert answer.status_code == 200, answer.text
    assert fake_openai.request_count == 2, "one call and one repair"
    assert located(answer.json()) == [("c1", 11, "eval-call"), ("c1", 12, "hardcoded-password")]


async def test_two_invalid_answers_fall_back_to_the_next_candidate(
    platform: Platform, client_for: Any, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
) -> None:
    first = await platform.provider("openai", fake_openai.base_url, models=(MODEL,))
    second = await platform.provider(
        "anthropic", fake_anthropic.base_url, models=("claude-haiku-4-5",)
    )
    await platform.version([(first, MODEL), (second, "claude-haiku-4-5")])
    client = client_for("orchestrator", **platform.orchestrator_env())
    fake_openai.respond_next("not json")
    fake_openai.respond_next("still not json")

    answer = await post_review(client, platform, [sample_chunk()])

    assert answer.status_code == 200, answer.text
    assert answer.json()["usage"]["provider"] == second
    assert located(answer.json()) == [("c1", 11, "eval-call"), ("c1", 12, "hardcoded-password")]


async def test_two_invalid_answers_without_fallback_are_a_503_with_a_clear_reason(
    platform: Platform, client_for: Any, fake_openai: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    """The reason is logged; the member's answer names no provider or address."""
    caplog.set_level(logging.WARNING, logger="shared.errors")
    name = await platform.provider("openai", fake_openai.base_url, models=(MODEL,))
    await platform.version([(name, MODEL)])
    client = client_for("orchestrator", **platform.orchestrator_env())
    fake_openai.respond_next("not json")
    fake_openai.respond_next("still not json")

    answer = await post_review(client, platform, [sample_chunk()])

    assert answer.status_code == 503, answer.text
    assert answer.json()["detail"] == "A dependency is unavailable; retry later.", answer.text
    (logged,) = [m for m in caplog.messages if m.startswith("Unavailable: providers")]
    assert f"{name}/{MODEL}: bad_response" in logged, logged
    assert "still invalid after a repair attempt" in logged, logged
    assert "sk-" not in answer.text
    assert answer.headers["retry-after"].isdigit()


@pytest.mark.parametrize(
    ("env", "chunks", "status", "needle"),
    [
        ({"MAX_CHUNKS_PER_REQUEST": "2"}, 3, 422, "at most 2 per request"),
        ({"MAX_CHUNK_BYTES": "10"}, 1, 422, "at most 10 per chunk"),
        ({"MAX_REQUEST_BYTES": "200"}, 1, 413, "limit is 200"),
    ],
)
async def test_oversized_requests_are_refused_before_any_work(
    platform: Platform,
    client_for: Any,
    env: dict[str, str],
    chunks: int,
    status: int,
    needle: str,
) -> None:
    await platform.version([("local", "local-analyzers")])
    client = client_for("orchestrator", **platform.orchestrator_env(**env))

    answer = await post_review(client, platform, [sample_chunk(f"c{n}") for n in range(chunks)])

    assert answer.status_code == status, answer.text
    assert needle in answer.text


async def test_a_whole_file_over_the_chunk_limit_is_refused_naming_file_content(
    platform: Platform, client_for: Any
) -> None:
    await platform.version([("local", "local-analyzers")])
    client = client_for("orchestrator", **platform.orchestrator_env(MAX_CHUNK_BYTES="5000"))
    chunk = {**sample_chunk(), "file_content": "x = 1\n" * 1000}

    answer = await post_review(client, platform, [chunk])

    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["loc"] == ["body", "chunks", 0, "file_content"], answer.text


async def test_hostile_bodies_get_precise_errors(platform: Platform, client_for: Any) -> None:
    await platform.version([("local", "local-analyzers")])
    client = client_for("orchestrator", **platform.orchestrator_env())
    headers = {**platform.member, "content-type": "application/json"}

    bad_json = await client.post("/review", content=b"{not json", headers=headers)
    both = await post_review(client, platform, [{**sample_chunk(), "diff": "@@ -1 +1 @@\n+x"}])
    repeated = await post_review(client, platform, [sample_chunk("same"), sample_chunk("same")])
    unknown = await post_review(
        client,
        platform,
        [sample_chunk()],
        config={"version_id": "00000000-0000-4000-8000-000000000000"},
    )
    no_hunk = await post_review(client, platform, [{"id": "d", "path": "a.py", "diff": "+x"}])
    file_with_diff = await post_review(
        client,
        platform,
        [{"id": "f", "path": "a.py", "diff": "@@ -1 +1 @@\n+x", "file_content": "x"}],
    )

    assert bad_json.status_code == 400, bad_json.text
    assert both.status_code == 422 and "exactly one of content or diff" in both.text, both.text
    assert repeated.status_code == 422 and "'same' repeats" in repeated.text, repeated.text
    assert unknown.status_code == 404, unknown.text
    assert "does not exist" in unknown.json()["detail"]
    assert no_hunk.status_code == 422 and "has no @@ hunk header" in no_hunk.text, no_hunk.text
    assert file_with_diff.status_code == 422, file_with_diff.text
    assert "file_content goes with content" in file_with_diff.text


async def test_a_forged_or_missing_token_is_401(platform: Platform, client_for: Any) -> None:
    client = client_for("orchestrator", **platform.orchestrator_env())
    token = platform.identity.token(platform.user_id)
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{signature[::-1]}"
    body = {"project_id": platform.project_id, "chunks": [sample_chunk()]}

    refused = await client.post("/review", json=body, headers={"Authorization": f"Bearer {forged}"})
    missing = await client.post("/review", json=body)

    assert refused.status_code == 401, refused.text
    assert missing.status_code == 401, missing.text
    assert refused.headers["www-authenticate"].startswith("Bearer")


async def test_a_service_token_must_name_the_user_it_acts_for(
    platform: Platform, client_for: Any
) -> None:
    await platform.version([("local", "local-analyzers")])
    client = client_for("orchestrator", **platform.orchestrator_env())
    service = platform.identity.headers("sa:platform", role="service", scope="internal")
    body = {"project_id": platform.project_id, "chunks": [sample_chunk()]}

    anonymous = await client.post("/review", json=body, headers=service)
    acting = await client.post(
        "/review", json=body, headers={**service, "X-Acting-User": platform.user_id}
    )

    assert anonymous.status_code == 403 and "X-Acting-User" in anonymous.text, anonymous.text
    assert acting.status_code == 200, acting.text


async def test_a_non_member_cannot_review_for_someone_elses_project(platform, client_for) -> None:
    orchestrator = client_for("orchestrator", **platform.orchestrator_env())
    stranger = platform.identity.headers(str(uuid.uuid4()), role="member")
    answer = await orchestrator.post(
        "/review",
        json={
            "project_id": platform.project_id,
            "chunks": [{"id": "c1", "path": "a.py", "language": "python", "content": "x = 1\n"}],
        },
        headers=stranger,
    )
    assert answer.status_code == 404, answer.text
    assert answer.json()["detail"].startswith("Project"), answer.json()


async def test_a_members_own_review_is_bounded_in_total_size(
    platform: Platform, client_for: Any
) -> None:
    """Issue 9 item 7: one /review could carry 50 x 512 KiB of work for the built-in
    reviewer. A member's own call is bounded in all; the worker's internal one is not."""
    await platform.version([("local", "local-analyzers")])
    client = client_for("orchestrator", **platform.orchestrator_env(MEMBER_MAX_REVIEW_BYTES="4096"))
    chunks = [{"id": f"c{n}", "path": f"m{n}.py", "content": "x = 1\n" * 400} for n in range(3)]
    refused = await post_review(client, platform, chunks)
    assert refused.status_code == 413, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    small = await post_review(client, platform, chunks[:1])
    assert small.status_code == 200, small.text
