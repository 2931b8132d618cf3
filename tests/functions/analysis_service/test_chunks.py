"""chunks: budgeted whole-line chunks with stable ids, and diff plans in new-file numbers."""

from __future__ import annotations

from functions.analysis_service import chunks


def test_split_keeps_every_line_once_with_its_number_and_respects_the_budget() -> None:
    lines = [f"value_{i} = compute({i})" for i in range(40)]
    cut = chunks.split("a.py", "python", 1, lines, budget=60)
    assert [line for c in cut for line in c.lines] == lines
    assert [c.start_line for c in cut][0] == 1 and cut[-1].end_line == 40
    assert all(c.start_line == p.end_line + 1 for p, c in zip(cut, cut[1:], strict=False))
    assert len(cut) > 1, "40 lines cannot fit a budget of 60 tokens"


def test_a_line_over_the_budget_is_a_chunk_of_its_own() -> None:
    cut = chunks.split("a.py", "python", 7, ["x" * 4000, "y = 1"], budget=10)
    assert [(c.start_line, c.end_line) for c in cut] == [(7, 7), (8, 8)]


def test_chunk_ids_are_stable_and_long_paths_are_hashed_to_fit_200_characters() -> None:
    short = chunks.ReviewChunk("src/a.py", "python", 3, ("a", "b"))
    assert short.id == "src/a.py#3-4"
    long_path = "d/" * 150 + "x.py"
    hashed = chunks.ReviewChunk(long_path, "python", 1, ("a",))
    assert len(hashed.id) <= 200 and hashed.id.startswith("sha256:")
    assert hashed.id == chunks.ReviewChunk(long_path, "python", 1, ("z",)).id


def test_a_diff_plan_skips_deleted_files_and_unknown_languages() -> None:
    text = (
        "diff --git a/old.py b/old.py\ndeleted file mode 100644\n--- a/old.py\n+++ /dev/null\n"
        "@@ -1 +0,0 @@\n-gone\n"
        "diff --git a/LICENSE b/LICENSE\n--- a/LICENSE\n+++ b/LICENSE\n@@ -1 +1 @@\n-a\n+b\n"
        "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -10,2 +10,3 @@\n a\n+b\n c\n"
    )
    plan = chunks.plan_diff(text, budget=1000, context=3, max_files=10)
    assert [(c.path, c.start_line, c.lines) for c in plan.chunks] == [("x.py", 10, ("a", "b", "c"))]
    assert plan.changed == {"x.py": {11}}
    files = {f["path"]: f for f in plan.coverage.to_dict()["files"]}
    assert files["old.py"]["reasons"][0]["code"] == "deleted"
    assert files["LICENSE"]["reasons"][0]["code"] == "unsupported_language"
    assert plan.line_text("x.py", 11) == "b"


def test_a_snapshot_chunk_of_a_split_file_knows_the_whole_file_a_diff_chunk_does_not() -> None:
    plan = chunks.Plan()
    lines = [f"line_{n} = {n}" for n in range(1, 41)]
    chunks._plan_file(plan, "a.py", "python", ("\n".join(lines) + "\n").encode(), budget=60)
    assert len(plan.chunks) > 1
    assert all(plan.file_text(chunk) == "\n".join(lines) + "\n" for chunk in plan.chunks)

    whole = chunks.Plan()
    chunks._plan_file(whole, "b.py", "python", b"x = 1\n", budget=1000)
    assert whole.file_text(whole.chunks[0]) is None, "a whole-file chunk needs no copy"

    diff = chunks.plan_diff(
        "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -10,2 +10,3 @@\n a\n+b\n c\n",
        budget=1000,
        context=3,
        max_files=10,
    )
    assert diff.file_text(diff.chunks[0]) is None, "a diff knows only the changed regions"
