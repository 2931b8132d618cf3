"""review turns a POST /review body into findings: split, cache, route, aggregate.

Chunks larger than the configuration's token budget are split (``chunking``) at exact
line numbers; each piece is looked up in the response cache under every candidate's
key first, then routed (``routing``). Findings keep the caller's ``chunk_id``.
``source: "static"`` reviews with the built-in local analyzers whatever the routing says.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from functions.ai_orchestrator import cache, catalog, chunking, prompts, routing
from functions.ai_orchestrator.chunking import Chunk
from functions.ai_orchestrator.configs import Resolved
from functions.ai_orchestrator.providers import Provider, ReviewResult
from functions.ai_orchestrator.routing import Caller, Target
from functions.ai_orchestrator.schemas import ChunkIn, ChunkUsage, FindingOut, ReviewAnswer, Usage
from functions.ai_orchestrator.settings import settings
from shared.errors import PayloadTooLarge, ValidationFailed

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")
MIXED = "mixed"


@dataclass(frozen=True)
class Piece:
    chunk_id: str
    chunk: Chunk


@dataclass(frozen=True)
class Reviewed:
    piece: Piece
    result: ReviewResult
    provider: str  # the catalog's provider name and the configured model, as quotas knows them
    model: str
    cost_usd: Decimal
    cached: bool


def pieces(chunks: Sequence[ChunkIn], *, budget: int) -> list[Piece]:
    """Every chunk split to the token budget, line numbers kept exact.

    Raises:
        ValidationFailed: a chunk is over ``MAX_CHUNK_BYTES`` or its diff has no hunk.
    """
    out: list[Piece] = []
    for index, given in enumerate(chunks):
        language = given.language or chunking.language_for(given.path)
        out += [
            Piece(given.id, chunk)
            for chunk in _split(index, given, language=language, budget=budget)
        ]
    return out


def check_limits(chunks: Sequence[ChunkIn], *, privileged: bool = True) -> None:
    """Refuse too many chunks, oversized ones and repeated ids (422 naming each).

    A member calling ``/review`` directly (not the worker's internal token) may send at most
    ``MEMBER_MAX_REVIEW_BYTES`` in all: the built-in reviewer's CPU is bounded per request
    (413 above), where the worker's own chunks are already bounded by the analysis.

    Raises:
        ValidationFailed: see above.
        PayloadTooLarge: a member's chunks are over ``MEMBER_MAX_REVIEW_BYTES`` in all.
    """
    config = settings()
    total = sum(len((c.content or c.diff or "").encode()) for c in chunks)
    if not privileged and total > config.member_max_review_bytes:
        raise PayloadTooLarge(
            f"The chunks hold {total} bytes; a member's review is at most"
            f" {config.member_max_review_bytes}."
        )
    errors: list[dict[str, object]] = []
    if len(chunks) > config.max_chunks_per_request:
        errors.append(
            {
                "loc": ["body", "chunks"],
                "msg": f"{len(chunks)} chunks; at most {config.max_chunks_per_request} per request",
            }
        )
    seen: set[str] = set()
    for index, chunk in enumerate(chunks):
        field = "content" if chunk.content is not None else "diff"
        size = len((chunk.content or chunk.diff or "").encode())
        if chunk.file_content is not None and len(chunk.file_content.encode()) > size:
            field, size = "file_content", len(chunk.file_content.encode())
        if size > config.max_chunk_bytes:
            errors.append(
                {
                    "loc": ["body", "chunks", index, field],
                    "msg": f"{size} bytes; at most {config.max_chunk_bytes} per chunk",
                }
            )
        if chunk.id in seen:
            errors.append({"loc": ["body", "chunks", index, "id"], "msg": f"'{chunk.id}' repeats"})
        seen.add(chunk.id)
    if errors:
        raise ValidationFailed(errors)


def _split(index: int, given: ChunkIn, *, language: str, budget: int) -> list[Chunk]:
    if given.diff is not None:
        hunks = diff_hunks(given.diff)
        if not hunks:
            raise ValidationFailed(
                [{"loc": ["body", "chunks", index, "diff"], "msg": "has no @@ hunk header"}]
            )
        return chunking.from_hunks(given.path, hunks, budget=budget, language=language)
    text = given.content or ""
    if given.file_content is not None:
        lines = text.splitlines()
        hunk = chunking.from_hunks(
            given.path, [(given.start_line, lines)], budget=budget, language=language
        )
        return chunking.within(hunk, given.file_content)
    if given.start_line == 1:
        # Content from line 1 is taken as the whole file (whole-file analyzer rules apply).
        return chunking.split(given.path, text, budget=budget, language=language)
    lines = text.splitlines()
    return chunking.from_hunks(
        given.path, [(given.start_line, lines)], budget=budget, language=language
    )


def diff_hunks(diff: str) -> list[tuple[int, list[str]]]:
    """The new-file side of a unified diff: ``(first line number, lines)`` per hunk.

    Context and added lines keep their new-file numbers; removed lines and
    ``\\ No newline`` markers are left out, file headers before a hunk are ignored.
    """
    hunks: list[tuple[int, list[str]]] = []
    for line in diff.splitlines():
        header = _HUNK.match(line)
        if header is not None:
            hunks.append((max(1, int(header.group(1))), []))
        elif hunks and line[:1] in (" ", "+"):
            hunks[-1][1].append(line[1:])
        elif hunks and line == "":
            hunks[-1][1].append("")
    return [(start, lines) for start, lines in hunks if lines]


async def run(
    caller: Caller, config: Resolved, work: list[Piece], *, static: bool
) -> list[Reviewed]:
    """Review every piece, ``REVIEW_CONCURRENCY`` at a time (the first error cancels the rest)."""
    candidates: list[Target]
    missing: list[str] = []
    if static:
        candidates = [Target(catalog.BUILTIN_ENTRY, catalog.BUILTIN_ENTRY.models[0])]
    else:
        candidates, missing = await routing.targets(config.routing.candidates)
    gate = asyncio.Semaphore(settings().review_concurrency)

    async def one(piece: Piece) -> Reviewed:
        async with gate:
            return await _review_piece(caller, config, piece, candidates, missing)

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(one(piece)) for piece in work]
    return [task.result() for task in tasks]


async def _review_piece(
    caller: Caller, config: Resolved, piece: Piece, candidates: list[Target], missing: list[str]
) -> Reviewed:
    keys = [cache.key(config.version_id, t.provider, t.model.name, piece.chunk) for t in candidates]
    for target, hit in zip(candidates, await cache.lookup(keys), strict=True):
        if hit is not None:
            caller.record(target, "cached", cached=True)
            return Reviewed(piece, hit, target.provider, target.model.name, Decimal(0), cached=True)
    review = config.review

    def estimate(_: Target) -> int:
        return prompts.estimate_input_tokens(review, piece.chunk) + review.max_output_tokens

    async def call(provider: Provider, target: Target) -> ReviewResult:
        return await provider.review(piece.chunk, review, model=target.model.name)

    answer = await routing.route(
        caller,
        candidates,
        estimate=estimate,
        call=call,
        usage=lambda result: (result.input_tokens, result.output_tokens),
        seconds=config.routing.timeout_seconds,
        skipped=missing,
    )
    target = answer.target
    await cache.store(
        keys[candidates.index(target)],
        answer.value,
        config_version_id=config.version_id,
        provider=target.provider,
        model=target.model.name,
    )
    return Reviewed(
        piece, answer.value, target.provider, target.model.name, answer.cost_usd, cached=False
    )


def answer(
    chunks: Sequence[ChunkIn], reviewed: list[Reviewed], *, config: Resolved, static: bool
) -> ReviewAnswer:
    """The response: findings in chunk order, usage summed, one usage row per chunk."""
    by_chunk: dict[str, list[Reviewed]] = {chunk.id: [] for chunk in chunks}
    for item in reviewed:
        by_chunk[item.piece.chunk_id].append(item)
    findings = [
        FindingOut(chunk_id=item.piece.chunk_id, **finding.model_dump())
        for item in reviewed
        for finding in item.result.findings
    ]
    rows = [_chunk_usage(chunk_id, items) for chunk_id, items in by_chunk.items()]
    return ReviewAnswer(
        findings=findings,
        usage=_total(reviewed),
        config_version_id=config.version_id,
        source="static" if static else "ai",
        chunks=rows,
    )


def _chunk_usage(chunk_id: str, items: list[Reviewed]) -> ChunkUsage:
    total = _total(items)
    analyzers = sorted({name for item in items for name in item.result.analyzers})
    skipped = [skip for item in items for skip in item.result.skipped_analyzers]
    return ChunkUsage(
        chunk_id=chunk_id,
        analyzers=analyzers,
        skipped_analyzers=skipped,
        **total.model_dump(),
    )


def _total(items: list[Reviewed]) -> Usage:
    providers = {item.provider for item in items}
    models = {item.model for item in items}
    return Usage(
        provider=_one(providers),
        model=_one(models),
        input_tokens=sum(0 if i.cached else i.result.input_tokens for i in items),
        output_tokens=sum(0 if i.cached else i.result.output_tokens for i in items),
        cost_usd=sum((i.cost_usd for i in items), Decimal(0)),
        cached=bool(items) and all(item.cached for item in items),
    )


def _one(values: set[str]) -> str | None:
    if not values:
        return None
    return values.pop() if len(values) == 1 else MIXED
