"""merge turns analyzer and AI reports into one de-duplicated, fingerprinted list of findings.

The pipeline (:func:`merge_findings`) runs in this order, each step a plain function:

1. :func:`deduplicate` — two findings are one when they share a path, their line ranges
   overlap, and they have the same rule id (case-insensitive), or the same category when
   at least one of them comes from the AI (AI rule ids are free text, so the category is
   what can match a static rule). The survivor is the most severe; on a tie the static
   one (deterministic, with a real rule id), then the earlier position, then the earlier
   report. It keeps its own location and message, takes the other's suggestion when it
   has none, and lists the other under ``also_reported_by`` (``source:tool:rule``).
2. :func:`assign_fingerprints` — see ``fingerprints.py``; numbering happens after
   de-duplication so a duplicate never shifts an occurrence index.
3. :func:`at_least` — the severity threshold.
4. :func:`mark_changed` — for diff analyses, whether the finding touches an added line.
5. :func:`apply_history` — ``repeated`` with ``first_seen_analysis_id`` for fingerprints
   seen in earlier analyses of the project; ``suppressed`` (kept, marked, with the
   reviewer's verdict) for fingerprints a reviewer dismissed or marked false positive.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from functions.analysis_service.fingerprints import fingerprint, number_occurrences, rule_key
from shared.logs import mask_secrets

Severity = Literal["critical", "high", "medium", "low", "info"]
Source = Literal["static", "ai"]

SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low", "info")
SEVERITY_RANK: dict[Severity, int] = {s: len(SEVERITIES) - i for i, s in enumerate(SEVERITIES)}
MAX_MESSAGE = 4_000
MAX_SUGGESTION = 8_000
MAX_LABEL = 128
MAX_TRACE = 50
_CWE = re.compile(r"^CWE-[0-9]{1,5}$")

# Tool vocabularies: bandit (HIGH/MEDIUM/LOW/UNDEFINED), SARIF levels (error/warning/note/
# none), and the words review models use. Unknown words get the caller's default.
_WORDS: dict[str, Severity] = {
    "critical": "critical",
    "blocker": "critical",
    "fatal": "critical",
    "high": "high",
    "error": "high",
    "major": "high",
    "severe": "high",
    "important": "high",
    "medium": "medium",
    "moderate": "medium",
    "warning": "medium",
    "warn": "medium",
    "low": "low",
    "minor": "low",
    "note": "low",
    "info": "info",
    "informational": "info",
    "information": "info",
    "none": "info",
    "undefined": "info",
    "nit": "info",
    "nitpick": "info",
    "trivial": "info",
    "style": "info",
    "suggestion": "info",
    "hint": "info",
}


class FilterError(ValueError):
    """A findings filter parameter has a value outside its vocabulary (the API answers 422
    naming the query parameter ``param``)."""

    def __init__(self, message: str, *, param: str = "severity") -> None:
        super().__init__(message)
        self.param = param


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding; ``line``/``end_line`` are new-file numbers, ``end_line`` None for one line."""

    path: str
    line: int
    severity: Severity
    category: str
    message: str
    source: Source
    end_line: int | None = None
    rule: str | None = None
    suggestion: str | None = None
    tool: str | None = None
    fingerprint: str = ""
    on_changed_line: bool | None = None
    repeated: bool = False
    first_seen_analysis_id: str | None = None
    suppressed: bool = False
    suppression: str | None = None
    also_reported_by: tuple[str, ...] = ()
    id: str | None = None
    cwe: str | None = None
    owasp: str | None = None
    # The data flow of a taint finding, source first: ``{line, column, message}`` each.
    trace: tuple[Mapping[str, Any], ...] = ()

    @property
    def last_line(self) -> int:
        return self.end_line or self.line

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["also_reported_by"] = list(self.also_reported_by)
        data["trace"] = [dict(step) for step in self.trace]
        return data


@dataclass(frozen=True, slots=True)
class History:
    """What earlier analyses of the same project said, keyed by final fingerprint.

    ``first_seen`` maps a fingerprint to the analysis that first reported it;
    ``suppressed`` maps it to the reviewer's verdict (``dismissed`` or ``false_positive``).
    """

    first_seen: Mapping[str, str] = field(default_factory=dict)
    suppressed: Mapping[str, str] = field(default_factory=dict)


