"""quota reserves, commits and releases usage at the quotas function for the caller.

The caller's own ``Authorization`` (and ``X-Acting-User``) is forwarded, so quotas applies
the rules of the user and project the call is made for. A reserve refused with 429
reaches the caller as such (with ``limit`` and ``Retry-After``); no provider is called.
"""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal
from typing import Any

import httpx

from functions.ai_orchestrator.settings import settings
from shared import clients
from shared.errors import Forbidden, QuotaExceeded, Unauthorized, Unavailable

logger = logging.getLogger(__name__)


class ModelNotPriced(Exception):
    """quotas does not know the model (the catalog changed since it was read)."""


async def reserve(
    headers: dict[str, str],
    *,
    user_id: str,
    project_id: uuid.UUID,
    provider: str,
    model: str,
    estimated_tokens: int,
) -> str:
    """A reservation id holding ``estimated_tokens`` for one call.

    Raises:
        QuotaExceeded: a limit would be exceeded (429 with the limit and Retry-After).
        ModelNotPriced: quotas has no price for the model.
        Unavailable: quotas is down or answered unexpectedly.
    """
    body = {
        "user_id": user_id,
        "project_id": str(project_id),
        "provider": provider,
        "model": model,
        "estimated_tokens": estimated_tokens,
    }
    response = await _post("/quotas/reserve", body, headers)
    if response.status_code == 201:
        return str(response.json()["reservation_id"])
    if response.status_code == 429:
        raise _exceeded(response)
    if response.status_code == 404:
        raise ModelNotPriced(f"quotas has no price for {provider}/{model}")
    raise _unexpected(response, "reserve")


async def commit(
    headers: dict[str, str], reservation_id: str, *, input_tokens: int, output_tokens: int
) -> Decimal | None:
    """The call's cost as quotas recorded it in the ledger; None if quotas failed (logged)."""
    body = {
        "reservation_id": reservation_id,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
    }
    try:
        response = await _post("/quotas/commit", body, headers)
    except Unavailable:
        response = None
    if response is None or response.status_code != 200:
        status = "unreachable" if response is None else response.status_code
        logger.error("Quota commit failed (%s); the reservation will expire on its own", status)
        return None
    return Decimal(str(response.json()["cost_usd"]))


async def release(headers: dict[str, str], reservation_id: str) -> None:
    """Give a reservation back (best effort: an unreleased one expires on its own)."""
    try:
        response = await _post("/quotas/release", {"reservation_id": reservation_id}, headers)
    except Unavailable:
        logger.warning("Quota release failed: quotas unreachable")
        return
    if response.status_code != 200:
        logger.warning("Quota release answered %s", response.status_code)


async def _post(path: str, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
    url = settings().quotas_url.rstrip("/") + path
    try:
        # commit and release are idempotent by reservation id; reserve is not retried.
        return await clients.request(
            "POST",
            url,
            json=body,
            headers=headers,
            timeout=5.0,
            retries=0 if path.endswith("reserve") else 2,
            retry_unsafe=True,
        )
    except clients.transport_errors() as e:
        raise Unavailable("quotas", detail="The quotas function could not be reached.") from e


def _exceeded(response: httpx.Response) -> QuotaExceeded:
    problem = _json(response)
    limit = problem.get("limit")
    try:
        retry_after = int(response.headers.get("retry-after", "1"))
    except ValueError:
        retry_after = 1
    return QuotaExceeded(
        str(problem.get("detail") or f"Quota '{limit}' is exhausted."),
        retry_after=retry_after,
        extra={"limit": limit},
    )


def _unexpected(response: httpx.Response, action: str) -> Exception:
    if response.status_code == 401:
        return Unauthorized("The access token was refused.")
    if response.status_code == 403:
        return Forbidden(str(_json(response).get("detail") or "The caller may not use quota here."))
    return Unavailable(
        "quotas", detail=f"The quotas function answered {response.status_code} to {action}."
    )


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
