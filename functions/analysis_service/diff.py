"""diff parses unified diffs (git or ``diff -u``) into files, hunks and new-file line numbers.

The input is untrusted: NUL bytes, paths that are absolute or climb out with ``..``,
hunks whose line counts disagree with their bodies, overlapping hunks and hunk headers
declaring more than ``max_hunk_lines`` lines raise :class:`DiffError` (the HTTP layer
answers 422). Line texts carry no terminator; a CR before the LF is dropped, so CRLF
diffs parse like LF ones. Text outside any file (a commit message, a diffstat, a mail
signature) is ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from functions.analysis_service import _diff_paths as paths
from functions.analysis_service._diff_paths import DiffError as DiffError

Kind = Literal[" ", "+", "-"]
Status = Literal["added", "modified", "deleted", "renamed", "binary"]

MAX_FILES = 5_000
MAX_HUNK_LINES = 50_000

# Nine digits keep int() cheap and far above any real hunk; longer numbers are malformed.
_HUNK = re.compile(r"@@ -(\d{1,9})(?:,(\d{1,9}))? \+(\d{1,9})(?:,(\d{1,9}))? @@(.*)")
_KINDS: dict[str, Kind] = {" ": " ", "+": "+", "-": "-"}


def _binary_names(line: str) -> tuple[str, str] | None:
    """The two names of ``Binary files <old> and <new> differ``, split at the last " and "
    that leaves both non-empty, as the regex ``Binary files (.+) and (.+) differ`` would.

    String operations, not that regex: it backtracked cubically over a line of repeated
    " and " (12 s for 50 KB of a diff).
    """
    head, tail = "Binary files ", " differ"
    if not (line.startswith(head) and line.endswith(tail)) or "\n" in line:
        return None
    names = line[len(head) : len(line) - len(tail)]
    cut = names.rfind(" and ")
    if cut >= 0 and cut + 5 == len(names):  # nothing after the last: the one before
        cut = names.rfind(" and ", 0, cut + 4)
    if cut <= 0:
        return None
    return names[:cut], names[cut + 5 :]


class DiffLine(NamedTuple):
    """One hunk body line; a number is None on the side the line does not exist in."""

    kind: Kind
    text: str
    old_lineno: int | None
    new_lineno: int | None


@dataclass(frozen=True, slots=True)
class Hunk:
    """One ``@@ -a,b +c,d @@`` block; ``section`` is the text after the closing ``@@``."""

    old_start: int
    old_count: int
    new_start: int
    new_count: int
    lines: tuple[DiffLine, ...]
    section: str = ""
    old_missing_newline: bool = False
    new_missing_newline: bool = False


@dataclass(frozen=True, slots=True)
class FileDiff:
    """One file of a diff: ``old_path`` is None when added, ``new_path`` None when deleted.

    A copy is ``added`` with ``old_path`` naming its source; a binary file is ``binary``
    whatever else happened to it, and has no hunks.
    """

    old_path: str | None
    new_path: str | None
    status: Status
    hunks: tuple[Hunk, ...] = ()

    @property
    def path(self) -> str:
        """The path findings refer to: the new path, or the old one of a deleted file."""
        return self.new_path or self.old_path or ""


class Region(NamedTuple):
    """Consecutive new-file lines to review: ``lines`` are ``(new_lineno, text)`` pairs."""

    start: int
    lines: tuple[tuple[int, str], ...]

    @property
    def end(self) -> int:
        return self.lines[-1][0]


def parse_diff(
    text: str, *, max_files: int = MAX_FILES, max_hunk_lines: int = MAX_HUNK_LINES
) -> list[FileDiff]:
    """Parse a unified diff into its files, in diff order.

    Raises:
        DiffError: the diff is malformed, truncated, over a limit or names an unsafe path.
    """
    if "\x00" in text:
        raise DiffError("contains a NUL byte", line=text.count("\n", 0, text.index("\x00")) + 1)
    return _Parser(_split_lines(text), max_files=max_files, max_hunk_lines=max_hunk_lines).run()


def changed_lines(file_diff: FileDiff) -> set[int]:
    """New-file numbers of the added lines: what a finding must touch to be "in the diff"."""
    return {
        line.new_lineno
        for hunk in file_diff.hunks
        for line in hunk.lines
        if line.kind == "+" and line.new_lineno is not None
    }


def review_regions(file_diff: FileDiff, context: int = 3) -> list[Region]:
    """The new-file lines to review: changed lines plus ``context`` lines around them.

    Context comes only from the diff itself (lines outside every hunk are unknown), a
    deletion counts as a change between its neighbours, and overlapping or touching
    windows merge into one region. A deleted file has no new lines, hence no regions.
    """
    if context < 0:
        raise ValueError(f"Review context must be >= 0, got {context}.")
    available = _new_side(file_diff)
    windows = sorted((low - context, high + context) for low, high in _change_spans(file_diff))
    return _regions(_covered(sorted(available), windows), available)


def _new_side(file_diff: FileDiff) -> dict[int, str]:
    return {
        line.new_lineno: line.text
        for hunk in file_diff.hunks
        for line in hunk.lines
        if line.new_lineno is not None
    }


def _change_spans(file_diff: FileDiff) -> list[tuple[int, int]]:
    """Inclusive new-line spans of changes; a deletion before line c is the empty span (c, c-1)."""
    spans: list[tuple[int, int]] = []
    for hunk in file_diff.hunks:
        # With a zero new count, new_start names the line *before* the change (as in git).
        next_new = hunk.new_start if hunk.new_count else hunk.new_start + 1
        for line in hunk.lines:
            if line.kind == "+" and line.new_lineno is not None:
                spans.append((line.new_lineno, line.new_lineno))
            elif line.kind == "-":
                spans.append((next_new, next_new - 1))
            if line.new_lineno is not None:
                next_new = line.new_lineno + 1
    return spans


def _covered(numbers: list[int], windows: list[tuple[int, int]]) -> list[int]:
    """The ascending ``numbers`` inside any of the ``windows`` (sorted by start)."""
    inside, i = [], 0
    for n in numbers:
        while i < len(windows) and windows[i][1] < n:
            i += 1  # ends before n, so before every later number too
        if i < len(windows) and windows[i][0] <= n:
            inside.append(n)
    return inside


def _regions(numbers: list[int], text_of: dict[int, str]) -> list[Region]:
    runs: list[list[int]] = []
    for n in numbers:
        if runs and runs[-1][-1] == n - 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return [Region(run[0], tuple((n, text_of[n]) for n in run)) for run in runs]


def _split_lines(text: str) -> list[str]:
    # Not str.splitlines(): it also splits on \v, \f and U+2028, which are content.
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


@dataclass(slots=True)
class _FileState:
    old_path: str | None
    new_path: str | None
    line: int
    status: Status = "modified"
    binary: bool = False
    has_headers: bool = False
    hunks: list[Hunk] = field(default_factory=list)

    def finish(self) -> FileDiff:
        if self.old_path is None and self.new_path is None:
            raise DiffError("file has neither an old nor a new path", line=self.line)
        status: Status = "binary" if self.binary else self.status
        return FileDiff(self.old_path, self.new_path, status, tuple(self.hunks))


@dataclass(slots=True)
class _HunkBody:
    old_next: int
    new_next: int
    old_left: int
    new_left: int
    header_line: int
    lines: list[DiffLine] = field(default_factory=list)
    old_missing_newline: bool = False
    new_missing_newline: bool = False

    def open(self) -> bool:
        return self.old_left > 0 or self.new_left > 0

    def take(self, text: str, line: int) -> None:
        if text.startswith("\\"):
            self.missing_newline(line)
            return
        kind = _KINDS.get(text[:1] or " ")  # an empty line: context whose space was stripped
        if kind is None:
            raise DiffError(self.shortfall(), line=line)
        if (kind != "+" and self.old_left == 0) or (kind != "-" and self.new_left == 0):
            raise DiffError(f"more {kind!r} lines than the hunk header counts", line=line)
        self._append(kind, text[1:])

    def _append(self, kind: Kind, text: str) -> None:
        old = None if kind == "+" else self.old_next
        new = None if kind == "-" else self.new_next
        self.lines.append(DiffLine(kind, text, old, new))
        self.old_left -= old is not None
        self.old_next += old is not None
        self.new_left -= new is not None
        self.new_next += new is not None

    def missing_newline(self, line: int) -> None:
        if not self.lines:
            raise DiffError("'\\ No newline' marker before any hunk line", line=line)
        kind = self.lines[-1].kind
        self.old_missing_newline |= kind != "+"
        self.new_missing_newline |= kind != "-"

    def shortfall(self) -> str:
        return (
            f"hunk at line {self.header_line} ends {self.old_left} old and "
            f"{self.new_left} new lines short of its header"
        )


class _Parser:
    def __init__(self, lines: list[str], *, max_files: int, max_hunk_lines: int) -> None:
        self.lines = lines
        self.pos = 0
        self.max_files = max_files
        self.max_hunk_lines = max_hunk_lines
        self.files: list[FileDiff] = []

    def run(self) -> list[FileDiff]:
        while self.pos < len(self.lines):
            line = self.lines[self.pos]
            if line.startswith("diff --git "):
                self._add(self._git_file())
            elif self._at_plain_header():
                self._add(self._plain_file())
            elif binary := _binary_names(line):
                self._add(self._plain_binary(binary))
            elif line.startswith("@@ "):
                raise DiffError("hunk without a file header", line=self.pos + 1)
            else:
                self.pos += 1  # commit message, diffstat, "Only in ...": not part of a file
        if not self.files and any(line.strip() for line in self.lines):
            raise DiffError("no 'diff --git' or '---'/'+++' file header found")
        return self.files

    def _add(self, file_diff: FileDiff) -> None:
        if len(self.files) >= self.max_files:
            raise DiffError(f"more than {self.max_files} files", line=self.pos)
        self.files.append(file_diff)

    def _at_plain_header(self) -> bool:
        nxt = self.pos + 1
        return (
            self.lines[self.pos].startswith("--- ")
            and nxt < len(self.lines)
            and self.lines[nxt].startswith("+++ ")
        )

    def _at_file_start(self) -> bool:
        line = self.lines[self.pos]
        return line.startswith("diff --git ") or self._at_plain_header()

    def _git_file(self) -> FileDiff:
        line = self.pos + 1
        old_raw, new_raw = paths.git_paths(self.lines[self.pos][len("diff --git ") :], line)
        state = _FileState(
            paths.side_path(old_raw, "a/", line), paths.side_path(new_raw, "b/", line), line
        )
        self.pos += 1
        self._extended_headers(state)
        self._hunks(state)
        return state.finish()

    def _plain_file(self) -> FileDiff:
        state = _FileState(None, None, self.pos + 1, has_headers=True)
        self._file_headers(state)
        self._hunks(state)
        return state.finish()

    def _plain_binary(self, names: tuple[str, str]) -> FileDiff:
        line = self.pos + 1
        self.pos += 1
        old, new = paths.side_path(names[0], "a/", line), paths.side_path(names[1], "b/", line)
        return _FileState(old, new, line, binary=True).finish()

    def _extended_headers(self, state: _FileState) -> None:
        while self.pos < len(self.lines):
            text = self.lines[self.pos]
            if text.startswith(("diff --git ", "@@")):
                return
            if text.startswith("--- "):
                self._file_headers(state)
                return
            if _binary_names(text) or text == "GIT binary patch":
                state.binary = True
                self._skip_to_next_git_file()
                return
            _apply_header(state, text, self.pos + 1)
            self.pos += 1

    def _file_headers(self, state: _FileState) -> None:
        line = self.pos + 1
        if not self._at_plain_header():
            raise DiffError("'---' header is not followed by a '+++' header", line=line)
        old = paths.side_path(paths.raw_path(self.lines[self.pos][4:], line), "a/", line)
        new = paths.side_path(
            paths.raw_path(self.lines[self.pos + 1][4:], line + 1), "b/", line + 1
        )
        state.old_path, state.new_path, state.has_headers = old, new, True
        if old is None:
            state.status = "added"
        elif new is None:
            state.status = "deleted"
        self.pos += 2

    def _skip_to_next_git_file(self) -> None:
        self.pos += 1
        while self.pos < len(self.lines) and not self.lines[self.pos].startswith("diff --git "):
            self.pos += 1

    def _hunks(self, state: _FileState) -> None:
        while self.pos < len(self.lines) and self.lines[self.pos].startswith("@@"):
            if not state.has_headers:
                raise DiffError("hunk before the '---'/'+++' file header", line=self.pos + 1)
            header_line = self.pos + 1
            hunk = self._hunk()
            _check_order(state.hunks, hunk, header_line)
            state.hunks.append(hunk)
        self._after_hunks()

    def _hunk(self) -> Hunk:
        header_line = self.pos + 1
        old_start, old_count, new_start, new_count, section = _hunk_header(
            self.lines[self.pos], header_line, self.max_hunk_lines
        )
        body = _HunkBody(old_start, new_start, old_count, new_count, header_line)
        self.pos += 1
        while body.open():
            if self.pos >= len(self.lines):
                raise DiffError(f"diff is truncated: {body.shortfall()}")
            body.take(self.lines[self.pos], self.pos + 1)
            self.pos += 1
        if self.pos < len(self.lines) and self.lines[self.pos].startswith("\\"):
            body.missing_newline(self.pos + 1)
            self.pos += 1
        return Hunk(
            old_start,
            old_count,
            new_start,
            new_count,
            tuple(body.lines),
            section,
            old_missing_newline=body.old_missing_newline,
            new_missing_newline=body.new_missing_newline,
        )

    def _after_hunks(self) -> None:
        if self.pos >= len(self.lines) or self._at_file_start():
            return
        text = self.lines[self.pos]
        if text == "-- ":  # git format-patch mail signature: nothing of the diff follows it
            self._skip_to_next_git_file()
        elif text.startswith(("+", "-", " ", "\\")):
            raise DiffError("more lines than the last hunk header counts", line=self.pos + 1)


def _apply_header(state: _FileState, text: str, line: int) -> None:
    """Apply one git extended header line (mode, rename, copy, index...)."""
    if text.startswith("new file mode "):
        state.status, state.old_path = "added", None
    elif text.startswith("deleted file mode "):
        state.status, state.new_path = "deleted", None
    elif text.startswith(("rename from ", "copy from ")):
        state.old_path = paths.safe_path(paths.raw_path(text.split(" ", 2)[2], line), line)
        state.status = "renamed" if text.startswith("rename") else "added"
    elif text.startswith(("rename to ", "copy to ")):
        state.new_path = paths.safe_path(paths.raw_path(text.split(" ", 2)[2], line), line)
    elif text.startswith(("+", "-", " ")):
        raise DiffError("content line before any hunk header", line=line)


def _hunk_header(text: str, line: int, limit: int) -> tuple[int, int, int, int, str]:
    match = _HUNK.fullmatch(text)
    if match is None:
        raise DiffError(f"malformed hunk header {text[:80]!r}", line=line)
    old_start, new_start = int(match[1]), int(match[3])
    old_count, new_count = int(match[2] or 1), int(match[4] or 1)
    if max(old_count, new_count) > limit:
        raise DiffError(
            f"hunk declares {max(old_count, new_count)} lines (limit {limit})", line=line
        )
    if (old_count and not old_start) or (new_count and not new_start):
        raise DiffError(f"hunk header {text[:80]!r} starts at line 0", line=line)
    if not old_count and not new_count:
        raise DiffError(f"hunk header {text[:80]!r} changes nothing", line=line)
    return old_start, old_count, new_start, new_count, match[5].strip()


def _check_order(previous: list[Hunk], hunk: Hunk, pos: int) -> None:
    if not previous:
        return
    last = previous[-1]
    if hunk.old_start < last.old_start + last.old_count or (
        hunk.new_start < last.new_start + last.new_count
    ):
        raise DiffError("hunk overlaps or precedes the previous hunk of the same file", line=pos)
