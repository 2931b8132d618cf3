"""Brute-force protection: failed logins counted per account and per client address."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.requests import Request

from functions.auth_service import limiter
from shared import config
from tests.functions.auth_service._support import PASSWORD, Auth, unique_email


def _random_network(prefix: str) -> str:
    """A /24 of its own, so address counters never cross tests."""
    return f"{prefix}.{uuid.uuid4().bytes[0]}"


def _assert_limited(answer: httpx.Response) -> int:
    assert answer.status_code == 429, answer.text
    retry_after = answer.headers["retry-after"]
    assert retry_after.isdigit() and int(retry_after) > 0, retry_after
    assert answer.json()["status"] == 429
    return int(retry_after)


async def _fail(auth: Auth, email: str, times: int, **headers: str) -> None:
    for attempt in range(times):
        answer = await auth.tokens.post(
            "/token",
            data={"grant_type": "password", "username": email, "password": "wrong guess!"},
            headers=headers,
        )
        assert answer.json().get("error") == "invalid_grant", (attempt, answer.text)


async def test_an_account_is_locked_after_the_failure_limit_even_with_the_right_password(
    make_auth: Callable[..., Auth],
) -> None:
    auth = make_auth(LOGIN_MAX_FAILURES_PER_ACCOUNT="3", LOGIN_WINDOW_SECONDS="600")
    user = await auth.register()
    await _fail(auth, user["email"], 3)
    retry_after = _assert_limited(await auth.password_grant(user["email"]))
    assert retry_after <= 600, retry_after


async def test_the_account_limit_follows_the_normalized_email(
    make_auth: Callable[..., Auth],
) -> None:
    auth = make_auth(LOGIN_MAX_FAILURES_PER_ACCOUNT="2")
    user = await auth.register()
    await _fail(auth, user["email"].upper(), 1)
    await _fail(auth, f"  {user['email']} ", 1)
    _assert_limited(await auth.password_grant(user["email"]))


async def test_a_success_clears_the_account_counter(make_auth: Callable[..., Auth]) -> None:
    auth = make_auth(LOGIN_MAX_FAILURES_PER_ACCOUNT="3")
    user = await auth.register()
    await _fail(auth, user["email"], 2)
    await auth.login(user["email"])
    await _fail(auth, user["email"], 2)
    assert (await auth.password_grant(user["email"])).status_code == 200


async def test_an_account_lock_does_not_affect_other_accounts(
    make_auth: Callable[..., Auth],
) -> None:
    auth = make_auth(LOGIN_MAX_FAILURES_PER_ACCOUNT="2")
    victim, bystander = await auth.register(), await auth.register()
    await _fail(auth, victim["email"], 2)
    _assert_limited(await auth.password_grant(victim["email"]))
    assert (await auth.password_grant(bystander["email"])).status_code == 200


async def test_failures_across_accounts_from_one_address_lock_that_address(
    make_auth: Callable[..., Auth],
) -> None:
    auth = make_auth(LOGIN_MAX_FAILURES_PER_IP="4", LOGIN_MAX_FAILURES_PER_ACCOUNT="50")
    user = await auth.register()
    for _ in range(4):
        await _fail(auth, unique_email("target"), 1)
    _assert_limited(await auth.password_grant(user["email"]))
    elsewhere = make_auth(
        client_ip_=_random_network("192.0") + ".7",
        LOGIN_MAX_FAILURES_PER_IP="4",
        LOGIN_MAX_FAILURES_PER_ACCOUNT="50",
    )
    assert (await elsewhere.password_grant(user["email"])).status_code == 200


async def test_behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client(
    make_auth: Callable[..., Auth], client_ip: str
) -> None:
    auth = make_auth(TRUSTED_PROXIES=client_ip, LOGIN_MAX_FAILURES_PER_IP="3")
    user = await auth.register()
    network = _random_network("172.16")
    attacker = f"{network}.1"
    for n in range(3):
        await _fail(auth, unique_email(), 1, **{"X-Forwarded-For": f"203.0.113.{n}, {attacker}"})
    spoofed = await auth.tokens.post(
        "/token",
        data={"grant_type": "password", "username": user["email"], "password": PASSWORD},
        headers={"X-Forwarded-For": f"198.18.0.99, {attacker}"},
    )
    _assert_limited(spoofed)
    honest = await auth.tokens.post(
        "/token",
        data={"grant_type": "password", "username": user["email"], "password": PASSWORD},
        headers={"X-Forwarded-For": f"{network}.2"},
    )
    assert honest.status_code == 200, "another client behind the same proxy is not limited"


async def test_a_chain_of_trusted_proxies_is_walked_past(
    make_auth: Callable[..., Auth], client_ip: str
) -> None:
    auth = make_auth(TRUSTED_PROXIES=f"{client_ip}, 10.9.9.0/24", LOGIN_MAX_FAILURES_PER_IP="2")
    user = await auth.register()
    attacker = _random_network("172.17") + ".1"
    for n in range(2):
        await _fail(auth, unique_email(), 1, **{"X-Forwarded-For": f"{attacker}, 10.9.9.{n}"})
    limited = await auth.tokens.post(
        "/token",
        data={"grant_type": "password", "username": user["email"], "password": PASSWORD},
        headers={"X-Forwarded-For": f"1.1.1.1, {attacker}, 10.9.9.9"},
    )
    _assert_limited(limited)


async def test_a_direct_caller_cannot_rotate_x_forwarded_for(
    make_auth: Callable[..., Auth],
) -> None:
    """Issue 9 item 6: the per-address limit was bypassed by rotating X-Forwarded-For from
    an untrusted peer (the loopback, by default, was trusted)."""
    auth = make_auth(LOGIN_MAX_FAILURES_PER_IP="2", LOGIN_MAX_FAILURES_PER_ACCOUNT="50")
    user = await auth.register()
    for n in range(2):
        await _fail(auth, unique_email(), 1, **{"X-Forwarded-For": f"203.0.113.{n}"})
    rotated = await auth.tokens.post(
        "/token",
        data={"grant_type": "password", "username": user["email"], "password": PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.200"},
    )
    _assert_limited(rotated)


async def test_a_stranger_cannot_lock_an_account_only_slow_it_briefly(
    make_auth: Callable[..., Auth],
) -> None:
    """Issue 9 item 6: five wrong passwords locked any account for 15 minutes."""
    env = {
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": "3",
        "LOGIN_ACCOUNT_WIDE_FAILURES": "6",
        "LOGIN_ACCOUNT_BACKOFF_MAX_SECONDS": "2",
    }
    owner_side = make_auth(**env)
    user = await owner_side.register()
    for network in ("172.20", "172.21"):  # six failures: the account-wide free ones
        attacker = make_auth(client_ip_=_random_network(network) + ".9", **env)
        await _fail(attacker, user["email"], 3)
        _assert_limited(await attacker.password_grant(user["email"]))
    slowed = await owner_side.password_grant(user["email"])
    assert _assert_limited(slowed) <= 2, "account-wide, a stranger imposes at most the cap"
    await asyncio.sleep(2.1)  # the cap is the promise under test, not a speed
    assert (await owner_side.password_grant(user["email"])).status_code == 200


async def test_concurrent_guesses_are_counted_before_they_are_checked(
    make_auth: Callable[..., Auth],
) -> None:
    """Issue 9 item 6: twenty concurrent guesses were all evaluated."""
    auth = make_auth(LOGIN_MAX_FAILURES_PER_ACCOUNT="5")
    user = await auth.register()
    answers = await asyncio.gather(
        *(
            auth.tokens.post(
                "/token",
                data={"grant_type": "password", "username": user["email"], "password": f"g{n}"},
            )
            for n in range(20)
        )
    )
    checked = [a for a in answers if a.status_code != 429]
    assert len(checked) == 5, [a.status_code for a in answers]
    assert all(a.json()["error"] == "invalid_grant" for a in checked)


async def test_client_secret_guessing_is_limited_too(make_auth: Callable[..., Auth]) -> None:
    auth = make_auth(LOGIN_MAX_FAILURES_PER_ACCOUNT="2")
    account = await auth.service_account(["internal"])
    form: dict[str, Any] = {"grant_type": "client_credentials", "client_id": account["client_id"]}
    for _ in range(2):
        answer = await auth.tokens.post("/token", data={**form, "client_secret": "guess"})
        assert answer.status_code == 401, answer.text
    right = await auth.tokens.post(
        "/token", data={**form, "client_secret": account["client_secret"]}
    )
    _assert_limited(right)


def _address(peer: str, forwarded: str | None) -> str:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
    scope = {"type": "http", "method": "POST", "path": "/token", "headers": headers}
    return limiter.client_ip(Request({**scope, "client": (peer, 40000)}))


@pytest.mark.parametrize(
    ("knative", "trusted", "peer", "forwarded", "client"),
    [
        # In a Knative pod the queue-proxy (loopback; 127.0.0.6 behind an Istio sidecar)
        # appends the address that called it: that one is the client.
        ("acr-auth-tokens", None, "127.0.0.1", "198.51.100.4", "198.51.100.4"),
        ("acr-auth-tokens", None, "127.0.0.6", "198.51.100.4", "198.51.100.4"),
        ("acr-auth-tokens", None, "::1", "198.51.100.4", "198.51.100.4"),
        # what a caller wrote before that hop is never believed
        ("acr-auth-tokens", None, "127.0.0.1", "203.0.113.9, 198.51.100.4", "198.51.100.4"),
        # a pod calling the container port directly is not the queue-proxy
        ("acr-auth-tokens", None, "10.4.0.17", "203.0.113.9", "10.4.0.17"),
        # the cluster's setting: ingress and activator pods trusted too
        ("acr-auth-tokens", "127.0.0.0/8,10.0.0.0/8", "127.0.0.1", "198.51.100.4, 10.4.0.2",
         "198.51.100.4"),
        # outside Knative (make run) a loopback peer may be any local client
        (None, None, "127.0.0.1", "203.0.113.9", "127.0.0.1"),
        # empty: nobody's header is believed, in Knative too
        ("acr-auth-tokens", "", "127.0.0.1", "203.0.113.9", "127.0.0.1"),
    ],
)  # fmt: skip
def test_the_client_address_comes_from_the_trusted_hop_only(
    monkeypatch: pytest.MonkeyPatch,
    knative: str | None,
    trusted: str | None,
    peer: str,
    forwarded: str,
    client: str,
) -> None:
    """``TRUSTED_PROXIES`` defaults to the Knative pod's own hop (the queue-proxy)."""
    monkeypatch.setenv("SERVICE_NAME", "auth-service")
    monkeypatch.setenv("ENVIRONMENT", "test")
    monkeypatch.setenv("DATABASE_URL", "postgresql://unused")  # required, never connected
    monkeypatch.setenv("REDIS_URL", "redis://unused")
    for name, value in (("K_SERVICE", knative), ("TRUSTED_PROXIES", trusted)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    config.reset_caches()
    try:
        assert _address(peer, forwarded) == client
        assert _address(peer, None) == peer
    finally:
        monkeypatch.undo()
        config.reset_caches()
