"""ai-orchestrator end to end: a real orchestrator process with real versions, providers and
quotas processes, the fake OpenAI API behind it, and the official openai SDK in front."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import openai

from tests.fakes.openai_api import FakeOpenAI
from tests.functions.ai_orchestrator._support import (  # noqa: F401 - fixtures by name
    PRICE_IN,
    PRICE_OUT,
    Platform,
    _backends,
    _platform,
)

MODEL = "gpt-4o-mini"
CODE = "def load(data):\n    result = eval(data)\n    password = 'hunter2'\n    return result"


async def test_a_review_is_routed_charged_cached_and_the_gateway_serves_the_sdk(
    platform: Platform, start_function: Any, fake_openai: FakeOpenAI
) -> None:
    name = await platform.provider("openai", fake_openai.base_url, models=(MODEL,))
    version_id = await platform.version([(name, MODEL)])
    orchestrator = start_function("orchestrator", **platform.orchestrator_env())
    body = {
        "project_id": platform.project_id,
        "chunks": [{"id": "c1", "path": "app/loader.py", "content": CODE, "start_line": 10}],
    }
    async with httpx.AsyncClient(base_url=orchestrator.url, timeout=30) as client:
        first = await client.post("/review", json=body, headers=platform.member)
        second = await client.post("/review", json=body, headers=platform.member)
        spec = (await client.get("/openapi.json")).json()

    assert first.status_code == 200, first.text + orchestrator.output()
    review = first.json()
    assert [(f["line"], f["rule"]) for f in review["findings"]] == [
        (11, "eval-call"),
        (12, "hardcoded-password"),
    ]
    usage = review["usage"]
    expected = (
        usage["input_tokens"] * Decimal(PRICE_IN) + usage["output_tokens"] * Decimal(PRICE_OUT)
    ) / 1_000_000
    assert Decimal(usage["cost_usd"]) == expected and expected > 0, usage
    assert review["config_version_id"] == version_id
    assert second.json()["usage"]["cached"] is True and second.json()["usage"]["cost_usd"] == "0"
    assert fake_openai.request_count == 1
    assert {"/review", "/models", "/v1/chat/completions"} <= set(spec["paths"])

    sdk = openai.AsyncOpenAI(
        base_url=f"{orchestrator.url}/v1",
        api_key=platform.identity.token(platform.user_id),
        max_retries=0,
    )
    try:
        completion = await sdk.chat.completions.create(
            model=f"{name}/{MODEL}", messages=[{"role": "user", "content": "ping"}]
        )
    finally:
        await sdk.close()

    assert completion.choices[0].message.content == "You said: ping"
    ledger = await platform.usage()
    assert ledger["totals"]["requests"] == 2, ledger
