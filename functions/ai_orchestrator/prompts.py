"""prompts holds the review configuration, renders its prompts and estimates a call's cost."""

from __future__ import annotations

import functools
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from functions.ai_orchestrator.chunking import Chunk
from functions.ai_orchestrator.findings import Severity, review_schema
from shared.token_count import estimate_tokens

__all__ = [
    "DEFAULT",
    "ReviewConfig",
    "estimate_input_tokens",
    "estimate_tokens",
    "render",
]

# "style" is not on by default: it adds pure style and low-signal checks (ruff's unused
# imports and variables, import layout, bare except; bandit's assert and except-pass).
Analyzer = Literal["bandit", "ruff", "secrets", "rules", "taint", "style"]
# Chat formats wrap each message in a few framing tokens.
MESSAGE_OVERHEAD_TOKENS = 4

SYSTEM_PROMPT = (
    "You are a meticulous senior code reviewer. Report only real problems: security "
    "vulnerabilities, leaked secrets, bugs, performance traps, and maintainability issues "
    "worth a reviewer's comment. Every code line you are shown starts with its line number "
    "and a '|'; cite those exact numbers in `line` and `end_line`, and never cite a line "
    "you were not shown. Use a short rule id (e.g. sql-injection), one sentence of message, "
    "and a concrete suggestion when you have one (otherwise null). Report nothing rather "
    "than guess: an empty findings list is a good answer for clean code."
)
USER_TEMPLATE = (
    "Review this {language} code.\nPath: {path}\nLines: {start_line}-{end_line}\n\n{code}\n"
)


class ReviewConfig(BaseModel):
    """How a review is run: prompts, sampling, output size, filtering and analyzers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    system_prompt: str = SYSTEM_PROMPT
    prompt_template: str = USER_TEMPLATE
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    max_output_tokens: int = Field(default=2048, ge=64, le=32_768)
    severity_threshold: Severity = "info"
    token_budget: int = Field(default=3000, ge=50, le=200_000)
    analyzers: tuple[Analyzer, ...] = ("bandit", "ruff", "secrets", "rules", "taint")
    # Sent to OpenAI as ``reasoning_effort`` (reasoning models); Anthropic's extended
    # thinking cannot be combined with the forced tool call of a review, so it is not sent.
    reasoning_effort: Literal["low", "medium", "high"] | None = None

    @field_validator("prompt_template")
    @classmethod
    def _has_code(cls, template: str) -> str:
        if "{code}" not in template:
            raise ValueError("prompt_template must contain the {code} placeholder")
        return template


DEFAULT = ReviewConfig()


def render(config: ReviewConfig, chunk: Chunk) -> tuple[str, str]:
    """The ``(system, user)`` messages reviewing ``chunk`` under ``config``.

    Placeholders are replaced literally (not ``str.format``), so braces in a template or
    in the code need no escaping.
    """
    values = {
        "{path}": chunk.path,
        "{language}": chunk.language,
        "{start_line}": str(chunk.start_line),
        "{end_line}": str(chunk.end_line),
    }
    head, _, tail = config.prompt_template.partition("{code}")
    for placeholder, value in values.items():
        head, tail = head.replace(placeholder, value), tail.replace(placeholder, value)
    return config.system_prompt, head + chunk.numbered() + tail


def estimate_input_tokens(config: ReviewConfig, chunk: Chunk) -> int:
    """Input tokens of a review call: both messages plus the output schema sent with them."""
    system, user = render(config, chunk)
    return (
        estimate_tokens(system)
        + estimate_tokens(user)
        + _schema_tokens()
        + 2 * MESSAGE_OVERHEAD_TOKENS
    )


@functools.cache
def _schema_tokens() -> int:
    return estimate_tokens(json.dumps(review_schema(), separators=(",", ":")))
