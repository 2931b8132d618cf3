"""The findings schema: strict-mode compatible, validated, thresholded."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from functions.ai_orchestrator.findings import Finding, ReviewOutput, at_or_above, review_schema
from tests.fakes.openai_api import strict_schema_problem


def objects(node: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(node, dict):
        if node.get("type") == "object":
            found.append(node)
        for value in node.values():
            found += objects(value)
    elif isinstance(node, list):
        for item in node:
            found += objects(item)
    return found


def test_the_schema_closes_every_object_and_requires_every_property() -> None:
    schema = review_schema()
    assert strict_schema_problem(schema, ()) is None
    assert len(objects(schema)) == 2
    finding = schema["properties"]["findings"]["items"]
    static_only = ("cwe", "owasp", "trace")  # the taint engine's, not asked of models
    assert finding["required"] == [f for f in Finding.model_fields if f not in static_only]
    assert finding["properties"]["suggestion"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert "$defs" not in schema and "$ref" not in str(schema)


def test_end_line_before_line_is_rejected() -> None:
    with pytest.raises(ValidationError, match="end_line 3 is before line 5"):
        Finding(path="a", line=5, end_line=3, severity="low", category="bug", rule="r", message="m")


def test_unknown_severity_and_extra_keys_are_rejected() -> None:
    base = {"path": "a", "line": 1, "end_line": 1, "category": "bug", "rule": "r", "message": "m"}
    with pytest.raises(ValidationError):
        ReviewOutput.model_validate({"findings": [{**base, "severity": "urgent"}]})
    with pytest.raises(ValidationError):
        ReviewOutput.model_validate({"findings": [{**base, "severity": "low", "extra": 1}]})


def test_at_or_above_keeps_the_threshold_and_more_severe() -> None:
    def make(severity: Any) -> Finding:
        return Finding(
            path="a", line=1, end_line=1, severity=severity, category="bug", rule="r", message="m"
        )

    every = [make(s) for s in ("info", "low", "medium", "high", "critical")]
    assert [f.severity for f in at_or_above(every, "medium")] == ["medium", "high", "critical"]
    assert len(at_or_above(every, "info")) == 5
