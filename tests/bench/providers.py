"""provider-service benchmarks: a quotas reserve + commit round trip beside raw Redis and hello."""

from __future__ import annotations

import json
import uuid

from tests.bench.harness import Bench, Result, benchmark, call, load_results, load_rounds, pinned
from tests.bench.loadgen import Step, Target

MODEL = "gpt-4o"
BIG = 10**12  # a rule that never refuses: every counter is still checked and written


def quota_world(bench: Bench, providers_url: str, quotas_url: str) -> dict[str, str]:
    """A provider with a model, a user's quota rule, and the user's reserve body and header."""
    name = f"bench-{uuid.uuid4().hex[:8]}"
    call(
        "POST",
        f"{providers_url}/providers",
        json={
            "name": name,
            "kind": "openai",
            "api_key_secret": "env://BENCH_OPENAI_API_KEY",
            "models": [
                {
                    "name": MODEL,
                    "input_usd_per_mtok": "2.50",
                    "output_usd_per_mtok": "10",
                    "context_window": 128000,
                }
            ],
        },
        headers=bench.admin,
        expect=(201,),
    )
    user = str(uuid.uuid4())
    rule = {
        "requests_per_minute": 10_000_000,
        "tokens_per_day": BIG,
        "cost_usd_per_month": "1000000",
    }
    call("PUT", f"{quotas_url}/quotas/user/{user}", json=rule, headers=bench.admin)
    reserve = {
        "user_id": user,
        # The nil UUID, "no project" (a chat call that names none): a member's reserve in a
        # project also asks project-service, a cached access check this bench leaves out.
        "project_id": str(uuid.UUID(int=0)),
        "provider": name,
        "model": MODEL,
        "estimated_tokens": 1500,
    }
    return {
        "reserve": json.dumps(reserve),
        "authorization": bench.identity.headers(user)["Authorization"],
    }


def round_trip(port: int, world: dict[str, str]) -> Target:
    headers = {"Authorization": world["authorization"], "Content-Type": "application/json"}
    commit = '{"reservation_id": "{rid}", "input_tokens": 1234, "output_tokens": 567}'
    return Target(
        "quotas reserve+commit",
        port,
        (
            Step("POST", "/quotas/reserve", headers, world["reserve"], {"rid": "reservation_id"}),
            Step("POST", "/quotas/commit", headers, commit),
        ),
    )


@benchmark("quotas", "quotas POST /quotas/reserve + /commit vs 2 raw Redis EVALSHA and hello")
def quotas(bench: Bench) -> list[Result]:
    providers_server, quotas_server, hello, floor = bench.shared(
        "providers", "quotas", "hello", "one_script"
    )
    world = quota_world(bench, providers_server.url, quotas_server.url)
    subject = round_trip(quotas_server.port, world)
    first = call(
        "POST",
        f"{quotas_server.url}/quotas/reserve",
        content=world["reserve"],
        headers={"Authorization": world["authorization"], "Content-Type": "application/json"},
        expect=(201,),
    )
    if not str(first["reservation_id"]).startswith("r1."):
        raise RuntimeError(f"reserve answered {first}")
    # the Redis part of the pair: reserve and commit are one EVALSHA each
    redis = Target("redis 2x EVALSHA", redis_url=bench.redis_url, redis_calls=2)
    hello_target = Target.get("hello", hello.port, "/", {})
    # the pair's floor: two requests to a function that only runs one script each
    # (tests/bench/hello's one_script): what the pair costs beyond it is the platform's
    script = Step("GET", "/", {})
    pair_floor = Target("2 x one script (floor)", floor.port, (script, script))
    with pinned(quotas_server, hello, floor):
        values, raw, base, least = load_rounds(
            bench,
            [subject, redis, hello_target, pair_floor],
            duration=bench.options.service_duration,
        )
    metric = "reserve+commit (2 requests) per iteration,"
    return [
        *load_results("quotas", f"{metric} vs 2x EVALSHA", subject, values, redis, raw),
        *load_results("quotas", f"{metric} vs GET /", subject, values, hello_target, base),
        *load_results("quotas", f"{metric} vs its floor", subject, values, pair_floor, least),
        *load_results(
            "quotas", "2 x one script (floor) vs 2x EVALSHA", pair_floor, least, redis, raw
        ),
    ]
