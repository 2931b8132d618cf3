"""matching compares findings: base vs head by fingerprint, and an analysis vs expected findings.

Benchmark matching: an expected finding matches a reported one when the paths are equal
(``\\`` read as ``/``, a leading ``./`` dropped), the expected line (when given) is at most
``tolerance`` lines outside the finding's ``line..end_line`` span, and the category and
rule (when given) are equal ignoring case. Pairs are taken greedily, closest lines first,
each finding and each expectation at most once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

DEFAULT_TOLERANCE = 3

Finding = Mapping[str, Any]


def normalize_path(path: str) -> str:
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def identity(finding: Finding) -> str:
    """The finding's fingerprint; without one, its path, rule (or category) and message."""
    fingerprint = finding.get("fingerprint")
    if fingerprint:
        return str(fingerprint)
    rule = finding.get("rule") or f"category:{finding.get('category') or ''}"
    path = normalize_path(str(finding.get("path", "")))
    return "\x1f".join((path, str(rule), str(finding.get("message", ""))))


def diff(base: Sequence[Finding], head: Sequence[Finding]) -> dict[str, list[Finding]]:
    """``new`` (head only), ``fixed`` (base only), ``unchanged`` (both; the head's copy).

    Identities are compared as multisets, so two equal identities in head and one in
    base give one unchanged and one new.
    """
    remaining: dict[str, int] = defaultdict(int)
    for finding in base:
        remaining[identity(finding)] += 1
    new, unchanged = [], []
    for finding in head:
        key = identity(finding)
        if remaining[key] > 0:
            remaining[key] -= 1
            unchanged.append(finding)
        else:
            new.append(finding)
    fixed = []
    for finding in reversed(base):  # the last copies are the ones left unmatched
        key = identity(finding)
        if remaining[key] > 0:
            remaining[key] -= 1
            fixed.append(finding)
    fixed.reverse()
    return {"new": new, "fixed": fixed, "unchanged": unchanged}


def _line_distance(expected: Finding, finding: Finding) -> int | None:
    line = expected.get("line")
    if line is None:
        return 0
    start = finding.get("line")
    if start is None:
        return None
    end = finding.get("end_line") or start
    if start <= line <= end:
        return 0
    return int(start - line if line < start else line - end)


def _same(expected: Finding, finding: Finding, key: str) -> bool:
    wanted = expected.get(key)
    if wanted is None:
        return True
    return str(finding.get(key) or "").lower() == str(wanted).lower()


def distance(expected: Finding, finding: Finding, *, tolerance: int) -> int | None:
    """How far apart a match would be (lines), or None when they do not match."""
    if normalize_path(str(expected.get("path", ""))) != normalize_path(
        str(finding.get("path", ""))
    ):
        return None
    if not (_same(expected, finding, "category") and _same(expected, finding, "rule")):
        return None
    lines = _line_distance(expected, finding)
    return lines if lines is not None and lines <= tolerance else None


def benchmark(
    expected: Sequence[Finding], found: Sequence[Finding], *, tolerance: int = DEFAULT_TOLERANCE
) -> dict[str, Any]:
    """Precision, recall and F1 of ``found`` against ``expected``, with the pairs.

    With nothing found precision is 1 (no false alarm); with nothing expected recall is 1.
    """
    candidates = []
    for i, want in enumerate(expected):
        for j, finding in enumerate(found):
            gap = distance(want, finding, tolerance=tolerance)
            if gap is not None:
                candidates.append((gap, i, j))
    candidates.sort()
    used_expected: set[int] = set()
    used_found: set[int] = set()
    pairs = []
    for _, i, j in candidates:
        if i not in used_expected and j not in used_found:
            used_expected.add(i)
            used_found.add(j)
            pairs.append((i, j))
    pairs.sort()
    matched = len(pairs)
    precision = matched / len(found) if found else 1.0
    recall = matched / len(expected) if expected else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "tolerance": tolerance,
        "matched": [{"expected": expected[i], "finding": found[j]} for i, j in pairs],
        "missed": [e for i, e in enumerate(expected) if i not in used_expected],
        "unexpected": [f for j, f in enumerate(found) if j not in used_found],
    }
