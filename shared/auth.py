"""auth verifies access tokens against auth-tokens' JWKS and checks roles and scopes.

The JWKS is fetched once and cached for ``JWKS_CACHE_SECONDS``; a token signed with
an unknown ``kid`` triggers one early refetch (key rotation), at most every
``_REFRESH_FLOOR`` seconds so forged ``kid`` values cannot hammer auth-tokens.

Revocation takes effect on the next request, not when a token expires: a user's access
tokens carry the *generation* they were issued in (claim ``gen``, 0 when absent), and
auth-service bumps it when the user is disabled, deleted, changes role or password, and
publishes it in Redis (``<prefix>users:generation:<id>``, a key outside any service's
namespace). Every verifier compares a user token's ``gen`` with the published one, kept in
process for ``TOKEN_REVOCATION_CACHE_SECONDS`` (1 s): an older token is a 401. If Redis is
unreachable the check is skipped (logged): an outage then falls back to token expiry
(at most 15 minutes) instead of refusing every request of every user.
"""

from __future__ import annotations

import logging
import time
import uuid
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, overload

from starlette.requests import Request

from shared.config import BaseConfig
from shared.errors import Forbidden, Unauthorized, Unavailable
from shared.inputs import parse_uuid

if TYPE_CHECKING:
    from joserfc.jwk import KeySet

    from shared.cache import Cache

logger = logging.getLogger(__name__)
GENERATION_TTL_SECONDS = 86_400
"""How long a published generation is kept: far beyond any access token's 15 minutes."""
TOMBSTONE = 2**31 - 1
"""The generation of a deleted user: no token was or will be issued in it."""

ALGORITHMS = ("ES256", "EdDSA")
INTERNAL_SCOPE = "internal"
"""The scope of service-account tokens allowed to act for a user (``X-Acting-User``)."""
_REFRESH_FLOOR = 10.0
_VERIFIED_MAX = 10_000
_PRINCIPAL = "acr.principal"  # request scope key of the authenticated principal
"""Verified tokens remembered until they expire (a JWT cannot change); a key dropped from
the JWKS stops new tokens at once and cached ones within their 15 minutes, as a JWKS cache would."""

