"""sarif exports an analysis and its findings as a SARIF 2.1.0 log (one run).

Mapping: severity critical/high -> level ``error``, medium -> ``warning``, low/info ->
``note``; a finding's rule id, or its category when it has none, is the SARIF rule;
repeated findings have ``baselineState: unchanged`` (new ones ``new``); suppressed ones
carry an ``external`` suppression (status left out: accepted) with the reviewer's verdict; each
analyzer that could not read a file is a tool execution notification; the analysis'
coverage sits under ``runs[0].properties.coverage``.

Security findings with a CWE (the local reviewer's taint engine) are laid out as GitHub code
scanning reads them: the run has a ``CWE`` taxonomy whose ``taxa`` are the CWEs found; each
rule has a ``relationships`` entry to its CWE and ``tags`` ``security`` plus
``external/cwe/cwe-N`` (and ``external/owasp/aNN`` for its OWASP Top 10 category) beside its
``security-severity``; each result names its CWE in ``taxa``, and a taint finding's flow from
source to sink is its ``codeFlows`` (one thread flow, source first).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from functions.analysis_service.fingerprints import partial_fingerprints
from functions.analysis_service.merge import SEVERITY_RANK, Finding, Severity

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/os/schemas/sarif-schema-2.1.0.json"
TOOL_NAME = "ai-codereview"
INFORMATION_URI = "https://ai-codereview.dev/docs/rules"
SRCROOT = "SRCROOT"
_GUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
)

LEVELS: dict[Severity, str] = {
    "critical": "error",
    "high": "error",
    "medium": "warning",
    "low": "note",
    "info": "note",
}
# GitHub code scanning reads rule `security-severity` as a CVSS-like score.
CWE_TAXONOMY = "CWE"
CWE_VERSION = "4.16"
# Names of the CWEs the local reviewer reports; others are named by their number.
CWE_NAMES = {
    "22": "Improper Limitation of a Pathname to a Restricted Directory ('Path Traversal')",
    "78": "Improper Neutralization of Special Elements used in an OS Command",
    "79": "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')",
    "89": "Improper Neutralization of Special Elements used in an SQL Command",
    "90": "Improper Neutralization of Special Elements used in an LDAP Query",
    "95": "Improper Neutralization of Directives in Dynamically Evaluated Code",
    "328": "Use of Weak Hash",
    "330": "Use of Insufficiently Random Values",
    "501": "Trust Boundary Violation",
    "502": "Deserialization of Untrusted Data",
    "601": "URL Redirection to Untrusted Site ('Open Redirect')",
    "611": "Improper Restriction of XML External Entity Reference",
    "614": "Sensitive Cookie in HTTPS Session Without 'Secure' Attribute",
    "643": "Improper Neutralization of Data within XPath Expressions",
}
_SECURITY_SEVERITY: dict[Severity, str] = {
    "critical": "9.5",
    "high": "8.0",
    "medium": "5.5",
    "low": "2.0",
    "info": "0.0",
}


def to_sarif(
    analysis: Mapping[str, Any],
    findings: Sequence[Finding],
    *,
    tool_version: str,
    information_uri: str = INFORMATION_URI,
    rule_descriptions: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The SARIF log of one analysis.

    Args:
        analysis: the analysis row: ``id``, ``project_id``, ``status``, ``coverage``
            (dict or JSON text), ``error``, ``started_at``/``finished_at`` (datetime or
            RFC 3339 text); missing keys are left out of the log.
        findings: the analysis' findings, suppressed ones included.
        tool_version: the platform version reported as the driver's version.
        information_uri: where the tool is documented.
        rule_descriptions: optional text per rule id for ``shortDescription``.
    """
    cwes = sorted({_cwe_id(f.cwe) for f in findings if f.cwe}, key=int)
    taxa = {cwe: i for i, cwe in enumerate(cwes)}
    rules = _rules(findings, rule_descriptions or {}, taxa)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    driver = {"name": TOOL_NAME, "version": tool_version, "informationUri": information_uri}
    run: dict[str, Any] = {
        "tool": {"driver": {**driver, "rules": rules}},
        "originalUriBaseIds": {
            SRCROOT: {"description": {"text": "Root of the reviewed snapshot or diff."}}
        },
        "invocations": [_invocation(analysis)],
        "results": [_result(f, index, taxa) for f in sorted(findings, key=_order)],
        "columnKind": "unicodeCodePoints",
        "properties": _run_properties(analysis),
    }
    if (details := _automation_details(analysis)) is not None:
        run["automationDetails"] = details
    if cwes:
        run["taxonomies"] = [_cwe_taxonomy(cwes)]
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def rule_id(finding: Finding) -> str:
    return finding.rule or finding.category


