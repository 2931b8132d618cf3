"""chunking splits source files into token-budgeted chunks that keep exact line numbers.

Tokens are estimated with ``shared.token_count`` (no tokenizer download), the estimate
analysis-service cuts its chunks with.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from functions.ai_orchestrator.findings import Finding
from shared import languages
from shared.token_count import estimate_tokens

_DEFINITION = re.compile(
    r"(?:(?:async\s+def|def|class|func|function|fn|pub\s+fn|public|private|protected|"
    r"export|interface|type|impl|struct|module|package)\b|@)"
)
# A cut right before a line scores this much; the best-scoring cut in the back half of
# the window wins, so chunks end at definitions or paragraphs rather than mid-statement.
_TOP_LEVEL_DEFINITION, _TOP_LEVEL_AFTER_BLANK, _AFTER_BLANK = 3, 2, 1


class Chunk(BaseModel):
    """Consecutive lines ``start_line..end_line`` (1-based, inclusive) of one file."""

    model_config = ConfigDict(frozen=True)

    id: str
    path: str
    language: str
    start_line: int = Field(ge=1)
    end_line: int = Field(ge=0)
    lines: tuple[str, ...]
    # Lines in the whole file; None when only part of it is known (diff hunks).
    total_lines: int | None = None
    # The whole file's text when the chunk is part of a known file (taint analysis).
    file_text: str | None = None

    @property
    def content(self) -> str:
        return "\n".join(self.lines)

    @property
    def is_whole_file(self) -> bool:
        return self.start_line == 1 and self.total_lines == self.end_line

    def numbered(self) -> str:
        """The lines as sent to a model, each prefixed with its number: ``  12| code``."""
        width = len(str(self.end_line))
        return "\n".join(
            f"{number:>{width}}| {line}" for number, line in enumerate(self.lines, self.start_line)
        )


def language_for(path: str) -> str:
    """The language of ``path`` (``shared.languages``), ``text`` when unknown."""
    return languages.detect(path) or "text"


def split(path: str, text: str, *, budget: int, language: str | None = None) -> list[Chunk]:
    """Split a whole file into chunks of at most ``budget`` estimated tokens each.

    Every line lands in exactly one chunk with its own number; a single line larger
    than the budget becomes a chunk of its own (lines are never cut).
    """
    lines = text.splitlines()
    chunks = _split_run(
        path,
        start_line=1,
        lines=lines,
        budget=budget,
        language=language or language_for(path),
        total_lines=len(lines),
    )
    if len(chunks) == 1:
        return chunks
    return [chunk.model_copy(update={"file_text": text}) for chunk in chunks]


def within(chunks: list[Chunk], file_text: str) -> list[Chunk]:
    """``chunks`` of a part of a file, told the whole file's text and length."""
    total = len(file_text.splitlines())
    return [
        chunk.model_copy(update={"file_text": file_text, "total_lines": total}) for chunk in chunks
    ]


def from_hunks(
    path: str,
    hunks: Sequence[tuple[int, Sequence[str]]],
    *,
    budget: int,
    language: str | None = None,
) -> list[Chunk]:
    """Chunks of the changed regions of a file: ``(start_line, lines)`` per hunk.

    Each hunk is split on its own, so a chunk never spans lines outside a hunk.
    """
    chunks: list[Chunk] = []
    for start_line, lines in sorted(hunks, key=lambda hunk: hunk[0]):
        chunks += _split_run(
            path,
            start_line=start_line,
            lines=list(lines),
            budget=budget,
            language=language or language_for(path),
            total_lines=None,
        )
    return chunks


def clip(findings: list[Finding], chunk: Chunk) -> list[Finding]:
    """Keep the findings that start inside ``chunk``; pin them to its path and last line.

    A model can only vouch for lines it was shown: anything starting outside the chunk
    is dropped, and an ``end_line`` past the chunk is cut back to its last line.
    """
    kept = []
    for finding in findings:
        if chunk.start_line <= finding.line <= chunk.end_line:
            end_line = min(finding.end_line, chunk.end_line)
            kept.append(finding.model_copy(update={"path": chunk.path, "end_line": end_line}))
    return kept


def _split_run(
    path: str,
    *,
    start_line: int,
    lines: list[str],
    budget: int,
    language: str,
    total_lines: int | None,
) -> list[Chunk]:
    if budget < 1:
        raise ValueError(f"Token budget {budget} must be at least 1.")
    # What the model is sent is numbered lines; +1 per line covers the line break.
    costs = [
        estimate_tokens(f"{number}| {line}") + 1 for number, line in enumerate(lines, start_line)
    ]
    chunks: list[Chunk] = []
    begin = 0
    while begin < len(lines):
        end = _cut(lines, costs, begin=begin, budget=budget)
        first = start_line + begin
        last = start_line + end - 1
        chunks.append(
            Chunk(
                id=f"{path}:{first}-{last}",
                path=path,
                language=language,
                start_line=first,
                end_line=last,
                lines=tuple(lines[begin:end]),
                total_lines=total_lines,
            )
        )
        begin = end
    return chunks


def _cut(lines: list[str], costs: list[int], *, begin: int, budget: int) -> int:
    """The index one past the last line of the chunk starting at ``begin``."""
    used, end = 0, begin
    while end < len(lines) and used + costs[end] <= budget:
        used += costs[end]
        end += 1
    if end == len(lines):
        return end
    if end == begin:
        return begin + 1
    best, best_score = end, 0
    for index in range(begin + max(1, (end - begin) // 2), end + 1):
        score = _cut_score(lines, index)
        if score >= best_score and score > 0:
            best, best_score = index, score
    return best


def _cut_score(lines: list[str], index: int) -> int:
    line = lines[index] if index < len(lines) else ""
    after_blank = index > 0 and not lines[index - 1].strip()
    top_level = bool(line.strip()) and not line[0].isspace()
    if top_level and _DEFINITION.match(line):
        return _TOP_LEVEL_DEFINITION
    if top_level and after_blank:
        return _TOP_LEVEL_AFTER_BLANK
    return _AFTER_BLANK if after_blank else 0