KeySource = Callable[[], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user, or a service account (``role == "service"``).

    Handlers get it from :func:`principal` (the function authenticated the request before
    reading its body) and ask it :meth:`user` for the user the call acts for.
    """

    subject: str
    role: str
    scopes: frozenset[str] = frozenset()
    claims: dict[str, Any] = field(default_factory=dict)
    acting_for: str | None = None
    _user: uuid.UUID | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        # once per principal (verified tokens are cached), not once per request
        user = None
        if not (self.acting_for is None and self.role == "service"):
            try:
                user = parse_uuid(self.acting_for or self.subject)
            except ValueError:
                user = None
        object.__setattr__(self, "_user", user)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_privileged(self) -> bool:
        """An admin, or a platform service (scope ``internal``) acting on the platform's
        behalf: the callers allowed to write on another's account."""
        return self.is_admin or INTERNAL_SCOPE in self.scopes

    @property
    def user_id(self) -> uuid.UUID | None:
        """The user this call acts for (the one a service names in ``X-Acting-User``, else
        the subject), or None: a service acting for nobody, or a subject that is no user id.
        Handlers that need a user call :meth:`user` instead."""
        return self._user

    @property
    def actor(self) -> str:
        """Who did it, for the record (``created_by`` columns): the user acted for, else the
        subject (a service account acting for nobody records its own name)."""
        return self.acting_for or self.subject

    def user(self) -> uuid.UUID:
        """The user this call acts for (and is charged to).

        Raises:
            Forbidden: a service token naming no user in ``X-Acting-User`` (or a subject
                that is not a user id): there is nobody to act for.
        """
        user = self.user_id
        if user is None and self.role == "service":
            raise Forbidden(
                "Service accounts have no user of their own; a service token must name the "
                "user it acts for in X-Acting-User."
            )
        if user is None:
            raise Forbidden("The token's subject is not a user.")
        return user

    def require_role(self, role: str) -> Principal:
        """This principal, if it has ``role`` (admins pass any role check).

        Raises:
            Forbidden: it has not.
        """
        if self.role != role and not self.is_admin:
            raise Forbidden(f"This action needs the '{role}' role.")
        return self


@overload
def principal(request: Request) -> Principal: ...
@overload
def principal(request: Request, *, required: Literal[False]) -> Principal | None: ...
def principal(request: Request, *, required: bool = True) -> Principal | None:
    """The caller of ``request``, as the function authenticated it before reading the body.

    The one way handlers learn who calls: every route that is not ``public`` is
    authenticated by the function (401 before the body is read), and a ``public`` route
    with ``optional_auth`` has a bearer token, when one is sent, verified the same way.

    Raises:
        Unauthorized: ``required`` and the request carries no authenticated principal.
    """
    known: Principal | None = request.scope.get(_PRINCIPAL)
    if known is None and required:
        raise Unauthorized("A bearer access token is required.", error="invalid_request")
    return known


class Verifier:
    """Verifies bearer tokens; keys come from ``JWKS_URL`` unless a source is given.

    Args:
        settings: Returns the loaded settings (issuer, audience, JWKS URL, cache time).
        keys: An async callable returning a JWKS dict (auth-tokens uses its own keys).
    """

    def __init__(
        self, settings: Callable[[], BaseConfig], *, keys: KeySource | None = None
    ) -> None:
        self._settings = settings
        self._source = keys or self._fetch
        self._keyset: KeySet | None = None
        self._fetched_at = 0.0
        self._verified: dict[str, Principal] = {}
        self._redis: Cache | None = None
        self._generations: dict[str, tuple[float, int]] = {}

    def watch_revocations(self, redis: Cache) -> None:
        """Check user tokens against the generations auth-service publishes in ``redis``."""
        self._redis = redis

    async def _fetch(self) -> dict[str, Any]:
        from shared import clients

        try:
            response = await clients.get(self._settings().jwks_url, timeout=3.0)
            response.raise_for_status()
        except clients.transport_errors() as e:
            raise Unavailable("auth-tokens", detail="The signing keys could not be fetched.") from e
        document: dict[str, Any] = response.json()
        return document

    async def keyset(self, *, refresh: bool = False) -> KeySet:
        from joserfc.jwk import KeySet

        age = time.monotonic() - self._fetched_at
        stale = age > self._settings().jwks_cache_seconds
        if self._keyset is None or stale or (refresh and age > _REFRESH_FLOOR):
            self._keyset = KeySet.import_key_set(await self._source())  # type: ignore[arg-type]
            self._fetched_at = time.monotonic()
        return self._keyset

    def forget_keys(self) -> None:
        self._keyset, self._fetched_at = None, 0.0
        self._verified.clear()

    async def verify(self, token: str) -> Principal:
        """Check signature, ``iss``, ``aud``, ``exp`` and build the principal.

        Raises:
            Unauthorized: the token is malformed, forged, expired or for someone else.
        """
        cached = self._verified.get(token)
        if cached is not None and cached.claims["exp"] > time.time():
            return cached
        principal = await self._verify(token)
        if len(self._verified) >= _VERIFIED_MAX:
            self._verified.clear()
        self._verified[token] = principal
        return principal

    async def _verify(self, token: str) -> Principal:
        from joserfc import jwt
        from joserfc.errors import JoseError, SecurityWarning

        keyset = await self.keyset()
        try:
            kid = _header(token).get("kid")
            if kid is None or not _has_kid(keyset, kid):
                keyset = await self.keyset(refresh=True)
            with warnings.catch_warnings():  # RFC 9864 deprecates the name "EdDSA"; we accept it
                warnings.simplefilter("ignore", SecurityWarning)
                decoded = jwt.decode(token, keyset, algorithms=list(ALGORITHMS))
            settings = self._settings()
            jwt.JWTClaimsRegistry(
                leeway=5,
                iss={"essential": True, "value": settings.jwt_issuer},
                aud={"essential": True, "value": settings.jwt_audience},
                exp={"essential": True},
                sub={"essential": True},
            ).validate(decoded.claims)
        except (JoseError, ValueError, KeyError, TypeError) as e:
            raise Unauthorized("The access token is invalid or expired.") from e
        claims = decoded.claims
        scopes = frozenset(str(claims.get("scope", "")).split())
        return Principal(str(claims["sub"]), str(claims.get("role", "member")), scopes, claims)

    async def authenticate(self, request: Request) -> Principal:
        """The principal of ``Authorization: Bearer``, kept in the request for
        :func:`principal`; service tokens with the internal scope may name the user they act
        for in ``X-Acting-User``. The function calls this before reading the body; handlers
        read the result with :func:`principal`.

        Raises:
            Unauthorized: no bearer token, or an invalid one.
        """
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("A bearer access token is required.", error="invalid_request")
        principal = await self.verify(token.strip())
        if principal.role != "service":
            await self._check_generation(principal)
        acting = request.headers.get("x-acting-user")
        if acting:
            if INTERNAL_SCOPE not in principal.scopes:
                raise Forbidden("Only internal service tokens may act for a user.")
            if await self._current_generation(acting) == TOMBSTONE:
                raise Forbidden("The user this call acts for has been deleted.")
            principal = Principal(
                principal.subject, principal.role, principal.scopes, principal.claims, acting
            )
        request.scope[_PRINCIPAL] = principal
        return principal

    async def _check_generation(self, principal: Principal) -> None:
        """Refuse a token issued before the user's current generation (see the module)."""
        current = await self._current_generation(principal.subject)
        if current is None:
            return
        given = principal.claims.get("gen", 0)
        if not isinstance(given, int) or given < current:
            raise Unauthorized("The access token was revoked; sign in again.")

    async def _current_generation(self, user_id: str) -> int | None:
        """The user's published generation, kept ``TOKEN_REVOCATION_CACHE_SECONDS``; None
        when revocations are not watched or Redis is down.

        A platform service acting for a user (``X-Acting-User``) relays what that user
        asked while their token was valid (an analysis queued, a review requested), so a
        password change or a logout everywhere does not stop it; a deleted user's
        (``TOMBSTONE``) does: nothing more is done in the name of someone who is gone.
        """
        if self._redis is None:
            return None
        now = time.monotonic()
        cached = self._generations.get(user_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        published = await self._published(user_id)
        if published is None:
            return None
        if len(self._generations) >= _VERIFIED_MAX:
            self._generations.clear()
        ttl = self._settings().token_revocation_cache_seconds
        self._generations[user_id] = (now + ttl, published)
        return published

    async def _published(self, user_id: str) -> int | None:
        from shared.cache import down_errors

        assert self._redis is not None
        try:
            raw = await self._redis.client().get(generation_key(self._settings(), user_id))
        except down_errors():
            logger.warning("Token revocations unavailable (Redis down): checked by expiry only")
            return None
        return int(raw) if raw is not None else 0


def generation_key(settings: BaseConfig, user_id: str) -> str:
    """The Redis key of a user's token generation, shared by every service."""
    return f"{settings.redis_key_prefix}users:generation:{user_id}"


async def publish_generation(redis: Cache, user_id: str, generation: int) -> None:
    """Make every verifier refuse the user's tokens of older generations (auth-service).

    Raises:
        Unavailable: Redis is down (the change is stored; tokens end by expiry only).
    """
    from shared.cache import down_errors

    key = generation_key(redis.settings(), user_id)
    try:
        await redis.client().set(key, str(generation), ex=GENERATION_TTL_SECONDS)
    except down_errors() as e:
        raise Unavailable("redis", detail="The revocation could not be published.") from e


def _header(token: str) -> dict[str, Any]:
    import base64
    import json

    head = token.split(".", 1)[0]
    decoded = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    if not isinstance(decoded, dict):
        raise ValueError("JOSE header is not an object")
    return decoded


def _has_kid(keyset: KeySet, kid: str) -> bool:
    return any(key.kid == kid for key in keyset.keys)
