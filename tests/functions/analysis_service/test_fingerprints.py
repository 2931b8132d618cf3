"""Finding fingerprints: stable across line shifts and formatting, distinct across code and rule."""

from __future__ import annotations

import hashlib

import pytest

from functions.analysis_service.fingerprints import (
    SARIF_KEY,
    fingerprint,
    normalize_code,
    number_occurrences,
    partial_fingerprints,
    rule_key,
)

SOURCE = [
    "import subprocess",
    "",
    "def run(cmd):",
    "    subprocess.call(cmd, shell=True)",
    "    return eval(cmd)",
]


def _fingerprint_at(lines: list[str], line: int, rule: str = "B602") -> str:
    return fingerprint("app/run.py", lines[line - 1], rule_key(rule, "security"))


def test_the_recipe_is_exactly_the_documented_one() -> None:
    # Stored suppressions depend on this value: changing the recipe needs a new scheme tag.
    expected = hashlib.sha256(
        "\x1f".join(
            ["acr/v1", "app/run.py", "rule:b602", "subprocess.call(cmd,shell=True)"]
        ).encode()
    ).hexdigest()
    assert _fingerprint_at(SOURCE, 4) == expected


def test_fingerprint_survives_lines_inserted_above() -> None:
    shifted = ["# header", '"""Docstring."""', "", *SOURCE]
    assert _fingerprint_at(shifted, 7) == _fingerprint_at(SOURCE, 4)
    assert number_occurrences([(_fingerprint_at(shifted, 7), 7)]) == [_fingerprint_at(SOURCE, 4)]


@pytest.mark.parametrize(
    "variant",
    [
        "subprocess.call(cmd, shell=True)",
        "        subprocess.call(cmd, shell=True)",
        "\tsubprocess.call( cmd,  shell = True )  ",
        "    subprocess.call(cmd, shell=True)\r",
    ],
)
def test_whitespace_and_indentation_do_not_change_the_fingerprint(variant: str) -> None:
    assert fingerprint("app/run.py", variant, "rule:B602") == _fingerprint_at(SOURCE, 4)


@pytest.mark.parametrize(
    ("path", "code", "key"),
    [
        ("app/run.py", "    subprocess.call(cmd, shell=False)", "rule:b602"),
        ("app/run.py", "    subprocess.call(cmd, shell=True)", "rule:b603"),
        ("app/run.py", "    subprocess.call(cmd, shell=True)", "category:security"),
        ("app/other.py", "    subprocess.call(cmd, shell=True)", "rule:b602"),
        ("app/run.py", "    subprocess.call(CMD, shell=True)", "rule:b602"),
        ("app/run.py", "    subprocess.call(cmd, shell=True)  # noqa", "rule:b602"),
    ],
)
def test_fingerprint_changes_with_path_code_case_comment_or_rule(
    path: str, code: str, key: str
) -> None:
    assert fingerprint(path, code, key) != _fingerprint_at(SOURCE, 4)


def test_rule_ids_compare_case_insensitively_and_paths_normalize() -> None:
    base = _fingerprint_at(SOURCE, 4)
    assert fingerprint("./app/run.py", SOURCE[3], "RULE:B602") == base
    assert fingerprint("app\\run.py", SOURCE[3], rule_key(" b602 ", "other")) == base


@pytest.mark.parametrize(
    ("rule", "category", "key"),
    [
        ("B602", "security", "rule:b602"),
        (None, "Security", "category:security"),
        ("", "bug", "category:bug"),
        ("  ", "bug", "category:bug"),
    ],
)
def test_rule_key_prefers_the_rule_and_falls_back_to_the_category(
    rule: str | None, category: str, key: str
) -> None:
    assert rule_key(rule, category) == key


def test_a_rule_and_a_category_of_the_same_name_do_not_collide() -> None:
    code = SOURCE[3]
    assert fingerprint("a.py", code, rule_key("security", "x")) != fingerprint(
        "a.py", code, rule_key(None, "security")
    )


def test_context_lines_take_part_when_given() -> None:
    plain = fingerprint("a.py", "x = 1", "category:bug")
    with_context = fingerprint("a.py", "x = 1", "category:bug", context_lines=["y = 2"])
    assert plain != with_context
    assert with_context == fingerprint("a.py", "x=1", "category:bug", context_lines=["  y=2"])
    assert with_context != fingerprint("a.py", "x = 1", "category:bug", context_lines=["y = 3"])


def test_normalize_code_removes_all_whitespace_and_composes_unicode() -> None:
    assert normalize_code("  a =\tb\u00a0+ c\n") == "a=b+c"
    assert normalize_code("cafe\u0301") == normalize_code("caf\u00e9")


def test_identical_findings_get_distinct_numbered_fingerprints_by_line() -> None:
    items = [("f" * 64, 30), ("e" * 64, 5), ("f" * 64, 10), ("f" * 64, 20)]
    assert number_occurrences(items) == ["f" * 64 + ":3", "e" * 64, "f" * 64, "f" * 64 + ":2"]


def test_occurrence_numbering_does_not_depend_on_report_order() -> None:
    items = [("a", 9), ("a", 3), ("b", 3), ("a", 6)]
    by_line = dict(zip(items, number_occurrences(items), strict=True))
    reordered = list(reversed(items))
    assert dict(zip(reordered, number_occurrences(reordered), strict=True)) == by_line


def test_same_line_duplicates_are_numbered_in_input_order() -> None:
    assert number_occurrences([("a", 4), ("a", 4)]) == ["a", "a:2"]


def test_partial_fingerprints_use_the_versioned_sarif_key() -> None:
    assert partial_fingerprints("abc") == {"acrFingerprint/v1": "abc"}
    assert SARIF_KEY == "acrFingerprint/v1"