def normalize_severity(value: object, *, default: Severity = "medium") -> Severity:
    """Map a tool's or model's severity (word or 0-10 score) onto critical..info."""
    if isinstance(value, bool) or value is None:
        return default
    if isinstance(value, int | float):
        return severity_from_score(float(value))
    word = str(value).strip().lower()
    if word in _WORDS:
        return _WORDS[word]
    try:
        return severity_from_score(float(word))
    except ValueError:
        return default


def severity_from_score(score: float) -> Severity:
    """CVSS-style bands, as SARIF's ``security-severity``: 9+, 7+, 4+, above 0, 0."""
    bands: tuple[tuple[float, Severity], ...] = ((9, "critical"), (7, "high"), (4, "medium"))
    for floor, severity in bands:
        if score >= floor:
            return severity
    return "low" if score > 0 else "info"


def finding_from_report(
    report: Mapping[str, Any], *, source: Source, tool: str | None = None
) -> Finding:
    """Build a finding from an analyzer's or the orchestrator's loosely typed report.

    Lines below 1 become 1, an ``end_line`` before ``line`` is dropped, labels are
    lowercased categories and stripped rules, and long texts are cut to their limits.
    Secret literals an analyzer or a model quoted are masked (``shared.logs.mask_secrets``):
    findings, and the SARIF made from them, never carry the secret they report.
    """
    line = max(1, _int(report.get("line"), 1))
    end = _int(report.get("end_line"), 0)
    return Finding(
        path=str(report["path"]),
        line=line,
        end_line=end if end > line else None,
        severity=normalize_severity(report.get("severity")),
        category=_text(report.get("category"), MAX_LABEL).lower() or "general",
        rule=_text(report.get("rule"), MAX_LABEL) or None,
        message=mask_secrets(_text(report.get("message"), MAX_MESSAGE)),
        suggestion=mask_secrets(_text(report.get("suggestion"), MAX_SUGGESTION)) or None,
        source=source,
        tool=tool,
        cwe=cwe if _CWE.fullmatch(cwe := _text(report.get("cwe"), MAX_LABEL).upper()) else None,
        owasp=_text(report.get("owasp"), MAX_LABEL) or None,
        trace=_trace(report.get("trace")),
    )


def _trace(value: object) -> tuple[dict[str, Any], ...]:
    """A reported flow's steps with a line of at least 1 (others dropped), texts cut."""
    if not isinstance(value, list):
        return ()
    steps = []
    for step in value[:MAX_TRACE]:
        if isinstance(step, Mapping) and _int(step.get("line"), 0) >= 1:
            steps.append(
                {
                    "line": _int(step.get("line"), 1),
                    "column": max(0, _int(step.get("column"), 0)),
                    "message": _text(step.get("message"), MAX_LABEL * 4),
                }
            )
    return tuple(steps)


def _int(value: object, default: int) -> int:
    try:
        return int(str(value)) if value is not None else default
    except ValueError:
        return default


def _text(value: object, limit: int) -> str:
    return "" if value is None else str(value).strip()[:limit]


def merge_findings(
    findings: Iterable[Finding],
    *,
    line_text: Callable[[str, int], str | None],
    analysis_id: str,
    history: History | None = None,
    threshold: Severity = "info",
    changed: Mapping[str, set[int]] | None = None,
) -> list[Finding]:
    """The whole pipeline of the module docstring; ``changed`` only for diff analyses."""
    merged = assign_fingerprints(deduplicate(findings), line_text)
    merged = at_least(merged, threshold)
    if changed is not None:
        merged = mark_changed(merged, changed)
    return apply_history(merged, history or History(), analysis_id=analysis_id)


