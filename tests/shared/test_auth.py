"""Tests of shared/auth.py against the identity fixture's JWKS served over real HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey
from starlette.requests import Request

from shared import auth, config
from shared.errors import Forbidden, Unauthorized
from tests.helpers import Identity


@pytest.fixture
def verifier(identity: Identity) -> auth.Verifier:
    os.environ.update({"SERVICE_NAME": "auth-test", "JWKS_URL": identity.jwks_url})
    config.reset_caches()
    return auth.Verifier(lambda: config.load(config.BaseConfig))


@pytest.fixture
def fetches(verifier: auth.Verifier) -> list[float]:
    """Counts the verifier's JWKS fetches (each one a real HTTP GET)."""
    seen: list[float] = []
    source: Callable[[], Awaitable[dict[str, Any]]] = verifier._source

    async def counting() -> dict[str, Any]:
        seen.append(time.monotonic())
        return await source()

    verifier._source = counting
    return seen


@pytest.fixture
def new_key(identity: Identity) -> Iterator[ECKey]:
    """A rotated-in signing key, published in the JWKS for this test only."""
    key = ECKey.generate_key("P-256")
    key.ensure_kid()
    saved = list(identity.jwks["keys"])
    identity.jwks["keys"] = [{**key.as_dict(private=False), "alg": "ES256", "use": "sig"}, *saved]
    yield key
    identity.jwks["keys"] = saved


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": "https://auth.ai-codereview.dev",
        "aud": "ai-codereview",
        "sub": str(uuid.uuid4()),
        "iat": now,
        "exp": now + 300,
        "role": "member",
        "scope": "user",
        **extra,
    }


def _sign(key: ECKey, **extra: Any) -> str:
    header = {"alg": "ES256", "kid": key.kid, "typ": "at+jwt"}
    return jwt.encode(header, _claims(**extra), key, algorithms=["ES256"])


def _request(headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": raw})


# ---------------------------------------------------------------- verify


async def test_a_valid_token_gives_the_principal(
    verifier: auth.Verifier, identity: Identity
) -> None:
    user = str(uuid.uuid4())
    token = identity.token(user, role="admin", scope="user reviews:write")
    principal = await verifier.verify(token)
    assert principal.subject == str(principal.user()) == user
    assert principal.role == "admin" and principal.is_admin
    assert principal.scopes == frozenset({"user", "reviews:write"})
    assert principal.claims["aud"] == "ai-codereview"


def _tampered(token: str) -> str:
    head, payload, signature = token.split(".")
    middle = len(signature) // 2
    flipped = "A" if signature[middle] != "A" else "B"
    return f"{head}.{payload}.{signature[:middle]}{flipped}{signature[middle + 1 :]}"


def _forged_payload(token: str) -> str:
    head, _, signature = token.split(".")
    return f"{head}.{_b64(json.dumps(_claims(role='admin')).encode())}.{signature}"


def _alg_none(identity: Identity) -> str:
    header = {"alg": "none", "kid": identity.key.kid, "typ": "at+jwt"}
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(_claims()).encode())}."


def _hs256_with_public_key(identity: Identity) -> str:
    """Algorithm confusion: HMAC keyed with the (public) verification key."""
    header = {"alg": "HS256", "kid": identity.key.kid, "typ": "at+jwt"}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(_claims()).encode())}"
    public_pem = identity.key.as_pem(private=False)
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


def _without_subject(identity: Identity) -> str:
    claims = _claims()
    del claims["sub"]
    header = {"alg": "ES256", "kid": identity.key.kid, "typ": "at+jwt"}
    return jwt.encode(header, claims, identity.key, algorithms=["ES256"])


