"""auth benchmarks: auth-tokens and auth-users beside hello (cold start, memory, load, imports)."""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from tests.bench.harness import (
    Bench,
    Result,
    Server,
    benchmark,
    compare,
    interleave,
    load_results,
    load_rounds,
    pinned,
    wait_ok,
)
from tests.bench.loadgen import Target


def login(bench: Bench, server: Server) -> tuple[float, str]:
    """``POST /token`` (password grant) until it succeeds; ms since spawn and the token."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    ms, payload = wait_ok(server, "POST", "/token", headers=headers, body=bench.token_form())
    return ms, str(json.loads(payload)["access_token"])


# ---------------------------------------------------------------- cold start, memory


# auth-tokens as deployed (JSON logs, shared.logs.CloudLoggingFormatter), and with text logs to
# show what that handler costs; both beside the same hello runs
VARIANTS = {"auth-tokens": {}, "auth-tokens LOG_FORMAT=text": {"LOG_FORMAT": "text"}}


def hello_cold(bench: Bench) -> float:
    server = bench.spawn("hello")
    try:
        return wait_ok(server, "GET", "/health/startup")[0]
    finally:
        bench.stop(server)


def auth_cold(bench: Bench, **env: str) -> tuple[float, float]:
    server = bench.spawn("auth_tokens", **env)
    try:
        ready = wait_ok(server, "GET", "/health/startup")[0]
        return ready, login(bench, server)[0]
    finally:
        bench.stop(server)


@benchmark("cold_start", "spawn -> first 200 /health/startup and first POST /token (ms)")
def cold_start(bench: Bench) -> list[Result]:
    if bench.options.warmup:  # page cache, migrations, bootstrap admin, dev signing key
        hello_cold(bench)
        auth_cold(bench)
    measures = [lambda env=env: auth_cold(bench, **env) for env in VARIANTS.values()]
    hello, *auth = interleave(bench.options.runs, lambda: hello_cold(bench), *measures)
    metrics = [("spawn -> 200 /health/startup", "ms"), ("spawn -> 200 POST /token", "ms")]
    hellos = [(h, h) for h in hello]  # hello has one route: its first 200 is both
    return compare("cold_start", metrics, hellos, dict(zip(VARIANTS, auth, strict=True)))


def settled_memory(bench: Bench, target: str, **env: str) -> tuple[float, float]:
    server = bench.spawn(target, **env)
    try:
        wait_ok(server, "GET", "/health/startup")
        if target == "hello":
            wait_ok(server, "GET", "/")
        else:
            login(bench, server)
        time.sleep(0.3)  # let the worker finish logging and freeing the request
        return server.memory()
    finally:
        bench.stop(server)


@benchmark("rss", "memory of master + worker after start-up and one request (MiB)")
def rss(bench: Bench) -> list[Result]:
    measures = [lambda e=e: settled_memory(bench, "auth_tokens", **e) for e in VARIANTS.values()]
    hello, *auth = interleave(
        bench.options.rss_runs, lambda: settled_memory(bench, "hello"), *measures
    )
    metrics = [("RSS of the tree", "MiB"), ("PSS of the tree", "MiB")]
    return compare("rss", metrics, hello, dict(zip(VARIANTS, auth, strict=True)))


# a burst of password logins: no refusals (every attempt counts as a failure until it succeeds)
NO_LOGIN_LIMITS = {
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": "1000000",
    "LOGIN_ACCOUNT_WIDE_FAILURES": "1000000",
    "LOGIN_MAX_FAILURES_PER_IP": "1000000",
}
BURST_AT_ONCE = 16


def burst_memory(bench: Bench) -> tuple[tuple[float, float], tuple[float, float]]:
    """auth-tokens' memory after one login, then after ``login_burst`` more, 16 at once."""
    server = bench.spawn("auth_tokens", **NO_LOGIN_LIMITS)
    try:
        wait_ok(server, "GET", "/health/startup")
        login(bench, server)
        time.sleep(0.3)
        one = server.memory()
        with ThreadPoolExecutor(BURST_AT_ONCE) as pool:
            list(pool.map(lambda _: login(bench, server), range(bench.options.login_burst)))
        time.sleep(0.3)
        return one, server.memory()
    finally:
        bench.stop(server)


@benchmark("login_memory", "auth-tokens' memory after a burst of password logins (MiB)")
def login_memory(bench: Bench) -> list[Result]:
    """Argon2id takes 19 MiB per hash, and each thread that hashed keeps that block in its
    glibc arena: what a burst leaves resident depends on how many threads hash."""
    runs = [burst_memory(bench) for _ in range(bench.options.rss_runs)]
    burst = f"auth-tokens after {bench.options.login_burst} more, {BURST_AT_ONCE} at once"
    return [
        Result(
            "login_memory",
            metric,
            "MiB",
            burst,
            [after[i] for _, after in runs],
            "auth-tokens after one login",
            [one[i] for one, _ in runs],
        )
        for i, metric in enumerate(("RSS of the tree", "PSS of the tree"))
    ]