def deduplicate(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per issue (rules in the module docstring), in position order."""
    ranked = sorted(enumerate(findings), key=lambda item: (_priority(item[1]), item[0]))
    kept: list[Finding] = []
    by_path: dict[str, list[int]] = {}
    for _, finding in ranked:
        slots = by_path.setdefault(finding.path, [])
        match = next((i for i in slots if _duplicates(kept[i], finding)), None)
        if match is None:
            slots.append(len(kept))
            kept.append(finding)
        else:
            kept[match] = _absorb(kept[match], finding)
    return sorted(kept, key=_position)


def _priority(finding: Finding) -> tuple[int, int, str, int]:
    static_first = 0 if finding.source == "static" else 1
    return (-SEVERITY_RANK[finding.severity], static_first, finding.path, finding.line)


def _position(finding: Finding) -> tuple[str, int, int, str]:
    return (finding.path, finding.line, finding.last_line, rule_key(finding.rule, finding.category))


def _duplicates(a: Finding, b: Finding) -> bool:
    if a.path != b.path or a.line > b.last_line or b.line > a.last_line:
        return False
    if a.rule and b.rule and a.rule.lower() == b.rule.lower():
        return True
    return a.category == b.category and "ai" in (a.source, b.source)


def _absorb(keeper: Finding, other: Finding) -> Finding:
    reporter = f"{other.source}:{other.tool or ''}:{other.rule or ''}"
    reporters = keeper.also_reported_by
    if reporter not in reporters:
        reporters = (*reporters, reporter)
    return replace(
        keeper, suggestion=keeper.suggestion or other.suggestion, also_reported_by=reporters
    )


def assign_fingerprints(
    findings: Sequence[Finding], line_text: Callable[[str, int], str | None]
) -> list[Finding]:
    """Fingerprint each finding from the code at its start line.

    ``line_text(path, line)`` returns that line's text, or None when unknown; unknown
    code fingerprints as empty, so such findings tell apart only by rule and occurrence.
    """
    bases = [
        fingerprint(f.path, line_text(f.path, f.line) or "", rule_key(f.rule, f.category))
        for f in findings
    ]
    finals = number_occurrences([(b, f.line) for b, f in zip(bases, findings, strict=True)])
    return [replace(f, fingerprint=fp) for f, fp in zip(findings, finals, strict=True)]


def at_least(findings: Iterable[Finding], threshold: Severity) -> list[Finding]:
    floor = SEVERITY_RANK[threshold]
    return [f for f in findings if SEVERITY_RANK[f.severity] >= floor]


def mark_changed(findings: Iterable[Finding], changed: Mapping[str, set[int]]) -> list[Finding]:
    """Set ``on_changed_line``: does the finding's range touch an added line of its file?"""
    return [
        replace(f, on_changed_line=any(n in changed.get(f.path, ()) for n in _lines(f)))
        for f in findings
    ]


def _lines(finding: Finding) -> range:
    return range(finding.line, finding.last_line + 1)


def apply_history(
    findings: Iterable[Finding], history: History, *, analysis_id: str
) -> list[Finding]:
    """Mark repeated and suppressed findings; the current analysis never repeats itself."""
    return [_with_history(f, history, analysis_id) for f in findings]


def _with_history(finding: Finding, history: History, analysis_id: str) -> Finding:
    first = history.first_seen.get(finding.fingerprint)
    repeated = first is not None and first != analysis_id
    verdict = history.suppressed.get(finding.fingerprint)
    return replace(
        finding,
        repeated=repeated,
        first_seen_analysis_id=first if repeated else None,
        suppressed=verdict is not None,
        suppression=verdict,
    )


def summarize(findings: Iterable[Finding]) -> dict[str, Any]:
    """``summary`` of an analysis: visible findings by severity, plus new/repeated/suppressed."""
    findings = list(findings)
    visible = [f for f in findings if not f.suppressed]
    return {
        "by_severity": {s: sum(f.severity == s for f in visible) for s in SEVERITIES},
        "total": len(visible),
        "new": sum(not f.repeated for f in visible),
        "repeated": sum(f.repeated for f in visible),
        "suppressed": len(findings) - len(visible),
    }


def parse_severities(value: str | None) -> frozenset[Severity] | None:
    """``?severity=high,critical`` as a set; None or empty means no filter.

    Raises:
        FilterError: a value is not one of critical, high, medium, low, info.
    """
    if not value or not value.strip():
        return None
    chosen: set[Severity] = set()
    for word in value.split(","):
        severity = next((s for s in SEVERITIES if s == word.strip().lower()), None)
        if severity is None:
            raise FilterError(f"Severity '{word.strip()}' is not one of {', '.join(SEVERITIES)}.")
        chosen.add(severity)
    return frozenset(chosen)


MAX_PATTERN_LENGTH = 256
"""Longest ``?path=`` glob (422 above): with the matcher below the cost of a match is
bounded by this times the path's length (project-service bounds paths)."""


def path_matcher(pattern: str | None) -> Callable[[str], bool]:
    """``?path=``: a glob when it has ``*`` or ``?`` (``*`` stays within a directory, ``**``
    crosses them), else a directory-or-file prefix (``src`` matches ``src/a.py``, not
    ``srcx/a.py``).

    Raises:
        FilterError: the pattern is longer than ``MAX_PATTERN_LENGTH``.
    """
    if not pattern or not pattern.strip("/"):
        return lambda path: True
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise FilterError(
            f"The path pattern is longer than {MAX_PATTERN_LENGTH} characters.", param="path"
        )
    if "*" in pattern or "?" in pattern:
        return Glob(pattern).matches
    prefix = pattern.strip("/")
    return lambda path: path == prefix or path.startswith(prefix + "/")


class Glob:
    """A glob matched in time linear in the path (times the pattern's length), never by
    backtracking: a regex such as ``.*a.*a.*a.*b`` takes exponential time on a long run of
    ``a`` (issue 9: five segments took 5 s and stalled the function).

    The pattern is an NFA with one position per token, simulated on all positions at
    once as the bits of one integer (shift-and, extended with loops and empty moves):
    ``*`` loops on anything but ``/``, ``**`` on anything, ``**/`` is ``(any*/)?`` as an
    optional group (an entry position that may skip it, then a loop left by a ``/``).
    """

    def __init__(self, pattern: str) -> None:
        kinds: list[tuple[str, str]] = []
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                kinds += [("group", ""), ("loop", "")]
                i += 3
            elif pattern.startswith("**", i):
                kinds.append(("dstar", ""))
                i += 2
            elif pattern[i] == "*":
                kinds.append(("star", ""))
                i += 1
            elif pattern[i] == "?":
                kinds.append(("one", ""))
                i += 1
            else:
                kinds.append(("literal", pattern[i]))
                i += 1
        self._literal: dict[str, int] = {}
        self._one = self._star = self._dstar = self._loop = self._skip1 = self._skip2 = 0
        for position, (kind, char) in enumerate(kinds):
            bit = 1 << position
            if kind == "literal":
                self._literal[char] = self._literal.get(char, 0) | bit
            elif kind == "one":
                self._one |= bit
            elif kind == "star":
                self._star |= bit
                self._skip1 |= bit
            elif kind == "dstar":
                self._dstar |= bit
                self._skip1 |= bit
            elif kind == "group":
                self._skip1 |= bit
                self._skip2 |= bit
            else:
                self._loop |= bit
        self._accept = 1 << len(kinds)
        self._start = self._closure(1)

    def _closure(self, states: int) -> int:
        while True:
            grown = states | ((states & self._skip1) << 1) | ((states & self._skip2) << 2)
            if grown == states:
                return states
            states = grown

    def matches(self, path: str) -> bool:
        states = self._start
        for char in path:
            slash = char == "/"
            advance = self._literal.get(char, 0) | (self._loop if slash else self._one)
            stay = self._dstar | self._loop | (0 if slash else self._star)
            states = self._closure(((states & advance) << 1) | (states & stay))
            if not states:
                return False
        return bool(states & self._accept)


def filter_findings(
    findings: Iterable[Finding],
    *,
    severity: str | None = None,
    path: str | None = None,
    include_suppressed: bool = False,
    changed_only: bool = False,
) -> list[Finding]:
    """The API's findings filters; suppressed findings are hidden unless asked for.

    Raises:
        FilterError: ``severity`` names an unknown level.
    """
    severities = parse_severities(severity)
    matches = path_matcher(path)
    return [
        f
        for f in findings
        if (severities is None or f.severity in severities)
        and matches(f.path)
        and (include_suppressed or not f.suppressed)
        and (not changed_only or f.on_changed_line is not False)
    ]