def _unknown_kid() -> str:
    stranger = ECKey.generate_key("P-256")
    stranger.ensure_kid()
    return _sign(stranger)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda i: i.token(ttl=-60), id="expired"),
        pytest.param(lambda i: i.token(iss="https://evil.example"), id="wrong-issuer"),
        pytest.param(lambda i: i.token(aud="another-platform"), id="wrong-audience"),
        pytest.param(lambda i: _tampered(i.token()), id="tampered-signature"),
        pytest.param(lambda i: _forged_payload(i.token()), id="forged-payload"),
        pytest.param(_alg_none, id="alg-none"),
        pytest.param(_hs256_with_public_key, id="hs256-public-key-as-secret"),
        pytest.param(lambda i: _unknown_kid(), id="unknown-kid"),
        pytest.param(lambda i: "not-a-token", id="garbage"),
        pytest.param(lambda i: "a.b.c", id="garbage-segments"),
        pytest.param(_without_subject, id="no-subject"),
    ],
)
async def test_bad_tokens_are_unauthorized_with_a_bearer_challenge(
    verifier: auth.Verifier, identity: Identity, make: Callable[[Identity], str]
) -> None:
    with pytest.raises(Unauthorized) as caught:
        await verifier.verify(make(identity))
    assert caught.value.status == 401
    assert caught.value.headers["WWW-Authenticate"].startswith('Bearer realm="ai-codereview"')
    assert caught.value.detail == "The access token is invalid or expired."


# ---------------------------------------------------------------- key rotation


