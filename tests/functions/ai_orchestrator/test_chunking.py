"""Chunking keeps every line exactly once with its number, within the token budget."""

from __future__ import annotations

import random
import string

import pytest

from functions.ai_orchestrator import chunking
from functions.ai_orchestrator.findings import Finding
from shared.token_count import estimate_tokens


def random_text(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(0, 120)):
        kind = rng.random()
        if kind < 0.15:
            lines.append("")
        elif kind < 0.25:
            lines.append(f"def f{rng.randint(0, 99)}(x):")
        else:
            indent = " " * rng.choice((0, 4, 8))
            alphabet = string.ascii_letters + string.digits + " ()[]{}=+-*/.,:'\"#"
            lines.append(indent + "".join(rng.choices(alphabet, k=rng.randint(1, 90))))
    return "\n".join(lines) + ("\n" if rng.random() < 0.5 else "")


@pytest.mark.parametrize("seed", range(40))
def test_split_keeps_every_line_once_with_its_number_within_budget(seed: int) -> None:
    rng = random.Random(seed)
    text = random_text(rng)
    budget = rng.choice((30, 80, 200, 1000))

    chunks = chunking.split("src/m.py", text, budget=budget)

    original = text.splitlines()
    rebuilt = [line for chunk in chunks for line in chunk.lines]
    assert rebuilt == original, f"seed {seed}: lines lost, duplicated or reordered"
    expected_start = 1
    for chunk in chunks:
        assert chunk.start_line == expected_start, f"seed {seed}: gap before {chunk.id}"
        assert chunk.end_line == chunk.start_line + len(chunk.lines) - 1
        assert chunk.lines == tuple(original[chunk.start_line - 1 : chunk.end_line])
        assert chunk.total_lines == len(original)
        if len(chunk.lines) > 1:
            tokens = estimate_tokens(chunk.numbered())
            assert tokens <= budget, f"seed {seed}: {chunk.id} has {tokens} > {budget} tokens"
        expected_start = chunk.end_line + 1


def test_a_line_larger_than_the_budget_is_a_chunk_of_its_own() -> None:
    text = "a = 1\n" + "x" * 400 + "\nb = 2\n"
    chunks = chunking.split("big.py", text, budget=20)
    assert [(c.start_line, c.end_line) for c in chunks] == [(1, 1), (2, 2), (3, 3)]


def test_split_prefers_cutting_before_a_top_level_definition() -> None:
    body = ["    value = compute(value, other, third)"] * 6
    lines = ["def first(value):", *body, "def second(value):", *body, "    return value"]
    budget = sum(estimate_tokens(f"{n}| {line}") + 1 for n, line in enumerate(lines, 1))
    chunks = chunking.split("m.py", "\n".join(lines), budget=budget - 5)
    assert chunks[1].lines[0] == "def second(value):", [c.id for c in chunks]


def test_numbered_prefixes_each_line_with_its_real_number() -> None:
    chunk = chunking.from_hunks("a.js", [(98, ["x();", "y();", "z();"])], budget=100)[0]
    assert chunk.numbered() == " 98| x();\n 99| y();\n100| z();"
    assert (chunk.language, chunk.total_lines, chunk.is_whole_file) == ("javascript", None, False)


def test_from_hunks_never_spans_the_gap_between_hunks() -> None:
    chunks = chunking.from_hunks("a.go", [(40, ["c", "d"]), (3, ["a", "b"])], budget=1000)
    assert [(c.start_line, c.end_line, c.lines) for c in chunks] == [
        (3, 4, ("a", "b")),
        (40, 41, ("c", "d")),
    ]


def test_clip_drops_findings_outside_the_chunk_and_cuts_their_end() -> None:
    chunk = chunking.from_hunks("p.py", [(10, ["a", "b", "c"])], budget=100)[0]

    def finding(line: int, end_line: int) -> Finding:
        return Finding(
            path="other.py",
            line=line,
            end_line=end_line,
            severity="low",
            category="bug",
            rule="r",
            message="m",
        )

    kept = chunking.clip([finding(9, 10), finding(10, 10), finding(12, 30), finding(13, 13)], chunk)

    assert [(f.path, f.line, f.end_line) for f in kept] == [("p.py", 10, 10), ("p.py", 12, 12)]


def test_a_zero_budget_is_refused() -> None:
    with pytest.raises(ValueError, match="budget 0"):
        chunking.split("a.py", "x", budget=0)


@pytest.mark.parametrize(
    ("path", "language"),
    [("a/b.py", "python"), ("x.TS", "typescript"), ("Dockerfile", "dockerfile"), ("n", "text")],
)
def test_language_comes_from_the_path(path: str, language: str) -> None:
    assert chunking.language_for(path) == language
