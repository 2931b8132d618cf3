"""Coverage: what an analysis reviewed, clipped or skipped, and why, as stable JSON."""

from __future__ import annotations

import json

import pytest

from functions.analysis_service.coverage import Coverage, Reason


def _sample() -> Coverage:
    coverage = Coverage()
    coverage.analyzer_ran("ruff")
    coverage.analyzer_ran("ai")
    coverage.hunk_reviewed("app.py", 1, 10)
    coverage.hunk_reviewed("app.py", 40, 45)
    coverage.hunk_reviewed("new_syntax.py", 1, 5)
    coverage.analyzer_skipped(
        "ruff", "new_syntax.py", Reason.parse_error("ruff", "invalid syntax at 3:1")
    )
    coverage.hunk_reviewed("big.py", 1, 20)
    coverage.hunk_clipped(
        "big.py", 30, 90, reviewed_end=49, reason=Reason("over_token_budget", "budget 8000")
    )
    coverage.hunk_skipped("huge.py", 1, 900, Reason("over_token_budget", "budget 8000"))
    coverage.skip_file("logo.png", Reason("binary", "binary file"))
    coverage.skip_file("legacy.py", Reason("deleted", "file deleted"))
    coverage.add_file("README.md")
    return coverage


def test_coverage_dict_has_the_documented_shape() -> None:
    data = _sample().to_dict()
    assert set(data) == {
        "version",
        "complete",
        "analyzers",
        "files",
        "hunks",
        "analyzers_skipped",
        "totals",
    }
    assert (data["version"], data["complete"], data["analyzers"]) == (1, False, ["ai", "ruff"])
    json.dumps(data)  # storable as jsonb as is


@pytest.mark.parametrize(
    ("path", "status", "codes"),
    [
        ("README.md", "reviewed", []),
        ("app.py", "reviewed", []),
        ("big.py", "partial", ["over_token_budget"]),
        ("huge.py", "skipped", ["over_token_budget"]),
        ("legacy.py", "skipped", ["deleted"]),
        ("logo.png", "skipped", ["binary"]),
        ("new_syntax.py", "partial", ["parse_error:ruff"]),
    ],
)
def test_each_file_has_a_status_and_coded_reasons(path: str, status: str, codes: list[str]) -> None:
    files = {f["path"]: f for f in _sample().to_dict()["files"]}
    assert files[path]["status"] == status
    assert [r["code"] for r in files[path]["reasons"]] == codes


def test_files_are_sorted_by_path() -> None:
    paths = [f["path"] for f in _sample().to_dict()["files"]]
    assert paths == sorted(paths)


def test_a_file_one_analyzer_cannot_parse_is_named_with_the_analyzer() -> None:
    data = _sample().to_dict()
    assert data["analyzers_skipped"] == [
        {
            "analyzer": "ruff",
            "path": "new_syntax.py",
            "reason": {"code": "parse_error:ruff", "text": "invalid syntax at 3:1"},
        }
    ]


def test_hunks_list_status_reason_and_clip_point() -> None:
    hunks = _sample().to_dict()["hunks"]
    clipped = next(h for h in hunks if h["status"] == "clipped")
    assert clipped == {
        "path": "big.py",
        "start": 30,
        "end": 90,
        "status": "clipped",
        "reason": {"code": "over_token_budget", "text": "budget 8000"},
        "reviewed_end": 49,
    }
    reviewed = next(h for h in hunks if h["path"] == "app.py")
    assert reviewed == {
        "path": "app.py",
        "start": 1,
        "end": 10,
        "status": "reviewed",
        "reason": None,
    }


def test_totals_count_files_hunks_and_lines() -> None:
    assert _sample().to_dict()["totals"] == {
        "files": {"total": 7, "reviewed": 2, "partial": 2, "skipped": 3},
        "hunks": {"total": 6, "reviewed": 4, "clipped": 1, "skipped": 1},
        "lines": {"total": 10 + 6 + 5 + 20 + 61 + 900, "reviewed": 10 + 6 + 5 + 20 + 20},
    }


def test_everything_reviewed_is_complete() -> None:
    coverage = Coverage()
    coverage.hunk_reviewed("a.py", 1, 3)
    coverage.add_file("b.py")
    data = coverage.to_dict()
    assert data["complete"] is True
    assert [f["status"] for f in data["files"]] == ["reviewed", "reviewed"]


def test_recording_a_hunk_twice_keeps_the_last_record() -> None:
    coverage = Coverage()
    coverage.hunk_skipped("a.py", 1, 3, Reason("over_token_budget"))
    coverage.hunk_reviewed("a.py", 1, 3)
    data = coverage.to_dict()
    assert data["totals"]["hunks"] == {"total": 1, "reviewed": 1, "clipped": 0, "skipped": 0}
    assert data["files"][0]["status"] == "reviewed"


def test_round_trip_through_the_dict_is_lossless() -> None:
    data = _sample().to_dict()
    assert Coverage.from_dict(json.loads(json.dumps(data))).to_dict() == data


def test_update_folds_a_resumed_chunk_into_the_total() -> None:
    first, second = Coverage(), Coverage()
    first.hunk_reviewed("a.py", 1, 3)
    second.skip_file("b.bin", Reason("binary"))
    second.analyzer_skipped("bandit", "a.py", Reason.parse_error("bandit"))
    first.update(second)
    assert {f["path"]: f["status"] for f in first.to_dict()["files"]} == {
        "a.py": "partial",
        "b.bin": "skipped",
    }


@pytest.mark.parametrize("code", ["", "nope", "parse_error:", "PARSE_ERROR:ruff"])
def test_unknown_reason_codes_are_refused(code: str) -> None:
    with pytest.raises(ValueError, match="reason code"):
        Reason(code)


@pytest.mark.parametrize(("start", "end"), [(0, 3), (5, 4), (-1, -1)])
def test_hunks_must_be_line_ranges(start: int, end: int) -> None:
    with pytest.raises(ValueError, match="not a line range"):
        Coverage().hunk_reviewed("a.py", start, end)


@pytest.mark.parametrize("reviewed_end", [29, 90, 100])
def test_a_clip_point_must_fall_inside_the_hunk(reviewed_end: int) -> None:
    with pytest.raises(ValueError, match=f"cannot end at {reviewed_end}"):
        Coverage().hunk_clipped(
            "a.py", 30, 90, reviewed_end=reviewed_end, reason=Reason("over_token_budget")
        )
