"""Review prompts render the chunk with its line numbers; costs are estimated exactly."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from functions.ai_orchestrator import chunking, prompts


def test_render_fills_the_placeholders_with_the_numbered_code() -> None:
    chunk = chunking.from_hunks("web/app.js", [(7, ["let a = {b: 1};"])], budget=100)[0]
    config = prompts.ReviewConfig(
        prompt_template="{language} {path} {start_line}-{end_line}\n{code}"
    )

    system, user = prompts.render(config, chunk)

    assert system == prompts.SYSTEM_PROMPT
    assert user == "javascript web/app.js 7-7\n7| let a = {b: 1};"


def test_placeholders_inside_the_code_are_left_alone() -> None:
    chunk = chunking.from_hunks("a.py", [(1, ["s = '{path}'"])], budget=100)[0]
    _, user = prompts.render(prompts.DEFAULT, chunk)
    assert "1| s = '{path}'" in user and "Path: a.py" in user


def test_a_template_without_code_is_rejected() -> None:
    with pytest.raises(ValidationError, match=r"\{code\}"):
        prompts.ReviewConfig(prompt_template="Review {path}")


def test_estimate_input_tokens_covers_messages_and_schema() -> None:
    chunk = chunking.split("a.py", "x = 1\n" * 50, budget=10_000)[0]
    system, user = prompts.render(prompts.DEFAULT, chunk)
    tokens = prompts.estimate_input_tokens(prompts.DEFAULT, chunk)
    assert tokens > prompts.estimate_tokens(system) + prompts.estimate_tokens(user) + 100
