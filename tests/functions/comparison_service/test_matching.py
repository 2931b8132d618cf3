"""matching: base vs head by fingerprint, and benchmark scoring against expected findings."""

from __future__ import annotations

from functions.comparison_service import matching


def finding(path: str, line: int, *, rule: str = "B101", category: str = "security", **extra):
    return {
        "path": path,
        "line": line,
        "end_line": extra.pop("end_line", line),
        "rule": rule,
        "category": category,
        "message": extra.pop("message", "m"),
        **extra,
    }


def test_diff_splits_new_fixed_and_unchanged_by_fingerprint() -> None:
    base = [finding("a.py", 1, fingerprint="f1"), finding("a.py", 9, fingerprint="f2")]
    head = [finding("a.py", 40, fingerprint="f2"), finding("b.py", 3, fingerprint="f3")]
    changes = matching.diff(base, head)
    assert [f["fingerprint"] for f in changes["new"]] == ["f3"]
    assert [f["fingerprint"] for f in changes["fixed"]] == ["f1"]
    assert [(f["fingerprint"], f["line"]) for f in changes["unchanged"]] == [("f2", 40)], (
        "a moved finding is unchanged, reported at its head position"
    )


def test_repeated_fingerprints_are_matched_as_a_multiset() -> None:
    base = [finding("a.py", 1, fingerprint="same")]
    head = [finding("a.py", 1, fingerprint="same"), finding("a.py", 2, fingerprint="same")]
    changes = matching.diff(base, head)
    assert (len(changes["unchanged"]), len(changes["new"]), len(changes["fixed"])) == (1, 1, 0)


def test_findings_without_a_fingerprint_fall_back_to_path_rule_and_message() -> None:
    base = [finding("./a.py", 1, message="eval")]
    head = [finding("a.py", 7, message="eval")]
    assert len(matching.diff(base, head)["unchanged"]) == 1


def test_benchmark_scores_precision_recall_and_f1_with_the_pairs() -> None:
    found = [finding("a.py", 10), finding("a.py", 50), finding("b.py", 5, rule="E1")]
    expected = [{"path": "a.py", "line": 12}, {"path": "b.py", "rule": "e1"}, {"path": "c.py"}]
    scores = matching.benchmark(expected, found, tolerance=3)
    assert [(m["expected"]["path"], m["finding"]["line"]) for m in scores["matched"]] == [
        ("a.py", 10),
        ("b.py", 5),
    ]
    assert scores["missed"] == [{"path": "c.py"}]
    assert [f["line"] for f in scores["unexpected"]] == [50]
    assert (scores["precision"], scores["recall"]) == (2 / 3, 2 / 3)
    assert abs(scores["f1"] - 2 / 3) < 1e-12


def test_benchmark_lines_beyond_the_tolerance_or_other_categories_do_not_match() -> None:
    found = [finding("a.py", 10, end_line=12)]
    assert matching.benchmark([{"path": "a.py", "line": 15}], found, tolerance=3)["matched"]
    assert not matching.benchmark([{"path": "a.py", "line": 16}], found, tolerance=3)["matched"]
    assert not matching.benchmark([{"path": "a.py", "category": "style"}], found)["matched"]


def test_benchmark_pairs_greedily_closest_first_and_one_to_one() -> None:
    found = [finding("a.py", 10), finding("a.py", 12)]
    expected = [{"path": "a.py", "line": 11}, {"path": "a.py", "line": 12}]
    pairs = matching.benchmark(expected, found)["matched"]
    assert [(p["expected"]["line"], p["finding"]["line"]) for p in pairs] == [(11, 10), (12, 12)]


def test_benchmark_of_nothing_against_nothing_is_perfect_and_of_nothing_found_recalls_zero() -> (
    None
):
    empty = matching.benchmark([], [])
    assert (empty["precision"], empty["recall"]) == (1.0, 1.0)
    none_found = matching.benchmark([{"path": "a.py"}], [])
    assert (none_found["recall"], none_found["f1"]) == (0.0, 0.0)
