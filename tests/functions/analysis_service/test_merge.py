"""Merging findings: severities, de-duplication, fingerprints, history, filters, summary."""

from __future__ import annotations

from typing import Any

import pytest

from functions.analysis_service.diff import changed_lines, parse_diff
from functions.analysis_service.merge import (
    MAX_PATTERN_LENGTH,
    FilterError,
    Finding,
    Glob,
    History,
    Severity,
    deduplicate,
    filter_findings,
    finding_from_report,
    merge_findings,
    normalize_severity,
    path_matcher,
    summarize,
)

CODE = {
    "app.py": [
        "import subprocess",
        "def run(cmd):",
        "    subprocess.call(cmd, shell=True)",
        "    return eval(cmd)",
        "    return eval(cmd)",
    ],
}


def _text(path: str, line: int) -> str | None:
    lines = CODE.get(path, [])
    return lines[line - 1] if 0 < line <= len(lines) else None


def _finding(**overrides: Any) -> Finding:
    values: dict[str, Any] = {
        "path": "app.py",
        "line": 3,
        "severity": "high",
        "category": "security",
        "message": "shell=True with user input",
        "source": "static",
        "rule": "B602",
        "tool": "bandit",
    }
    values.update(overrides)
    return Finding(**values)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("HIGH", "high"),
        ("MEDIUM", "medium"),
        ("LOW", "low"),
        ("UNDEFINED", "info"),
        ("error", "high"),
        ("warning", "medium"),
        ("note", "low"),
        ("none", "info"),
        ("Critical", "critical"),
        ("blocker", "critical"),
        ("major", "high"),
        ("minor", "low"),
        ("nit", "info"),
        ("nitpick", "info"),
        (" Info ", "info"),
        (9.8, "critical"),
        (7, "high"),
        ("5.0", "medium"),
        (0.5, "low"),
        (0, "info"),
    ],
)
def test_tool_and_model_vocabularies_normalize_to_five_levels(
    value: object, expected: Severity
) -> None:
    assert normalize_severity(value) == expected


@pytest.mark.parametrize("value", [None, "", "whatever", True])
def test_unknown_severities_take_the_default(value: object) -> None:
    assert normalize_severity(value) == "medium"
    assert normalize_severity(value, default="low") == "low"


def test_loose_reports_become_normalized_findings() -> None:
    finding = finding_from_report(
        {
            "path": "app.py",
            "line": "0",
            "end_line": -4,
            "severity": "Major",
            "category": " Security ",
            "rule": "  ",
            "message": "x" * 10_000,
            "suggestion": "",
        },
        source="ai",
        tool="gpt",
    )
    assert (finding.line, finding.end_line, finding.severity) == (1, None, "high")
    assert (finding.category, finding.rule, finding.suggestion) == ("security", None, None)
    assert len(finding.message) == 4_000
    assert finding_from_report({"path": "a", "line": 4, "end_line": 9}, source="ai").end_line == 9
    assert finding_from_report({"path": "a"}, source="ai").category == "general"


def test_static_and_ai_reports_of_one_issue_merge_into_the_most_severe() -> None:
    static = _finding(severity="medium")
    ai = _finding(
        source="ai",
        tool="gpt",
        rule="command-injection",
        severity="critical",
        suggestion="Use a list",
    )
    (kept,) = deduplicate([static, ai])
    assert (kept.source, kept.severity, kept.rule) == ("ai", "critical", "command-injection")
    assert kept.also_reported_by == ("static:bandit:B602",)
    assert kept.suggestion == "Use a list"


def test_on_equal_severity_the_static_finding_survives_and_takes_the_ai_suggestion() -> None:
    ai = _finding(source="ai", tool="gpt", rule=None, suggestion="shlex.split")
    (kept,) = deduplicate([ai, _finding()])
    assert (kept.source, kept.rule, kept.suggestion) == ("static", "B602", "shlex.split")
    assert kept.also_reported_by == ("ai:gpt:",)