def _order(finding: Finding) -> tuple[str, int, int, str, str]:
    return (finding.path, finding.line, finding.last_line, rule_id(finding), finding.fingerprint)


def _rules(
    findings: Sequence[Finding], descriptions: Mapping[str, str], taxa: Mapping[str, int]
) -> list[dict[str, Any]]:
    worst: dict[str, Finding] = {}
    classified: dict[str, Finding] = {}
    for finding in findings:
        current = worst.get(rule_id(finding))
        if current is None or SEVERITY_RANK[finding.severity] > SEVERITY_RANK[current.severity]:
            worst[rule_id(finding)] = finding
        if finding.cwe:
            classified.setdefault(rule_id(finding), finding)
    return [
        _rule(rid, worst[rid], descriptions.get(rid), classified.get(rid), taxa)
        for rid in sorted(worst)
    ]


def _rule(
    rid: str,
    worst: Finding,
    description: str | None,
    classified: Finding | None,
    taxa: Mapping[str, int],
) -> dict[str, Any]:
    properties: dict[str, Any] = {"category": worst.category, "tags": [worst.category]}
    if worst.category == "security":
        properties["security-severity"] = _SECURITY_SEVERITY[worst.severity]
    rule: dict[str, Any] = {
        "id": rid,
        "shortDescription": {"text": description or f"{rid} ({worst.category})"},
        "defaultConfiguration": {"level": LEVELS[worst.severity]},
        "properties": properties,
    }
    if classified is not None and classified.cwe:
        cwe = _cwe_id(classified.cwe)
        properties["tags"] = _tags(worst.category, cwe, classified.owasp)
        properties["cwe"] = classified.cwe
        if classified.owasp:
            properties["owasp"] = classified.owasp
        rule["relationships"] = [{"target": _taxon_reference(cwe, taxa), "kinds": ["superset"]}]
    return rule


def _tags(category: str, cwe: str, owasp: str | None) -> list[str]:
    """GitHub's tags: ``security`` marks a security alert, ``external/cwe/cwe-N`` its CWE."""
    tags = ["security", f"external/cwe/cwe-{cwe}"]
    if owasp and owasp[:1] == "A" and owasp[1:3].isdigit():
        tags.append(f"external/owasp/owasp-a{owasp[1:3]}")
    return tags if category == "security" else [category, *tags]


def _cwe_id(cwe: str | None) -> str:
    return (cwe or "").upper().removeprefix("CWE-")


def _taxon_reference(cwe: str, taxa: Mapping[str, int]) -> dict[str, Any]:
    return {
        "id": cwe,
        "index": taxa[cwe],
        "toolComponent": {"name": CWE_TAXONOMY, "index": 0},
    }


def _cwe_taxonomy(cwes: Sequence[str]) -> dict[str, Any]:
    return {
        "name": CWE_TAXONOMY,
        "version": CWE_VERSION,
        "organization": "MITRE",
        "informationUri": "https://cwe.mitre.org/",
        "shortDescription": {"text": "The MITRE Common Weakness Enumeration"},
        "taxa": [
            {
                "id": cwe,
                "name": f"CWE-{cwe}",
                "shortDescription": {"text": CWE_NAMES.get(cwe, f"CWE-{cwe}")},
                "helpUri": f"https://cwe.mitre.org/data/definitions/{cwe}.html",
            }
            for cwe in cwes
        ],
    }


def _code_flow(finding: Finding) -> dict[str, Any]:
    """The taint finding's flow as one SARIF thread flow, source first (columns 1-based)."""
    locations = []
    for step in finding.trace:
        region = {"startLine": int(step["line"]), "startColumn": int(step.get("column", 0)) + 1}
        locations.append(
            {
                "location": {
                    "physicalLocation": {
                        "artifactLocation": _artifact(finding.path),
                        "region": region,
                    },
                    "message": {"text": str(step.get("message") or "")},
                }
            }
        )
    source, sink = finding.trace[0], finding.trace[-1]
    text = f"{source.get('message')} (line {source['line']}) reaches line {sink['line']}"
    return {"message": {"text": text}, "threadFlows": [{"locations": locations}]}