async def test_a_token_from_a_rotated_in_key_verifies_after_one_refetch(
    verifier: auth.Verifier,
    identity: Identity,
    fetches: list[float],
    new_key: ECKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    saved = identity.jwks["keys"]
    identity.jwks["keys"] = saved[1:]  # the verifier first sees the keys before rotation
    await verifier.verify(identity.token())
    identity.jwks["keys"] = saved
    monkeypatch.setattr(auth, "_REFRESH_FLOOR", 0.0)  # as if the floor had passed
    principal = await verifier.verify(_sign(new_key, sub="rotated"))
    assert principal.subject == "rotated"
    assert len(fetches) == 2, "one initial fetch, one refetch for the unknown kid"
    await verifier.verify(_sign(new_key))
    assert len(fetches) == 2, "a known kid needs no fetch"


async def test_forged_kids_do_not_cause_a_fetch_each(
    verifier: auth.Verifier, identity: Identity, fetches: list[float]
) -> None:
    await verifier.verify(identity.token())
    for _ in range(10):
        with pytest.raises(Unauthorized):
            await verifier.verify(_unknown_kid())
    assert len(fetches) == 1, "refetches are rate-limited by the refresh floor"


async def test_keys_are_refetched_when_the_cache_expires(
    verifier: auth.Verifier, identity: Identity, fetches: list[float]
) -> None:
    os.environ["JWKS_CACHE_SECONDS"] = "0"
    config.reset_caches()
    await verifier.verify(identity.token())
    await verifier.verify(identity.token())
    assert len(fetches) == 2


async def test_unreachable_jwks_is_unavailable_not_unauthorized(identity: Identity) -> None:
    from localdev import local
    from shared.errors import Unavailable

    os.environ.update(
        {"SERVICE_NAME": "auth-test", "JWKS_URL": f"http://127.0.0.1:{local.free_port()}/jwks"}
    )
    config.reset_caches()
    verifier = auth.Verifier(lambda: config.load(config.BaseConfig))
    with pytest.raises(Unavailable) as caught:
        await verifier.verify(identity.token())
    assert caught.value.dependency == "auth-tokens"


# ---------------------------------------------------------------- authenticate and require


@pytest.mark.parametrize("header", [None, "Basic dXNlcjpwYXNz", "Bearer ", "Bearer"])
async def test_missing_bearer_token_is_an_invalid_request(
    verifier: auth.Verifier, header: str | None
) -> None:
    headers = {} if header is None else {"Authorization": header}
    with pytest.raises(Unauthorized) as caught:
        await verifier.authenticate(_request(headers))
    assert 'error="invalid_request"' in caught.value.headers["WWW-Authenticate"]


def test_require_role_refuses_others_and_admits_admins() -> None:
    member = auth.Principal(str(uuid.uuid4()), "member")
    with pytest.raises(Forbidden, match="'admin' role"):
        member.require_role("admin")
    assert member.require_role("member") is member
    boss = auth.Principal(str(uuid.uuid4()), "admin")
    assert boss.require_role("admin") is boss and boss.require_role("member") is boss


async def test_acting_user_is_honoured_for_internal_service_tokens(
    verifier: auth.Verifier, identity: Identity
) -> None:
    acted = str(uuid.uuid4())
    headers = {
        **identity.headers("svc-review", role="service", scope="internal"),
        "X-Acting-User": acted,
    }
    principal = await verifier.authenticate(_request(headers))
    assert principal.subject == "svc-review" and principal.actor == acted
    assert principal.acting_for == str(principal.user()) == acted


async def test_a_service_may_not_act_for_a_deleted_user(
    verifier: auth.Verifier, identity: Identity, redis_url: str, redis_prefix: str
) -> None:
    """auth-service publishes a deleted user's generation as the tombstone: a platform
    service relaying that user's work is refused; another user is still served."""
    from shared.cache import Cache

    os.environ.update({"REDIS_URL": redis_url, "REDIS_KEY_PREFIX": redis_prefix})
    config.reset_caches()
    redis = Cache(lambda: config.load(config.BaseConfig))
    verifier.watch_revocations(redis)
    gone, alive = str(uuid.uuid4()), str(uuid.uuid4())
    await auth.publish_generation(redis, gone, auth.TOMBSTONE)
    await auth.publish_generation(redis, alive, 3)  # a password change: still acted for
    service = identity.headers("svc-worker", role="service", scope="internal")
    try:
        with pytest.raises(Forbidden, match="has been deleted"):
            await verifier.authenticate(_request({**service, "X-Acting-User": gone}))
        principal = await verifier.authenticate(_request({**service, "X-Acting-User": alive}))
        assert principal.acting_for == alive
    finally:
        await redis.close()


async def test_acting_user_without_the_internal_scope_is_forbidden(
    verifier: auth.Verifier, identity: Identity
) -> None:
    headers = {**identity.headers("user-1", role="admin"), "X-Acting-User": "user-9"}
    with pytest.raises(Forbidden, match="Only internal service tokens"):
        await verifier.authenticate(_request(headers))


async def test_handlers_read_the_principal_the_function_authenticated(
    verifier: auth.Verifier, identity: Identity
) -> None:
    request = _request({"Authorization": f"Bearer {identity.token()}"})
    with pytest.raises(Unauthorized, match="bearer access token is required"):
        auth.principal(request)  # nobody authenticated this request
    assert auth.principal(request, required=False) is None
    first = await verifier.authenticate(request)  # the function, before the body
    assert auth.principal(request) is first
    assert auth.principal(request, required=False) is first


def test_a_service_token_acting_for_nobody_has_no_user_and_says_so() -> None:
    service = auth.Principal("svc-ci", "service", frozenset({auth.INTERNAL_SCOPE}))
    assert service.user_id is None and service.actor == "svc-ci"
    with pytest.raises(Forbidden, match="must name the user it acts for") as caught:
        service.user()
    assert caught.value.status == 403
    subject_uuid = auth.Principal(str(uuid.uuid4()), "service")
    assert subject_uuid.user_id is None, "a service is nobody's user, whatever its name"
    odd = auth.Principal("not-a-uuid", "member")
    with pytest.raises(Forbidden):
        odd.user()
    acting = auth.Principal("svc-ci", "service", frozenset({auth.INTERNAL_SCOPE}), {}, "x")
    with pytest.raises(Forbidden):
        acting.user()  # a malformed X-Acting-User is nobody either


@pytest.mark.parametrize(
    ("role", "scopes", "privileged"),
    [
        ("admin", frozenset(), True),
        ("service", frozenset({auth.INTERNAL_SCOPE}), True),
        ("service", frozenset({"reviews:write"}), False),
        ("member", frozenset({"user"}), False),
    ],
)
def test_only_admins_and_internal_services_are_privileged(
    role: str, scopes: frozenset[str], privileged: bool
) -> None:
    assert auth.Principal("s", role, scopes).is_privileged is privileged
