"""The soak's verdict (tests/bench/load.py): what counts as a leak, on made-up samples."""

from __future__ import annotations

from typing import Any

from tests.bench.load import runtime_stats, verdict


def samples(
    rss: list[float],
    pg: list[int] | None = None,
    no_ttl: list[int] | None = None,
    tasks: list[int] | None = None,
) -> list[dict[str, Any]]:
    n = len(rss)
    return [
        {
            "rss_mib": {"analysis_service.analyses": rss[i], "auth_service.auth_tokens": 100.0},
            "sockets": {"analysis_service.analyses": 12, "auth_service.auth_tokens": 9},
            "asyncio_tasks": {"ai_orchestrator.orchestrator": (tasks or [7] * n)[i]},
            "pg_connections": (pg or [20] * n)[i],
            "redis_clients": 14,
            "redis_keys_without_ttl": (no_ttl or [3] * n)[i],
        }
        for i in range(n)
    ]


def test_a_steady_soak_passes_whatever_the_warm_up_did() -> None:
    warm_up = [60.0, 90.0, 120.0]
    steady = [150.0, 151.0, 149.0, 150.0, 152.0, 153.0, 151.0, 152.0]
    assert verdict(samples(warm_up + steady), warmup_minutes=3) == []


def test_rss_growing_more_than_five_percent_after_warm_up_fails() -> None:
    steady = [150.0, 150.0, 150.0, 154.0, 158.0, 162.0, 166.0]
    [problem] = verdict(samples([100.0] + steady), warmup_minutes=1)
    assert problem.startswith("analysis_service.analyses: RSS grew 8.0% (150.0 -> 162.0 MiB)"), (
        problem
    )


def test_growing_connections_and_keys_without_ttl_fail() -> None:
    pg = [20, 21, 20, 22, 24, 26, 28]
    no_ttl = [3, 3, 3, 3, 4, 5, 9]
    problems = verdict(samples([150.0] * 7, pg=pg, no_ttl=no_ttl), warmup_minutes=0)
    assert problems == [
        "PostgreSQL connections grew: at most 21 at first, at least 24 at last",
        "Redis keys without TTL grew: at most 3 at first, at least 4 at last",
    ]


def test_a_pool_reaching_a_new_high_water_mark_at_a_burst_is_no_leak() -> None:
    pg = [20, 21, 20, 22, 20, 29, 21]
    assert verdict(samples([150.0] * 7, pg=pg), warmup_minutes=0) == []


def test_too_short_a_soak_is_no_pass() -> None:
    assert verdict(samples([150.0] * 8), warmup_minutes=5) == [
        "only 3 samples after the warm-up: at least 6 are needed"
    ]


def test_asyncio_tasks_that_keep_growing_fail() -> None:
    tasks = [7, 9, 7, 12, 15, 18, 21]
    assert verdict(samples([150.0] * 7, tasks=tasks), warmup_minutes=0) == [
        "ai_orchestrator.orchestrator asyncio tasks grew: at most 9 at first, at least 15 at last"
    ]
    assert verdict(samples([150.0] * 7, tasks=[7, 9, 7, 8, 7, 11, 7]), warmup_minutes=0) == []


def test_the_task_counts_are_read_from_text_and_json_log_lines() -> None:
    log = (
        b"INFO shared.lifecycle Runtime stats: pid=41 asyncio_tasks=6 threads=3\n"
        b'{"message": "Runtime stats: pid=42 asyncio_tasks=9 threads=4", "pid": 42}\n'
        b"GET /health 200\n"
        b"INFO shared.lifecycle Runtime stats: pid=41 asyncio_tasks=8 threads=3\n"
    )
    assert runtime_stats(log) == {41: 8, 42: 9}  # the last figure of each process