def _result(finding: Finding, index: Mapping[str, int], taxa: Mapping[str, int]) -> dict[str, Any]:
    rid = rule_id(finding)
    result: dict[str, Any] = {
        "ruleId": rid,
        "ruleIndex": index[rid],
        "level": LEVELS[finding.severity],
        "message": {"text": finding.message or rid},
        "locations": [{"physicalLocation": _physical_location(finding)}],
        "baselineState": "unchanged" if finding.repeated else "new",
        "properties": _result_properties(finding),
    }
    if finding.fingerprint:
        result["partialFingerprints"] = partial_fingerprints(finding.fingerprint)
    if finding.id and _is_guid(finding.id):
        result["guid"] = str(finding.id)
    if finding.suppressed:
        result["suppressions"] = [_suppression(finding)]
    if finding.cwe:
        result["taxa"] = [_taxon_reference(_cwe_id(finding.cwe), taxa)]
    if finding.trace:
        result["codeFlows"] = [_code_flow(finding)]
    return result


def _artifact(path: str) -> dict[str, str]:
    return {"uri": quote(path, safe="/"), "uriBaseId": SRCROOT}


def _physical_location(finding: Finding) -> dict[str, Any]:
    region = {"startLine": finding.line, "endLine": finding.last_line}
    return {"artifactLocation": _artifact(finding.path), "region": region}


def _result_properties(finding: Finding) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "severity": finding.severity,
        "category": finding.category,
        "source": finding.source,
        "repeated": finding.repeated,
    }
    optional = {
        "tool": finding.tool,
        "suggestion": finding.suggestion,
        "onChangedLine": finding.on_changed_line,
        "firstSeenAnalysisId": finding.first_seen_analysis_id,
        "alsoReportedBy": list(finding.also_reported_by) or None,
        "cwe": finding.cwe,
        "owasp": finding.owasp,
    }
    properties.update({k: v for k, v in optional.items() if v is not None})
    return properties


def _suppression(finding: Finding) -> dict[str, Any]:
    # No status: the 2.1.0 schema of the committee specification calls it `state`, the
    # OASIS standard `status`; either way an absent value means "accepted".
    verdict = (finding.suppression or "dismissed").replace("_", " ")
    return {
        "kind": "external",
        "justification": f"A reviewer marked this finding {verdict} in an earlier analysis.",
    }


def _invocation(analysis: Mapping[str, Any]) -> dict[str, Any]:
    invocation: dict[str, Any] = {"executionSuccessful": analysis.get("status") == "completed"}
    for key, name in (("started_at", "startTimeUtc"), ("finished_at", "endTimeUtc")):
        if analysis.get(key) is not None:
            invocation[name] = _utc(analysis[key])
    notifications = [
        _skip_notification(s) for s in _coverage(analysis).get("analyzers_skipped", [])
    ]
    if analysis.get("error"):
        notifications.append({"level": "error", "message": {"text": str(analysis["error"])}})
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation


def _skip_notification(skip: Mapping[str, Any]) -> dict[str, Any]:
    reason = skip["reason"]
    text = (
        f"{skip['analyzer']} did not analyze {skip['path']}: {reason.get('text') or reason['code']}"
    )
    return {
        "level": "warning",
        "message": {"text": text},
        "descriptor": {"id": reason["code"]},
        "locations": [{"physicalLocation": {"artifactLocation": _artifact(skip["path"])}}],
    }


def _run_properties(analysis: Mapping[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {"coverage": _coverage(analysis)}
    for key, name in (("id", "analysisId"), ("project_id", "projectId"), ("status", "status")):
        if analysis.get(key) is not None:
            properties[name] = str(analysis[key])
    return properties


def _automation_details(analysis: Mapping[str, Any]) -> dict[str, str] | None:
    if analysis.get("id") is None:
        return None
    details = {"id": f"{TOOL_NAME}/{analysis['id']}"}
    if _is_guid(analysis["id"]):
        details["guid"] = str(analysis["id"])
    return details


def _coverage(analysis: Mapping[str, Any]) -> dict[str, Any]:
    coverage = analysis.get("coverage") or {}
    return dict(json.loads(coverage) if isinstance(coverage, str | bytes) else coverage)


def _is_guid(value: object) -> bool:
    # SARIF's GUID pattern admits UUID versions 1-5 only (a UUIDv7 id is left out).
    return _GUID.fullmatch(str(value)) is not None


def _utc(value: object) -> str:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return str(value)
