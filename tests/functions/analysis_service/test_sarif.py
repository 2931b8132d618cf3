"""SARIF 2.1.0 export, validated against the OASIS schema (tests/fixtures/sarif-2.1.0.json)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from functions.analysis_service.coverage import Coverage, Reason
from functions.analysis_service.merge import Finding, History, merge_findings
from functions.analysis_service.sarif import to_sarif

SCHEMA_PATH = Path(__file__).parents[2] / "fixtures" / "sarif-2.1.0.json"
ANALYSIS_ID = str(uuid.uuid4())


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )


def _assert_valid(validator: jsonschema.Draft7Validator, log: dict[str, Any]) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]
    assert not errors, errors
    json.dumps(log)


def _analysis(**overrides: Any) -> dict[str, Any]:
    coverage = Coverage()
    coverage.hunk_reviewed("src/app.py", 1, 20)
    coverage.analyzer_skipped("ruff", "src/new syntax.py", Reason.parse_error("ruff", "bad"))
    analysis: dict[str, Any] = {
        "id": uuid.UUID(ANALYSIS_ID),
        "project_id": uuid.uuid4(),
        "status": "completed",
        "coverage": coverage.to_dict(),
        "started_at": datetime(2025, 3, 1, 12, 0, tzinfo=UTC),
        "finished_at": datetime(2025, 3, 1, 14, 5, tzinfo=timezone(timedelta(hours=2))),
    }
    analysis.update(overrides)
    return analysis


def _finding(**overrides: Any) -> Finding:
    values: dict[str, Any] = {
        "path": "src/app.py",
        "line": 3,
        "severity": "high",
        "category": "security",
        "message": "shell=True with user input",
        "source": "static",
        "rule": "B602",
        "tool": "bandit",
        "fingerprint": "a" * 64,
    }
    values.update(overrides)
    return Finding(**values)


def test_empty_analysis_is_a_valid_log_with_no_results(
    validator: jsonschema.Draft7Validator,
) -> None:
    log = to_sarif({}, [], tool_version="1.0.0")
    _assert_valid(validator, log)
    (run,) = log["runs"]
    assert (log["version"], run["results"], run["tool"]["driver"]["rules"]) == ("2.1.0", [], [])
    assert run["tool"]["driver"]["name"] == "ai-codereview"
    assert run["invocations"] == [{"executionSuccessful": False}]


def test_a_finding_maps_onto_result_fields(validator: jsonschema.Draft7Validator) -> None:
    finding = _finding(end_line=4, suggestion="Pass a list", id=str(uuid.uuid4()))
    log = to_sarif(_analysis(), [finding], tool_version="1.2.3")
    _assert_valid(validator, log)
    (result,) = log["runs"][0]["results"]
    assert result == {
        "ruleId": "B602",
        "ruleIndex": 0,
        "level": "error",
        "message": {"text": "shell=True with user input"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": "src/app.py", "uriBaseId": "SRCROOT"},
                    "region": {"startLine": 3, "endLine": 4},
                }
            }
        ],
        "partialFingerprints": {"acrFingerprint/v1": "a" * 64},
        "baselineState": "new",
        "guid": finding.id,
        "properties": {
            "severity": "high",
            "category": "security",
            "source": "static",
            "repeated": False,
            "tool": "bandit",
            "suggestion": "Pass a list",
        },
    }


def test_suppressed_and_repeated_findings_say_so(validator: jsonschema.Draft7Validator) -> None:
    finding = _finding(
        repeated=True,
        first_seen_analysis_id="earlier",
        suppressed=True,
        suppression="false_positive",
    )
    log = to_sarif(_analysis(), [finding], tool_version="1.0.0")
    _assert_valid(validator, log)
    (result,) = log["runs"][0]["results"]
    assert result["baselineState"] == "unchanged"
    assert result["properties"]["firstSeenAnalysisId"] == "earlier"
    assert result["suppressions"] == [
        {
            "kind": "external",
            "justification": (
                "A reviewer marked this finding false positive in an earlier analysis."
            ),
        }
    ]


def test_many_rules_are_listed_once_sorted_and_indexed(
    validator: jsonschema.Draft7Validator,
) -> None:
    findings = [
        _finding(rule=f"R{n:03d}", line=n, severity=("low", "critical", "info")[n % 3])
        for n in range(1, 61)
    ]
    findings += [_finding(rule=None, category="performance", source="ai", line=70)]
    findings += [_finding(rule="R003", line=80, severity="medium")]  # R003 is low at 3
    log = to_sarif(_analysis(), findings, tool_version="1.0.0")
    _assert_valid(validator, log)
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    ids = [rule["id"] for rule in rules]
    assert ids == sorted(set(ids)) and len(ids) == 61
    for result in log["runs"][0]["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    r003 = rules[ids.index("R003")]
    assert r003["defaultConfiguration"] == {"level": "warning"}, "the rule's worst severity"
    assert r003["properties"]["security-severity"] == "5.5"
    assert "security-severity" not in rules[ids.index("performance")]["properties"]


@pytest.mark.parametrize(
    ("severity", "level"),
    [
        ("critical", "error"),
        ("high", "error"),
        ("medium", "warning"),
        ("low", "note"),
        ("info", "note"),
    ],
)
def test_severities_map_to_sarif_levels(severity: str, level: str) -> None:
    log = to_sarif({}, [_finding(severity=severity)], tool_version="1")
    assert log["runs"][0]["results"][0]["level"] == level


def test_run_carries_coverage_times_ids_and_analyzer_notifications(
    validator: jsonschema.Draft7Validator,
) -> None:
    analysis = _analysis()
    log = to_sarif(analysis, [], tool_version="1.0.0")
    _assert_valid(validator, log)
    run = log["runs"][0]
    assert run["properties"]["coverage"] == analysis["coverage"]
    assert run["properties"]["analysisId"] == ANALYSIS_ID
    assert run["automationDetails"] == {"id": f"ai-codereview/{ANALYSIS_ID}", "guid": ANALYSIS_ID}
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is True
    assert (invocation["startTimeUtc"], invocation["endTimeUtc"]) == (
        "2025-03-01T12:00:00Z",
        "2025-03-01T12:05:00Z",
    )
    (note,) = invocation["toolExecutionNotifications"]
    assert note["descriptor"] == {"id": "parse_error:ruff"}
    assert note["message"]["text"] == "ruff did not analyze src/new syntax.py: bad"
    uri = note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "src/new%20syntax.py"


def test_failed_analysis_reports_its_error(validator: jsonschema.Draft7Validator) -> None:
    analysis = _analysis(status="failed", error="orchestrator unavailable", coverage=None)
    log = to_sarif(analysis, [], tool_version="1.0.0")
    _assert_valid(validator, log)
    invocation = log["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"] == [
        {"level": "error", "message": {"text": "orchestrator unavailable"}}
    ]


def test_coverage_stored_as_json_text_is_decoded() -> None:
    coverage = Coverage().to_dict()
    log = to_sarif({"coverage": json.dumps(coverage)}, [], tool_version="1")
    assert log["runs"][0]["properties"]["coverage"] == coverage


def test_ids_that_are_not_sarif_guids_are_left_out(validator: jsonschema.Draft7Validator) -> None:
    uuid7ish = "01890a5d-ac96-774b-bcce-b302099a8057"
    log = to_sarif({"id": uuid7ish}, [_finding(id="finding-7")], tool_version="1")
    _assert_valid(validator, log)
    assert log["runs"][0]["automationDetails"] == {"id": f"ai-codereview/{uuid7ish}"}
    assert "guid" not in log["runs"][0]["results"][0]


def test_results_of_a_real_merge_validate_and_sort_by_position(
    validator: jsonschema.Draft7Validator,
) -> None:
    findings = [
        _finding(path="z.py", line=2, fingerprint=""),
        _finding(path="a b/ü.py", line=9, source="ai", rule=None, fingerprint=""),
        _finding(path="a b/ü.py", line=1, severity="info", fingerprint=""),
    ]
    merged = merge_findings(
        findings,
        line_text=lambda path, line: "x = 1",
        analysis_id=ANALYSIS_ID,
        history=History(suppressed={}),
    )
    log = to_sarif(_analysis(), merged, tool_version="1.0.0")
    _assert_valid(validator, log)
    results = log["runs"][0]["results"]
    locations = [
        (
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in results
    ]
    assert locations == [("a%20b/%C3%BC.py", 1), ("a%20b/%C3%BC.py", 9), ("z.py", 2)]
    assert all(len(r["partialFingerprints"]["acrFingerprint/v1"]) == 64 for r in results)


def test_schema_rejects_a_broken_log(validator: jsonschema.Draft7Validator) -> None:
    log = to_sarif({}, [_finding()], tool_version="1")
    log["runs"][0]["results"][0]["level"] = "fatal"
    assert not validator.is_valid(log), "the validator must actually check result levels"


TRACE = (
    {"line": 2, "column": 11, "message": "user input: request.args"},
    {"line": 2, "column": 4, "message": "assigned to 'name'"},
    {"line": 3, "column": 4, "message": "reaches os.system() (OS command injection)"},
)


def test_taint_findings_carry_the_cwe_taxonomy_tags_and_code_flow(
    validator: jsonschema.Draft7Validator,
) -> None:
    taint = _finding(
        rule="taint:command-injection",
        tool="taint",
        severity="critical",
        cwe="CWE-78",
        owasp="A03:2021-Injection",
        trace=TRACE,
    )
    sql = _finding(
        line=9, rule="taint:sql-injection", cwe="CWE-89", owasp="A03:2021-Injection", trace=TRACE
    )
    lint = _finding(line=5, rule="ruff:B006", category="bug", severity="medium")

    log = to_sarif(_analysis(), [taint, sql, lint], tool_version="1.0.0")

    _assert_valid(validator, log)
    run = log["runs"][0]
    [taxonomy] = run["taxonomies"]
    assert taxonomy["name"] == "CWE"
    assert [t["id"] for t in taxonomy["taxa"]] == ["78", "89"]
    assert "OS Command" in taxonomy["taxa"][0]["shortDescription"]["text"]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    command = rules["taint:command-injection"]
    assert command["properties"]["security-severity"] == "9.5"
    assert command["properties"]["tags"] == [
        "security",
        "external/cwe/cwe-78",
        "external/owasp/owasp-a03",
    ]
    assert command["relationships"] == [
        {
            "target": {"id": "78", "index": 0, "toolComponent": {"name": "CWE", "index": 0}},
            "kinds": ["superset"],
        }
    ]
    assert "relationships" not in rules["ruff:B006"]
    by_rule = {result["ruleId"]: result for result in run["results"]}
    assert by_rule["taint:sql-injection"]["taxa"][0]["id"] == "89"
    [flow] = by_rule["taint:command-injection"]["codeFlows"]
    steps = flow["threadFlows"][0]["locations"]
    assert [s["location"]["physicalLocation"]["region"] for s in steps] == [
        {"startLine": 2, "startColumn": 12},
        {"startLine": 2, "startColumn": 5},
        {"startLine": 3, "startColumn": 5},
    ]
    assert steps[0]["location"]["message"]["text"] == "user input: request.args"
    assert "codeFlows" not in by_rule["ruff:B006"] and "taxa" not in by_rule["ruff:B006"]


def test_a_log_without_cwe_findings_has_no_taxonomy(validator: jsonschema.Draft7Validator) -> None:
    log = to_sarif(_analysis(), [_finding(rule="B602")], tool_version="1.0.0")
    _assert_valid(validator, log)
    assert "taxonomies" not in log["runs"][0]
