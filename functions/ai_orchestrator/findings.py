"""findings defines what a review returns and the JSON schema the models are asked to fill."""

from __future__ import annotations

import copy
import functools
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

Severity = Literal["critical", "high", "medium", "low", "info"]
Category = Literal[
    "security",
    "secrets",
    "bug",
    "performance",
    "maintainability",
    "style",
    "documentation",
    "testing",
]
SEVERITIES: tuple[str, ...] = get_args(Severity)
# Higher rank = more severe; thresholds compare ranks.
SEVERITY_RANK = {name: len(SEVERITIES) - index for index, name in enumerate(SEVERITIES)}


class TraceStep(BaseModel):
    """One step of a data flow from its source to its sink (line 1-based, column 0-based)."""

    model_config = ConfigDict(extra="forbid")

    line: int = Field(ge=1)
    column: int = Field(0, ge=0)
    message: str


# Filled by the local reviewer's taint engine; not part of what models are asked to answer.
STATIC_ONLY_FIELDS = ("cwe", "owasp", "trace")


class Finding(BaseModel):
    """One problem at an exact line range of one file.

    ``cwe`` (``CWE-89``), ``owasp`` (``A03:2021-Injection``) and ``trace`` (source to sink)
    come with security findings of the local reviewer; the models' schema leaves them out.
    """

    model_config = ConfigDict(extra="forbid")

    path: str
    line: int = Field(ge=1)
    end_line: int = Field(ge=1)
    severity: Severity
    category: Category
    rule: str = Field(min_length=1)
    message: str = Field(min_length=1)
    suggestion: str | None = None
    cwe: str | None = Field(None, pattern=r"^CWE-[0-9]{1,5}$")
    owasp: str | None = Field(None, max_length=100)
    trace: list[TraceStep] | None = None

    @model_validator(mode="after")
    def _end_not_before_start(self) -> Finding:
        if self.end_line < self.line:
            raise ValueError(f"end_line {self.end_line} is before line {self.line}")
        return self


class ReviewOutput(BaseModel):
    """What a model must answer: the findings of one chunk."""

    model_config = ConfigDict(extra="forbid")

    findings: list[Finding]


def at_or_above(findings: list[Finding], threshold: Severity) -> list[Finding]:
    """The findings whose severity is ``threshold`` or more severe."""
    floor = SEVERITY_RANK[threshold]
    return [finding for finding in findings if SEVERITY_RANK[finding.severity] >= floor]


@functools.cache
def review_schema() -> dict[str, Any]:
    """``ReviewOutput``'s JSON schema in the form OpenAI's strict structured output accepts.

    Strict mode wants every object closed (``additionalProperties: false``) with every
    property required (optional ones are nullable instead), and no ``title``, ``default``
    or string length keywords (pydantic still enforces those when parsing the answer).
    The same schema is Anthropic's ``report_findings`` tool input schema. Built once per
    process (pydantic's schema generation cost ~10% of a review call): callers put it in
    request bodies and must not change it.
    """
    schema = ReviewOutput.model_json_schema()
    definitions = schema.pop("$defs", {})
    definitions.pop("TraceStep", None)
    for name in STATIC_ONLY_FIELDS:
        definitions["Finding"]["properties"].pop(name, None)
    strict: dict[str, Any] = _strict(_inline(schema, definitions))
    return strict


def _inline(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        reference = node.get("$ref")
        if isinstance(reference, str):
            target = definitions[reference.rsplit("/", 1)[-1]]
            return _inline(copy.deepcopy(target), definitions)
        return {key: _inline(value, definitions) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, definitions) for item in node]
    return node


_UNSUPPORTED = frozenset({"title", "default", "minLength", "maxLength"})


def _strict(node: Any) -> Any:
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    cleaned = {key: _strict(value) for key, value in node.items() if key not in _UNSUPPORTED}
    if cleaned.get("type") == "object":
        properties = {name: _strict(value) for name, value in node.get("properties", {}).items()}
        cleaned["properties"] = properties
        cleaned["additionalProperties"] = False
        cleaned["required"] = list(properties)
    return cleaned
