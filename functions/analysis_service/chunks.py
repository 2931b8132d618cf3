"""chunks plans an analysis' review chunks: whole files of a snapshot, or the changed
regions (with context) of a diff, cut to the configuration's token budget.

Chunk ids are stable (``<path>#<start>-<end>``): the same input always plans the same
chunks, which is what lets a resumed job skip the ones already reviewed. The orchestrator
splits a chunk over its own budget and reports under the original id, so the cut here is
coarse: whole lines, greedily, using the orchestrator's cheap token estimate.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from functions.analysis_service import diff, remote
from functions.analysis_service.coverage import Coverage, Reason
from shared import languages
from shared.token_count import estimate_tokens

_FETCHES = 8
MAX_ID = 200
# Languages of diff paths by extension (snapshots carry project-files' own detection).


@dataclass(frozen=True, slots=True)
class ReviewChunk:
    """Consecutive lines ``start_line..end_line`` of one file, sent to /review as one chunk."""

    path: str
    language: str
    start_line: int
    lines: tuple[str, ...]

    @property
    def end_line(self) -> int:
        return self.start_line + len(self.lines) - 1

    @property
    def id(self) -> str:
        """``<path>#<start>-<end>``; a path too long for the orchestrator's 200-character
        ids is replaced by its SHA-256 (still stable)."""
        lines = f"#{self.start_line}-{self.end_line}"
        if len(self.path) + len(lines) <= MAX_ID:
            return self.path + lines
        return "sha256:" + hashlib.sha256(self.path.encode()).hexdigest() + lines

    @property
    def content(self) -> str:
        return "\n".join(self.lines)


@dataclass(slots=True)
class Plan:
    """What to review, the file-level coverage so far, and the code lines findings point at."""

    chunks: list[ReviewChunk] = field(default_factory=list)
    coverage: Coverage = field(default_factory=Coverage)
    texts: dict[str, dict[int, str]] = field(default_factory=dict)
    changed: dict[str, set[int]] | None = None

    def line_text(self, path: str, line: int) -> str | None:
        return self.texts.get(path, {}).get(line)

    def file_text(self, chunk: ReviewChunk) -> str | None:
        """The whole text of a snapshot file the chunk is only part of (None for a diff,
        whose files are known only around their changes, and for a whole-file chunk)."""
        lines = self.texts.get(chunk.path, {})
        if self.changed is not None or (chunk.start_line == 1 and chunk.end_line == len(lines)):
            return None
        return "\n".join(lines[number] for number in range(1, len(lines) + 1)) + "\n"


def split(
    path: str, language: str, start_line: int, lines: Sequence[str], *, budget: int
) -> list[ReviewChunk]:
    """Greedy whole-line chunks of at most ``budget`` estimated tokens (a longer line alone)."""
    chunks: list[ReviewChunk] = []
    begin = 0
    while begin < len(lines):
        used, end = 0, begin
        while end < len(lines):
            cost = estimate_tokens(f"{start_line + end}| {lines[end]}") + 1
            if end > begin and used + cost > budget:
                break
            used, end = used + cost, end + 1
        chunks.append(ReviewChunk(path, language, start_line + begin, tuple(lines[begin:end])))
        begin = end
    return chunks


def plan_diff(text: str, *, budget: int, context: int, max_files: int) -> Plan:
    """Chunks of a diff's changed regions; ``changed`` holds each file's added lines.

    Raises:
        diff.DiffError: the diff is malformed or unsafe.
    """
    plan = Plan(changed={})
    for file_diff in diff.parse_diff(text, max_files=max_files):
        _plan_file_diff(plan, file_diff, budget=budget, context=context)
    return plan


def _plan_file_diff(plan: Plan, file_diff: diff.FileDiff, *, budget: int, context: int) -> None:
    path = file_diff.path
    if file_diff.status in ("deleted", "binary"):
        plan.coverage.skip_file(path, Reason(file_diff.status, f"The file is {file_diff.status}."))
        return
    regions = diff.review_regions(file_diff, context=context)
    if not regions:
        return
    language = languages.detect(path)
    if language is None:
        plan.coverage.skip_file(path, Reason("unsupported_language", "No known language."))
        return
    assert plan.changed is not None
    plan.changed[path] = diff.changed_lines(file_diff)
    texts = plan.texts.setdefault(path, {})
    plan.coverage.add_file(path)
    for region in regions:
        texts.update(region.lines)
        lines = [text for _, text in region.lines]
        plan.chunks += split(path, language, region.start, lines, budget=budget)


async def plan_snapshot(
    project_id: uuid.UUID,
    snapshot_id: uuid.UUID,
    *,
    headers: dict[str, str],
    budget: int,
    file_max_bytes: int,
    max_files: int,
) -> Plan:
    """Chunks of every reviewable file of a snapshot, read through project-files."""
    manifest = await remote.snapshot(project_id, snapshot_id, headers=headers)
    plan = Plan()
    wanted = []
    for index, entry in enumerate(sorted(manifest.files, key=lambda f: f.path)):
        reason = _skip_reason(entry, index=index, file_max_bytes=file_max_bytes, limit=max_files)
        if reason is not None:
            plan.coverage.skip_file(entry.path, reason)
        else:
            wanted.append(entry)
    gate = asyncio.Semaphore(_FETCHES)

    async def fetch(entry: remote.SnapshotFile) -> bytes:
        async with gate:
            return await remote.blob(project_id, entry.sha256, headers=headers)

    contents = await asyncio.gather(*(fetch(entry) for entry in wanted))
    for entry, content in zip(wanted, contents, strict=True):
        _plan_file(plan, entry.path, str(entry.language), content, budget=budget)
    return plan


def _skip_reason(
    entry: remote.SnapshotFile, *, index: int, file_max_bytes: int, limit: int
) -> Reason | None:
    size = entry.size
    if index >= limit:
        return Reason("excluded", f"Only the first {limit} files are reviewed.")
    if size > file_max_bytes:
        return Reason("too_large", f"{size} bytes is over the limit of {file_max_bytes}.")
    if not entry.language:
        return Reason("unsupported_language", "project-files knows no language for it.")
    return None


def _plan_file(plan: Plan, path: str, language: str, content: bytes, *, budget: int) -> None:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        plan.coverage.skip_file(path, Reason("binary", "The content is not UTF-8 text."))
        return
    if "\x00" in text:
        plan.coverage.skip_file(path, Reason("binary", "The content holds NUL bytes."))
        return
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    plan.coverage.add_file(path)
    plan.texts[path] = {number: line.rstrip("\r") for number, line in enumerate(lines, 1)}
    plan.chunks += split(path, language, 1, [line.rstrip("\r") for line in lines], budget=budget)
