"""orchestrator implements the orchestrator function: /review, /models and the chat gateway.

Callers: any authenticated principal that may read the project (shared/access.py: a
non-member gets 404, so no one spends another project's quota); a service token acting
for a user names it in ``X-Acting-User``. The caller's credentials are forwarded to
versions (configuration) and quotas (reserve/commit/release); the catalog and key
references are read with the platform service account. Every provider attempt and cache
hit is one row of ``calls``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response

from functions.ai_orchestrator import breaker, catalog, chat, configs, repository, review
from functions.ai_orchestrator.context import database
from functions.ai_orchestrator.routing import Caller
from functions.ai_orchestrator.schemas import ModelRow, ModelTable, ReviewAnswer, ReviewRequest
from functions.ai_orchestrator.settings import settings
from shared import access, clients
from shared.auth import principal
from shared.errors import ProblemError, Unavailable
from shared.function import Router

logger = logging.getLogger(__name__)
router = Router()


def _review_body_limit() -> int:
    return settings().max_request_bytes


@router.post("/review", body=ReviewRequest, response=ReviewAnswer, max_body=_review_body_limit)
async def post_review(request: Request, body: ReviewRequest) -> ReviewAnswer:
    """Review code chunks with the configured reviewer: findings at exact lines and usage."""
    who = principal(request)
    user_id = str(who.user())
    await access.project_role(request, body.project_id, settings=settings())
    review.check_limits(body.chunks, privileged=who.is_privileged)
    headers = clients.forwarded(request)
    ref = body.config
    config = await configs.resolve(
        headers,
        version_id=ref.version_id if ref else None,
        alias=ref.alias if ref else None,
    )
    work = review.pieces(body.chunks, budget=config.review.token_budget)
    caller = Caller(headers, user_id, body.project_id, config.version_id, body.source)
    try:
        reviewed = await review.run(caller, config, work, static=body.source == "static")
    except* ProblemError as group:
        raise _first_problem(group) from None
    finally:
        await _flush(caller)
    return review.answer(body.chunks, reviewed, config=config, static=body.source == "static")


@router.get("/models", response=ModelTable)
async def list_models(request: Request) -> ModelTable:
    """The routing table: every provider's models by priority, with circuit and cooldown."""
    entries = await catalog.with_builtin()
    names = [entry.name for entry in entries]
    states = await breaker.states(names)
    cooling = await breaker.cooling_until(names)
    rows: list[ModelRow] = []
    for entry in entries:
        until = cooling.get(entry.name)
        for model in entry.models:
            rows.append(
                ModelRow(
                    provider=entry.name,
                    model=model.name,
                    kind=entry.kind,
                    priority=entry.priority,
                    order=len(rows) + 1,
                    enabled=entry.enabled,
                    state=states.get(entry.name, "closed"),
                    cooling_until=None
                    if until is None
                    else datetime.fromtimestamp(until, UTC).isoformat(),
                )
            )
    return ModelTable(items=rows)


@router.post(
    "/v1/chat/completions",
    max_body=_review_body_limit,
    error_format="openai",
    request_schema={"application/json": chat.REQUEST_SCHEMA},
)
async def chat_completions(request: Request) -> Response:
    """OpenAI Chat Completions through the platform's auth, routing, quotas and usage.

    Every refusal, the function's own (401, 413) included, is written as OpenAI's error
    object (``error_format``), so OpenAI SDKs read it. An answer's call log is written
    after the answer is sent (the log is best effort; the usage ledger is not this)."""
    caller: Caller | None = None
    try:
        body = chat.parse(await request.body())
        user_id = str(principal(request).user())
        project_id = chat.project_of(request)
        if project_id != chat.NO_PROJECT:
            await access.project_role(request, project_id, settings=settings())
        caller = Caller(clients.forwarded(request), user_id, project_id, None, "chat")
        answer = await chat.complete(caller, body, body["model"])
    except BaseException:
        if caller is not None:
            await _flush(caller)
        raise
    answer.background = BackgroundTask(_flush, caller)
    return answer


def _first_problem(group: BaseExceptionGroup[ProblemError]) -> ProblemError:
    """The error to answer with when concurrent pieces failed: the first of the group.

    A TaskGroup lists errors in the order its tasks failed, so the first is the one that
    cancelled the rest (the cause); the others failed while being cancelled or in the same
    step, and are logged rather than lost."""
    first, *others = _leaves(group)
    for other in others:
        logger.warning(
            "Review error not answered (answered %s %s): %s %s",
            first.status,
            first.type_slug,
            other.status,
            other.detail,
            exc_info=other,
        )
    return first


def _leaves(group: BaseExceptionGroup[ProblemError]) -> list[ProblemError]:
    leaves: list[ProblemError] = []
    for error in group.exceptions:
        leaves.extend(_leaves(error) if isinstance(error, BaseExceptionGroup) else [error])
    return leaves


async def _flush(caller: Caller) -> None:
    """Write the call log (best effort: a database outage must not fail a paid answer)."""
    if not caller.log:
        return
    try:
        async with database.connection() as conn:
            await repository.insert_calls(conn, caller.log)
    except Unavailable:
        logger.warning("Database is down: %d call log rows lost", len(caller.log))
    caller.log.clear()
