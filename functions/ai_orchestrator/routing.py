"""routing calls the first healthy candidate with quota, falling back on failures.

For each candidate in order: skip it while its circuit is open or it is cooling down
(its own ``Retry-After``); reserve quota for the estimated tokens (a quota 429 reaches
the caller at once and no provider is called); call it; commit the actual tokens on
success. A retryable failure (429, 529, 5xx, timeout, invalid output after the repair
retry) releases the reservation, counts against the circuit, sets a cooldown when the
provider named one, and moves on; a 401/403 does the same without a cooldown; a 400
moves on without touching the circuit. When every candidate failed: 503 naming each
attempt, ``Retry-After`` the shortest cooldown.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Generic, TypeVar

from functions.ai_orchestrator import breaker, catalog, quota, repository
from functions.ai_orchestrator.catalog import Entry, Model
from functions.ai_orchestrator.configs import Candidate
from functions.ai_orchestrator.providers import (
    AuthError,
    BadResponse,
    InvalidRequest,
    Provider,
    ProviderError,
)
from functions.ai_orchestrator.settings import settings
from shared.errors import BadRequest, Unavailable

PER_MILLION = Decimal(1_000_000)  # prices are per million tokens

T = TypeVar("T")
_OUTCOMES = {
    "RateLimited": "rate_limited",
    "Overloaded": "overloaded",
    "ServerError": "server_error",
    "Timeout": "timeout",
    "BadResponse": "bad_response",
    "AuthError": "auth_error",
    "InvalidRequest": "invalid_request",
}

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """A candidate resolved against the catalog: who to call, which model, at what price."""

    entry: Entry
    model: Model

    @property
    def provider(self) -> str:
        return self.entry.name


@dataclass
class Caller:
    """Who a call is made for, and the credentials forwarded to versions and quotas."""

    headers: dict[str, str]
    user_id: str
    project_id: uuid.UUID
    config_version_id: uuid.UUID | None
    source: str
    log: list[repository.Call] = field(default_factory=list)

    def record(self, target: Target, outcome: str, **values: object) -> None:
        self.log.append(
            repository.Call(
                user_id=self.user_id,
                project_id=self.project_id,
                config_version_id=self.config_version_id,
                source=self.source,
                provider=target.provider,
                model=target.model.name,
                outcome=outcome,
                **values,  # type: ignore[arg-type]
            )
        )


@dataclass(frozen=True)
class Answer(Generic[T]):
    target: Target
    value: T
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal


async def targets(candidates: list[Candidate]) -> tuple[list[Target], list[str]]:
    """The candidates found enabled in the catalog, in order, and why the others are not."""
    entries = {entry.name: entry for entry in await catalog.with_builtin()}
    found: list[Target] = []
    missing: list[str] = []
    for candidate in candidates:
        entry = entries.get(candidate.provider)
        model = None if entry is None else _model(entry, candidate.model)
        if entry is None or model is None:
            missing.append(f"{candidate.provider}/{candidate.model}: not in the catalog")
        elif not entry.enabled:
            missing.append(f"{candidate.provider}/{candidate.model}: disabled")
        else:
            found.append(Target(entry, model))
    return found, missing


def _model(entry: Entry, name: str) -> Model | None:
    if entry.builtin:
        return entry.models[0]  # the built-in reviewer has one model, whatever it is called
    return entry.model(name)


async def route(
    caller: Caller,
    candidates: list[Target],
    *,
    estimate: Callable[[Target], int],
    call: Callable[[Provider, Target], Awaitable[T]],
    usage: Callable[[T], tuple[int, int]],
    seconds: float,
    skipped: list[str] | None = None,
) -> Answer[T]:
    """The first candidate's answer that succeeds (see the module docstring).

    Raises:
        QuotaExceeded: quotas refused the reservation (no provider was called).
        BadRequest: every candidate was tried and refused the request as invalid (a
            client's mistake, such as no user message: not a 503 to retry).
        Unavailable: every candidate was skipped or failed.
    """
    attempts = list(skipped or [])
    refused = 0
    waits: list[float] = []
    for target in candidates:
        # the cooldown and the circuit in one round trip
        permit = await breaker.allow(target.provider, lease_seconds=seconds + 5)
        if permit.cooling_until is not None:
            attempts.append(f"{target.provider}/{target.model.name}: cooling down")
            waits.append(permit.cooling_until - time.time())
            continue
        if not permit.allowed:
            attempts.append(f"{target.provider}/{target.model.name}: circuit {permit.state}")
            waits.append(settings().breaker_cooldown_seconds)
            continue
        try:
            answer = await _attempt(caller, target, estimate, call, usage, seconds, permit.trial)
        except _Failed as failed:
            attempts.append(f"{target.provider}/{target.model.name}: {failed}")
            refused += failed.invalid
            if failed.wait:
                waits.append(failed.wait)
            if permit.trial and not failed.counted:
                await breaker.abandon(target.provider)
            continue
        except BaseException:
            if permit.trial:
                await asyncio.shield(breaker.abandon(target.provider))
            raise
        return answer
    if attempts and refused == len(attempts):
        logger.info("Every candidate refused the request: %s", "; ".join(attempts))
        raise BadRequest("Every candidate model refused the request as invalid.")
    raise Unavailable(
        "providers",
        retry_after=max(1, math.ceil(min(waits, default=5))),
        detail="No provider could answer: " + "; ".join(attempts or ["no candidates"]) + ".",
    )


class _Failed(Exception):
    """One candidate failed; ``counted`` when the circuit recorded it, ``wait`` a cooldown."""

    def __init__(
        self, reason: str, *, counted: bool = False, wait: float = 0.0, invalid: bool = False
    ) -> None:
        super().__init__(reason)
        self.counted = counted
        self.wait = wait
        self.invalid = invalid


async def _attempt(
    caller: Caller,
    target: Target,
    estimate: Callable[[Target], int],
    call: Callable[[Provider, Target], Awaitable[T]],
    usage: Callable[[T], tuple[int, int]],
    seconds: float,
    trial: bool,
) -> Answer[T]:
    reservation = await _reserve(caller, target, estimate(target))
    started = time.perf_counter()
    try:
        provider = await catalog.provider(target.entry, seconds=seconds)
        value = await call(provider, target)
    except ProviderError as error:
        await _give_back(caller, reservation)
        raise await _failed(caller, target, error, _ms(started)) from error
    except Unavailable as error:  # the key reference could not be fetched
        await _give_back(caller, reservation)
        caller.record(target, "unavailable", latency_ms=_ms(started), error=error.reason)
        raise _Failed("key reference unavailable") from error
    except BaseException:
        if reservation is not None:
            await asyncio.shield(quota.release(caller.headers, reservation))
        raise
    input_tokens, output_tokens = usage(value)
    cost = await _commit(caller, target, reservation, input_tokens, output_tokens)
    if trial:  # only the half-open trial's success changes the circuit (one round trip less)
        await breaker.success(target.provider)
    caller.record(
        target,
        "ok",
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cost_usd=cost,
        latency_ms=_ms(started),
    )
    return Answer(target, value, input_tokens, output_tokens, cost)


async def _reserve(caller: Caller, target: Target, estimated_tokens: int) -> quota.Held | None:
    if target.entry.builtin:
        return None  # the built-in reviewer is free and not metered
    try:
        return await quota.reserve(
            caller.headers,
            user_id=caller.user_id,
            project_id=caller.project_id,
            provider=target.provider,
            model=target.model.name,
            estimated_tokens=estimated_tokens,
        )
    except quota.ModelNotPriced as e:
        raise _Failed("model has no price at quotas") from e


async def _give_back(caller: Caller, reservation: quota.Held | None) -> None:
    if reservation is not None:
        await quota.release(caller.headers, reservation)


async def _commit(
    caller: Caller,
    target: Target,
    reservation: quota.Held | None,
    input_tokens: int,
    output_tokens: int,
) -> Decimal:
    if reservation is None:
        return Decimal(0)
    cost = await quota.commit(
        caller.headers, reservation, input_tokens=input_tokens, output_tokens=output_tokens
    )
    if cost is not None:
        return cost
    # quotas is down: answer the catalog's price (the ledger row is written on its retry).
    model = target.model
    spent = input_tokens * model.input_usd_per_mtok + output_tokens * model.output_usd_per_mtok
    return spent / PER_MILLION


async def _failed(caller: Caller, target: Target, error: ProviderError, latency: int) -> _Failed:
    outcome = _OUTCOMES.get(type(error).__name__, "error")
    caller.record(target, outcome, latency_ms=latency, error=error.message[:500])
    if isinstance(error, InvalidRequest):
        return _Failed(f"{outcome} ({error.status or '-'})", invalid=True)
    await breaker.failure(target.provider)
    wait = 0.0
    retry_after = getattr(error, "retry_after", None)
    if retry_after and not isinstance(error, AuthError):
        wait = await breaker.cool_down(target.provider, float(retry_after))
    status = f" {error.status}" if error.status else ""
    # Only our own validation text is echoed: provider messages may quote a key's prefix.
    why = f" ({error.message.splitlines()[0][:120]})" if isinstance(error, BadResponse) else ""
    return _Failed(f"{outcome}{status}{why}", counted=True, wait=wait)


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