@pytest.mark.parametrize(
    ("other", "merged"),
    [
        ({"line": 3}, True),
        ({"line": 2, "end_line": 4}, True),
        ({"line": 4}, False),
        ({"path": "other.py"}, False),
        ({"rule": "b602", "tool": "ruff"}, True),
        ({"rule": "B603", "tool": "bandit"}, False),
        ({"rule": "X1", "source": "ai"}, True),
        ({"rule": "X1", "source": "ai", "category": "performance"}, False),
    ],
)
def test_duplicates_need_path_overlap_and_rule_or_ai_category(
    other: dict[str, Any], merged: bool
) -> None:
    result = deduplicate([_finding(), _finding(**other)])
    assert len(result) == (1 if merged else 2), result


def test_repeated_ai_findings_from_overlapping_chunks_collapse() -> None:
    ai = _finding(source="ai", tool="gpt", rule=None)
    assert len(deduplicate([ai, ai, ai])) == 1


def test_deduplicated_findings_come_back_in_position_order() -> None:
    findings = [_finding(line=5, rule="B307"), _finding(path="a.py"), _finding(line=1, rule="B404")]
    assert [(f.path, f.line) for f in deduplicate(findings)] == [
        ("a.py", 3),
        ("app.py", 1),
        ("app.py", 5),
    ]


def test_identical_findings_on_different_lines_get_distinct_fingerprints() -> None:
    evals = [_finding(line=5, rule="B307"), _finding(line=4, rule="B307")]
    merged = merge_findings(evals, line_text=_text, analysis_id="a1")
    by_line = {f.line: f.fingerprint for f in merged}
    assert by_line[5] == by_line[4] + ":2", by_line
    assert len(by_line[4]) == 64


def test_fingerprints_survive_lines_inserted_above_between_analyses() -> None:
    before = merge_findings([_finding()], line_text=_text, analysis_id="a1")
    shifted = ["# new header", "", *CODE["app.py"]]

    def shifted_text(path: str, line: int) -> str | None:
        return shifted[line - 1]

    after = merge_findings([_finding(line=5)], line_text=shifted_text, analysis_id="a2")
    assert after[0].fingerprint == before[0].fingerprint


def test_history_marks_repeats_and_suppressions_but_not_self() -> None:
    (first,) = merge_findings([_finding()], line_text=_text, analysis_id="a1")
    eval_finding = _finding(line=4, rule="B307")
    history = History(
        first_seen={first.fingerprint: "a1"},
        suppressed={first.fingerprint: "false_positive"},
    )
    merged = merge_findings(
        [_finding(), eval_finding], line_text=_text, analysis_id="a2", history=history
    )
    repeated, new = merged
    assert (repeated.repeated, repeated.first_seen_analysis_id) == (True, "a1")
    assert (repeated.suppressed, repeated.suppression) == (True, "false_positive")
    assert (new.repeated, new.suppressed, new.first_seen_analysis_id) == (False, False, None)
    again = merge_findings([_finding()], line_text=_text, analysis_id="a1", history=history)
    assert again[0].repeated is False, (
        "a redelivered analysis must not call its own findings repeated"
    )


def test_threshold_drops_findings_below_it_after_numbering() -> None:
    findings = [_finding(severity="low", line=4, rule="B307"), _finding(severity="high")]
    merged = merge_findings(findings, line_text=_text, analysis_id="a", threshold="medium")
    assert [(f.line, f.severity) for f in merged] == [(3, "high")]


def test_findings_are_labelled_by_whether_they_touch_an_added_line() -> None:
    (file_diff,) = parse_diff("--- a/app.py\n+++ b/app.py\n@@ -3,2 +3,2 @@\n-old\n+new\n x\n")
    changed = {"app.py": changed_lines(file_diff)}
    findings = [_finding(), _finding(line=2, end_line=3, rule="B1"), _finding(line=4, rule="B2")]
    merged = merge_findings(findings, line_text=_text, analysis_id="a", changed=changed)
    assert [(f.line, f.on_changed_line) for f in merged] == [(2, True), (3, True), (4, False)]
    assert filter_findings(merged, changed_only=True) == merged[:2]