# ---------------------------------------------------------------- throughput


def throughput_servers(bench: Bench) -> tuple[Server, Server, Server, dict[str, str]]:
    """auth-tokens, auth-users (verifying with its JWKS), hello, and a bearer header."""
    tokens = bench.spawn("auth_tokens")
    wait_ok(tokens, "GET", "/health/startup")
    jwks = f"http://127.0.0.1:{tokens.port}/.well-known/jwks.json"
    users, hello = bench.spawn("auth_users", JWKS_URL=jwks), bench.spawn("hello")
    for server in (users, hello):
        wait_ok(server, "GET", "/health/startup")
    bearer = {"Authorization": f"Bearer {login(bench, tokens)[1]}"}
    me = json.loads(wait_ok(users, "GET", "/users/me", headers=bearer)[1])
    if me.get("email") != bench.admin_email:
        raise RuntimeError(f"GET /users/me answered {me}")
    return tokens, users, hello, bearer


@benchmark("throughput", "keep-alive load: requests/s and p50/p99 latency (separate process)")
def throughput(bench: Bench) -> list[Result]:
    tokens, users, hello, bearer = throughput_servers(bench)
    floor = bench.spawn("one_query")
    wait_ok(floor, "GET", "/")  # its pool, made by the first request
    targets = [
        Target.get("hello", hello.port, "/", {}),
        Target.get("auth-users", users.port, "/users/me", bearer),
        Target.get("auth-tokens", tokens.port, "/.well-known/jwks.json", {}),
        Target.get("one query (floor)", floor.port, "/", {}),
    ]
    servers = [hello, users, tokens, floor]
    with pinned(*servers):
        base, *subjects = load_rounds(
            bench, targets, duration=bench.options.duration, servers=servers
        )
    for server in servers:
        bench.stop(server)
    beside_hello = [
        result
        for target, values in zip(targets[1:], subjects, strict=True)
        for result in load_results(
            "throughput", f"GET {target.steps[0].path} vs GET /", target, values, targets[0], base
        )
    ]
    # what /users/me costs beyond its one query: the platform's own request stack
    me, floor_values = subjects[0], subjects[2]
    metric = "GET /users/me vs one query (floor)"
    return beside_hello + load_results(
        "throughput", metric, targets[1], me, targets[3], floor_values
    )


# ---------------------------------------------------------------- imports


@dataclass(frozen=True)
class ImportProfile:
    """``-X importtime`` of a process tree: total self time, modules, and who costs most."""

    total_ms: float
    modules: int
    by_package: dict[str, float]
    first_importers: dict[str, float]


def parse_importtime(text: str, *, top: int = 12) -> ImportProfile:
    by_package: dict[str, float] = {}
    first: dict[str, float] = {}
    names = set()
    for line in text.splitlines():
        found = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( +)(\S+)", line)
        if not found:
            continue
        own, cumulative, indent, name = found.groups()
        names.add(name)
        package = name.split(".")[0]
        by_package[package] = by_package.get(package, 0.0) + int(own) / 1000
        if len(indent) == 1:  # imported directly by the function's code or the server
            first[name] = first.get(name, 0.0) + int(cumulative) / 1000

    def largest(costs: dict[str, float]) -> dict[str, float]:
        ranked = sorted(costs.items(), key=lambda item: -item[1])[:top]
        return {k: round(v, 1) for k, v in ranked}

    total = sum(by_package.values())
    return ImportProfile(round(total, 1), len(names), largest(by_package), largest(first))


def import_profile(bench: Bench, target: str) -> ImportProfile:
    server = bench.spawn(target, PYTHONPROFILEIMPORTTIME="1")
    try:
        wait_ok(server, "GET", "/health/startup")
        if target == "hello":
            wait_ok(server, "GET", "/")
        else:
            login(bench, server)
    finally:
        bench.stop(server)
    return parse_importtime(server.output())


@benchmark("imports", "-X importtime of start-up + one request: total ms and module count")
def imports(bench: Bench) -> list[Result]:
    hello, auth = interleave(
        bench.options.rss_runs,
        lambda: import_profile(bench, "hello"),
        lambda: import_profile(bench, "auth_tokens"),
    )
    metrics = [("import time (sum of self)", "ms"), ("modules imported", "count")]
    results = compare(
        "imports",
        metrics,
        [(p.total_ms, p.modules) for p in hello],
        {"auth-tokens": [(p.total_ms, p.modules) for p in auth]},
    )
    results[0].notes = {
        "auth_tokens_by_package_ms": auth[-1].by_package,
        "auth_tokens_first_importers_ms": auth[-1].first_importers,
        "hello_by_package_ms": hello[-1].by_package,
    }
    return results
