"""coverage records what an analysis reviewed, clipped or skipped, and why, machine-readably.

Reasons are stable codes (:data:`REASON_CODES`, or ``parse_error:<analyzer>``) plus a
human text. A file is ``skipped`` when skipped as a whole or when every one of its hunks
was skipped; ``partial`` when some hunk was clipped or skipped or some analyzer could not
handle it (the others still reviewed it); ``reviewed`` otherwise. Recording the same hunk
or analyzer skip twice keeps the last record, so a redelivered chunk does not double-count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

FileStatus = Literal["reviewed", "partial", "skipped"]
HunkStatus = Literal["reviewed", "clipped", "skipped"]

REASON_CODES = frozenset(
    {
        "binary",
        "too_large",
        "over_token_budget",
        "unsupported_language",
        "deleted",
        "excluded",
        "analyzer_failed",
    }
)
PARSE_ERROR = "parse_error:"
VERSION = 1


@dataclass(frozen=True, slots=True)
class Reason:
    """Why something was not (fully) reviewed: a stable ``code`` and a human ``text``."""

    code: str
    text: str = ""

    def __post_init__(self) -> None:
        analyzer = self.code.removeprefix(PARSE_ERROR)
        if self.code not in REASON_CODES and not (self.code.startswith(PARSE_ERROR) and analyzer):
            raise ValueError(f"Coverage reason code '{self.code}' is not a known code.")

    @classmethod
    def parse_error(cls, analyzer: str, text: str = "") -> Reason:
        return cls(PARSE_ERROR + analyzer, text)

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "text": self.text}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reason:
        return cls(str(data["code"]), str(data.get("text", "")))


@dataclass(frozen=True, slots=True)
class HunkRecord:
    """New-file lines ``start..end`` of ``path``; a clipped one was reviewed to ``reviewed_end``."""

    path: str
    start: int
    end: int
    status: HunkStatus
    reason: Reason | None = None
    reviewed_end: int | None = None

    def reviewed_lines(self) -> int:
        if self.status == "reviewed":
            return self.end - self.start + 1
        if self.status == "clipped" and self.reviewed_end is not None:
            return self.reviewed_end - self.start + 1
        return 0

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"path": self.path, "start": self.start, "end": self.end}
        data["status"] = self.status
        data["reason"] = self.reason.to_dict() if self.reason else None
        if self.status == "clipped":
            data["reviewed_end"] = self.reviewed_end
        return data


@dataclass(frozen=True, slots=True)
class AnalyzerSkip:
    """One analyzer could not handle one file; other analyzers may still have reviewed it."""

    analyzer: str
    path: str
    reason: Reason

    def to_dict(self) -> dict[str, Any]:
        return {"analyzer": self.analyzer, "path": self.path, "reason": self.reason.to_dict()}


class Coverage:
    """Accumulates the coverage of one analysis; :meth:`to_dict` is the stored JSON."""

    def __init__(self) -> None:
        self._files: dict[str, Reason | None] = {}
        self._hunks: dict[tuple[str, int, int], HunkRecord] = {}
        self._skips: dict[tuple[str, str], AnalyzerSkip] = {}
        self._analyzers: set[str] = set()

    def add_file(self, path: str) -> None:
        """Put ``path`` in scope; it counts as reviewed unless something below says otherwise."""
        self._files.setdefault(path, None)

    def skip_file(self, path: str, reason: Reason) -> None:
        self._files[path] = reason

    def hunk_reviewed(self, path: str, start: int, end: int) -> None:
        self._add_hunk(HunkRecord(path, start, end, "reviewed"))

    def hunk_clipped(
        self, path: str, start: int, end: int, *, reviewed_end: int, reason: Reason
    ) -> None:
        """Only ``start..reviewed_end`` fitted (the token budget, usually)."""
        if not start <= reviewed_end < end:
            raise ValueError(f"Clipped hunk {path}:{start}-{end} cannot end at {reviewed_end}.")
        self._add_hunk(HunkRecord(path, start, end, "clipped", reason, reviewed_end))

    def hunk_skipped(self, path: str, start: int, end: int, reason: Reason) -> None:
        self._add_hunk(HunkRecord(path, start, end, "skipped", reason))

    def analyzer_ran(self, analyzer: str) -> None:
        self._analyzers.add(analyzer)

    def analyzer_skipped(self, analyzer: str, path: str, reason: Reason) -> None:
        self.add_file(path)
        self._skips[(analyzer, path)] = AnalyzerSkip(analyzer, path, reason)

    def update(self, other: Coverage) -> None:
        """Fold in another accumulator (a resumed chunk's); file skips win over plain scope."""
        for path, reason in other._files.items():
            if reason is None:
                self.add_file(path)
            else:
                self.skip_file(path, reason)
        self._hunks.update(other._hunks)
        self._skips.update(other._skips)
        self._analyzers.update(other._analyzers)

    def _add_hunk(self, record: HunkRecord) -> None:
        if not 1 <= record.start <= record.end:
            raise ValueError(f"Hunk {record.path}:{record.start}-{record.end} is not a line range.")
        self.add_file(record.path)
        self._hunks[(record.path, record.start, record.end)] = record

    def file_status(self, path: str) -> tuple[FileStatus, list[Reason]]:
        """The file's status and every reason behind it (empty when fully reviewed)."""
        hunks = [h for h in self._hunks.values() if h.path == path]
        skips = [s for s in self._skips.values() if s.path == path]
        return _status(self._files.get(path), hunks, skips)

    def to_dict(self) -> dict[str, Any]:
        hunks_of: dict[str, list[HunkRecord]] = {}
        skips_of: dict[str, list[AnalyzerSkip]] = {}
        for hunk in self._hunks.values():
            hunks_of.setdefault(hunk.path, []).append(hunk)
        for skip in self._skips.values():
            skips_of.setdefault(skip.path, []).append(skip)
        files = [
            _file_dict(path, *_status(whole, hunks_of.get(path, []), skips_of.get(path, [])))
            for path, whole in sorted(self._files.items())
        ]
        hunks = [h.to_dict() for _, h in sorted(self._hunks.items())]
        skips = [s.to_dict() for _, s in sorted(self._skips.items(), key=lambda kv: kv[0][::-1])]
        return {
            "version": VERSION,
            "complete": all(f["status"] == "reviewed" for f in files),
            "analyzers": sorted(self._analyzers),
            "files": files,
            "hunks": hunks,
            "analyzers_skipped": skips,
            "totals": self._totals(files),
        }

    def _totals(self, files: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
        hunks = list(self._hunks.values())
        return {
            "files": _count([f["status"] for f in files], ("reviewed", "partial", "skipped")),
            "hunks": _count([h.status for h in hunks], ("reviewed", "clipped", "skipped")),
            "lines": {
                "total": sum(h.end - h.start + 1 for h in hunks),
                "reviewed": sum(h.reviewed_lines() for h in hunks),
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Coverage:
        """Rebuild an accumulator from :meth:`to_dict` output (e.g. a stored checkpoint)."""
        coverage = cls()
        for hunk in data.get("hunks", []):
            coverage._add_hunk(_hunk_from_dict(hunk))
        for skip in data.get("analyzers_skipped", []):
            reason = Reason.from_dict(skip["reason"])
            coverage.analyzer_skipped(skip["analyzer"], skip["path"], reason)
        for entry in data.get("files", []):
            coverage.add_file(entry["path"])
            # Skipped with nothing recorded below it: the whole file was skipped.
            if entry["status"] == "skipped" and coverage.file_status(entry["path"])[0] != "skipped":
                coverage.skip_file(entry["path"], Reason.from_dict(entry["reasons"][0]))
        coverage._analyzers.update(data.get("analyzers", []))
        return coverage


def _hunk_from_dict(data: Mapping[str, Any]) -> HunkRecord:
    reason = Reason.from_dict(data["reason"]) if data.get("reason") else None
    status = cast(HunkStatus, data["status"])
    if status not in ("reviewed", "clipped", "skipped"):
        raise ValueError(f"Hunk status '{status}' is not reviewed, clipped or skipped.")
    return HunkRecord(
        data["path"], data["start"], data["end"], status, reason, data.get("reviewed_end")
    )


def _status(
    whole: Reason | None, hunks: list[HunkRecord], skips: list[AnalyzerSkip]
) -> tuple[FileStatus, list[Reason]]:
    if whole is not None:
        return "skipped", [whole]
    reasons = _unique([h.reason for h in hunks if h.reason] + [s.reason for s in skips])
    if hunks and all(h.status == "skipped" for h in hunks):
        return "skipped", reasons
    return ("partial" if reasons else "reviewed"), reasons


def _file_dict(path: str, status: FileStatus, reasons: list[Reason]) -> dict[str, Any]:
    return {"path": path, "status": status, "reasons": [r.to_dict() for r in reasons]}


def _unique(reasons: Iterable[Reason]) -> list[Reason]:
    return list(dict.fromkeys(reasons))


def _count(statuses: list[str], names: tuple[str, ...]) -> dict[str, int]:
    counts = {name: statuses.count(name) for name in names}
    return {"total": len(statuses), **counts}