def test_unknown_line_text_still_yields_deterministic_fingerprints() -> None:
    findings = [_finding(path="gone.py", line=9), _finding(path="gone.py", line=2)]
    merged = merge_findings(findings, line_text=_text, analysis_id="a")
    assert [f.fingerprint[-2:] for f in merged][1] == ":2"
    assert merged[0].fingerprint == merged[1].fingerprint[:-2]


SAMPLE = [
    _finding(path="src/api/views.py", severity="critical"),
    _finding(path="src/api/models.py", severity="low", rule="B1"),
    _finding(path="srcx/tool.py", severity="high"),
    _finding(path="tests/test_views.py", severity="info", rule="B2"),
    _finding(path="src/api/hidden.py", severity="high", suppressed=True, suppression="dismissed"),
]


@pytest.mark.parametrize(
    ("params", "paths"),
    [
        ({}, ["src/api/views.py", "src/api/models.py", "srcx/tool.py", "tests/test_views.py"]),
        ({"severity": "critical"}, ["src/api/views.py"]),
        ({"severity": "HIGH, critical"}, ["src/api/views.py", "srcx/tool.py"]),
        ({"path": "src"}, ["src/api/views.py", "src/api/models.py"]),
        ({"path": "src/api/"}, ["src/api/views.py", "src/api/models.py"]),
        ({"path": "srcx/tool.py"}, ["srcx/tool.py"]),
        ({"path": "*.py"}, []),
        ({"path": "**/*.py"}, [f.path for f in SAMPLE[:4]]),
        ({"path": "src/**/views.py"}, ["src/api/views.py"]),
        ({"path": "src/*/m?dels.py"}, ["src/api/models.py"]),
        ({"path": "tests/*", "severity": "info"}, ["tests/test_views.py"]),
        ({"include_suppressed": True, "path": "src/api/h*"}, ["src/api/hidden.py"]),
    ],
)
def test_filters_by_severity_list_path_prefix_or_glob(
    params: dict[str, Any], paths: list[str]
) -> None:
    assert [f.path for f in filter_findings(SAMPLE, **params)] == paths


def test_unknown_severity_filter_is_a_filter_error_naming_the_value() -> None:
    with pytest.raises(FilterError, match="'severe'"):
        filter_findings(SAMPLE, severity="high,severe")


def test_glob_special_characters_other_than_stars_are_literal() -> None:
    matches = path_matcher("a+b/[x].py*")
    assert matches("a+b/[x].py") and matches("a+b/[x].pyc")
    assert not matches("aab/x.py")


def test_summary_counts_visible_findings_by_severity() -> None:
    findings = [*SAMPLE, _finding(severity="medium", repeated=True, first_seen_analysis_id="a0")]
    assert summarize(findings) == {
        "by_severity": {"critical": 1, "high": 1, "medium": 1, "low": 1, "info": 1},
        "total": 5,
        "new": 4,
        "repeated": 1,
        "suppressed": 1,
    }


def test_to_dict_is_json_ready() -> None:
    data = _finding(also_reported_by=("ai:gpt:",)).to_dict()
    assert data["also_reported_by"] == ["ai:gpt:"]
    assert {"path", "line", "end_line", "severity", "fingerprint", "suppressed"} <= data.keys()


def _backtracking_reference(pattern: str) -> Any:
    """The old translation to a Python regex: right on small inputs, exponential on some."""
    import re

    tokens = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
    out, i = [], 0
    while i < len(pattern):
        token = next((t for t in tokens if pattern.startswith(t, i)), None)
        out.append(tokens[token] if token else re.escape(pattern[i]))
        i += len(token) if token else 1
    return re.compile("".join(out))


def test_the_linear_glob_agrees_with_the_regex_translation_on_small_inputs() -> None:
    import random

    rng = random.Random(9)
    alphabet = ["a", "b", "/", "*", "**", "**/", "?", "."]
    for _ in range(3000):
        pattern = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 7)))
        if "*" not in pattern and "?" not in pattern:
            continue
        reference = _backtracking_reference(pattern)
        glob = Glob(pattern)
        for _ in range(8):
            path = "".join(rng.choice("ab/.") for _ in range(rng.randint(0, 9)))
            expected = reference.fullmatch(path) is not None
            assert glob.matches(path) is expected, (pattern, path)


def test_a_redos_pattern_is_matched_in_one_pass_over_the_path(monkeypatch: Any) -> None:
    """Issue 9 item 4: ``**a**a**a**a**a**b`` against a long run of ``a`` took 5 s (six
    segments 28 s) per finding by backtracking. The matcher does one step per character of
    the path, whatever the pattern: counted, not timed."""
    glob = Glob("**a**a**a**a**a**a**a**b")
    steps = 0
    closure = glob._closure

    def counting(states: int) -> int:
        nonlocal steps
        steps += 1
        return closure(states)

    monkeypatch.setattr(glob, "_closure", counting)
    path = "a" * 5000
    assert glob.matches(path) is False
    assert steps == len(path), steps
    assert Glob("**a**a**b").matches("a" * 50 + "b")


def test_an_overlong_pattern_is_a_filter_error_naming_the_path_parameter() -> None:
    with pytest.raises(FilterError) as raised:
        path_matcher("*" + "a" * MAX_PATTERN_LENGTH)
    assert raised.value.param == "path"


@pytest.mark.parametrize(
    "quoted",
    [
        "Possible hardcoded password: 'hunter2-but-longer'",
        "AWS key AKIAIOSFODNN7EXAMPLE committed",
        "OpenAI key sk-proj-abcdefghijklmnopqrstuvwxyz0123 in config",
        "token ghp_0123456789abcdefghijABCDEFGHIJ012345 found",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
    ],
)
def test_secret_literals_quoted_by_an_analyzer_are_masked(quoted: str) -> None:
    """Issue 9 item 17: findings and SARIF carried detected secrets verbatim."""
    report = {
        "path": "a.py",
        "line": 1,
        "severity": "high",
        "message": quoted,
        "suggestion": quoted,
    }
    finding = finding_from_report(report, source="static")
    for secret in (
        "hunter2-but-longer",
        "AKIAIOSFODNN7EXAMPLE",
        "abcdefghijklmnopqrstuvwxyz0123",
        "0123456789abcdefghijABCDEFGHIJ012345",
        "MIIEow",
    ):
        assert secret not in finding.message and secret not in (finding.suggestion or "")
    assert "[REDACTED]" in finding.message


def test_a_reports_cwe_owasp_and_trace_are_kept_and_bad_ones_dropped() -> None:
    report = {
        "path": "app.py",
        "line": 7,
        "severity": "critical",
        "category": "security",
        "rule": "taint:command-injection",
        "message": "input reaches os.system()",
        "cwe": "cwe-78",
        "owasp": "A03:2021-Injection",
        "trace": [
            {"line": 3, "column": 4, "message": "user input: request.args"},
            {"line": 0, "message": "no line: dropped"},
            "not a step",
            {"line": 7, "column": -2, "message": "reaches os.system()"},
        ],
    }
    finding = finding_from_report(report, source="static", tool="taint")
    assert (finding.cwe, finding.owasp) == ("CWE-78", "A03:2021-Injection")
    assert finding.trace == (
        {"line": 3, "column": 4, "message": "user input: request.args"},
        {"line": 7, "column": 0, "message": "reaches os.system()"},
    )
    assert finding.to_dict()["trace"][0]["line"] == 3
    odd = finding_from_report({**report, "cwe": "78; drop table", "trace": "x"}, source="ai")
    assert (odd.cwe, odd.trace) == (None, ())
