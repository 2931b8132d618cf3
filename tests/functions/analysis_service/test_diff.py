"""Unified diff parsing: files, statuses, exact new-file line numbers, regions, hostile input."""

from __future__ import annotations

import pytest

from functions.analysis_service.diff import (
    DiffError,
    DiffLine,
    FileDiff,
    changed_lines,
    parse_diff,
    review_regions,
)

# Produced by `git diff --cached -M` on a real repository (git 2.x).
REAL_DIFF = """\
diff --git a/app.py b/app.py
index c2e1364..98b21be 100644
--- a/app.py
+++ b/app.py
@@ -1,8 +1,10 @@
 import os
+import subprocess
 
 
 def main():
     print("hi")
+    subprocess.call(input(), shell=True)
     return 0
 
 
diff --git a/eof.txt b/eof.txt
index eeed123..418f7b6 100644
--- a/eof.txt
+++ b/eof.txt
@@ -1 +1,2 @@
-tail
\\ No newline at end of file
+tail
+more
\\ No newline at end of file
diff --git a/util.py b/helpers.py
similarity index 87%
rename from util.py
rename to helpers.py
index 71ac1b5..797b965 100644
--- a/util.py
+++ b/helpers.py
@@ -1,7 +1,7 @@
 a
 b
 c
-d
+D
 e
 f
 g
diff --git a/legacy.py b/legacy.py
deleted file mode 100644
index ca896f6..0000000
--- a/legacy.py
+++ /dev/null
@@ -1,2 +0,0 @@
-def old():
-    return 1
diff --git a/logo.png b/logo.png
index 45a21f1..7aa1c33 100644
Binary files a/logo.png and b/logo.png differ
diff --git a/new_mod.py b/new_mod.py
new file mode 100644
index 0000000..314ffa0
--- /dev/null
+++ b/new_mod.py
@@ -0,0 +1,3 @@
+NEW
+x = 1
+y = 2
diff --git a/notes.txt b/notes.txt
index f696b4b..c0e6a15 100644
--- a/notes.txt
+++ b/notes.txt
@@ -1,13 +1,12 @@
 line1
 line2
-line3
+LINE3
 line4
 line5
 line6
 line7
 line8
 line9
-line10
 line11
 line12
 line13
@@ -15,6 +14,6 @@ line14
 line15
 line16
 line17
-line18
+line18 changed
 line19
 line20
"""

BINARY_PATCH = """\
diff --git a/logo.png b/logo.png
index 45a21f14508d7b08cb5cbeb662de2364b6f90584..7aa1c336e4ce7ac3fd279e80fd94118984c3f581 100644
GIT binary patch
literal 10
RcmeAS@N?(olHy`y0ssx40j&T4

literal 10
RcmeAS@N?(olHy`u000e}0jdB1

diff --git a/b.py b/b.py
--- a/b.py
+++ b/b.py
@@ -1 +1 @@
-x
+y
"""


@pytest.fixture(scope="module")
def files() -> dict[str, FileDiff]:
    return {f.path: f for f in parse_diff(REAL_DIFF)}


def test_a_real_git_diff_yields_every_file_in_order() -> None:
    paths = [f.path for f in parse_diff(REAL_DIFF)]
    assert paths == [
        "app.py",
        "eof.txt",
        "helpers.py",
        "legacy.py",
        "logo.png",
        "new_mod.py",
        "notes.txt",
    ]


@pytest.mark.parametrize(
    ("path", "old_path", "new_path", "status"),
    [
        ("app.py", "app.py", "app.py", "modified"),
        ("eof.txt", "eof.txt", "eof.txt", "modified"),
        ("helpers.py", "util.py", "helpers.py", "renamed"),
        ("legacy.py", "legacy.py", None, "deleted"),
        ("logo.png", "logo.png", "logo.png", "binary"),
        ("new_mod.py", None, "new_mod.py", "added"),
        ("notes.txt", "notes.txt", "notes.txt", "modified"),
    ],
)
def test_each_file_has_its_paths_and_status(
    files: dict[str, FileDiff], path: str, old_path: str | None, new_path: str | None, status: str
) -> None:
    got = files[path]
    assert (got.old_path, got.new_path, got.status) == (old_path, new_path, status)


@pytest.mark.parametrize(
    ("path", "added"),
    [
        ("app.py", {2, 7}),
        ("eof.txt", {1, 2}),
        ("helpers.py", {4}),
        ("legacy.py", set()),
        ("logo.png", set()),
        ("new_mod.py", {1, 2, 3}),
        ("notes.txt", {3, 17}),
    ],
)
def test_changed_lines_are_new_file_numbers_of_added_lines(
    files: dict[str, FileDiff], path: str, added: set[int]
) -> None:
    assert changed_lines(files[path]) == added


def test_hunk_lines_carry_both_line_numbers(files: dict[str, FileDiff]) -> None:
    first = files["notes.txt"].hunks[0]
    assert first.lines[:4] == (
        DiffLine(" ", "line1", 1, 1),
        DiffLine(" ", "line2", 2, 2),
        DiffLine("-", "line3", 3, None),
        DiffLine("+", "LINE3", None, 3),
    )
    assert DiffLine("-", "line10", 10, None) in first.lines
    assert first.lines[-1] == DiffLine(" ", "line13", 13, 12)


def test_second_hunk_keeps_its_header_section_and_numbers(files: dict[str, FileDiff]) -> None:
    second = files["notes.txt"].hunks[1]
    assert (second.old_start, second.old_count, second.new_start, second.new_count) == (
        15,
        6,
        14,
        6,
    )
    assert second.section == "line14"
    assert DiffLine("+", "line18 changed", None, 17) in second.lines


def test_no_newline_markers_are_recorded_per_side(files: dict[str, FileDiff]) -> None:
    hunk = files["eof.txt"].hunks[0]
    assert (hunk.old_missing_newline, hunk.new_missing_newline) == (True, True)
    assert [line.text for line in hunk.lines] == ["tail", "tail", "more"]
    assert files["app.py"].hunks[0].new_missing_newline is False


def test_deleted_file_lines_have_only_old_numbers(files: dict[str, FileDiff]) -> None:
    lines = files["legacy.py"].hunks[0].lines
    assert lines == (DiffLine("-", "def old():", 1, None), DiffLine("-", "    return 1", 2, None))


def test_binary_file_has_no_hunks(files: dict[str, FileDiff]) -> None:
    assert files["logo.png"].hunks == ()


def test_git_binary_patch_payload_is_skipped_up_to_the_next_file() -> None:
    parsed = parse_diff(BINARY_PATCH)
    assert [(f.path, f.status) for f in parsed] == [("logo.png", "binary"), ("b.py", "modified")]
    assert changed_lines(parsed[1]) == {1}


def test_crlf_diff_parses_like_lf() -> None:
    crlf = REAL_DIFF.replace("\n", "\r\n")
    assert parse_diff(crlf) == parse_diff(REAL_DIFF)


def test_quoted_paths_with_spaces_and_octal_escapes_are_decoded() -> None:
    text = (
        'diff --git "a/sp ace \\303\\251.py" "b/sp ace \\303\\251.py"\n'
        "new file mode 100644\n"
        "--- /dev/null\n"
        '+++ "b/sp ace \\303\\251.py"\t\n'
        "@@ -0,0 +1 @@\n"
        "+x\n"
    )
    (parsed,) = parse_diff(text)
    assert (parsed.old_path, parsed.new_path, parsed.status) == (None, "sp ace é.py", "added")


def test_pure_rename_without_hunks_takes_paths_from_rename_lines() -> None:
    text = (
        "diff --git a/old name.py b/new name.py\n"
        "similarity index 100%\n"
        "rename from old name.py\n"
        "rename to new name.py\n"
    )
    (parsed,) = parse_diff(text)
    assert (parsed.old_path, parsed.new_path, parsed.status, parsed.hunks) == (
        "old name.py",
        "new name.py",
        "renamed",
        (),
    )


def test_empty_new_file_is_added_without_hunks() -> None:
    text = "diff --git a/empty.py b/empty.py\nnew file mode 100644\nindex 0000000..e69de29\n"
    (parsed,) = parse_diff(text)
    assert (parsed.old_path, parsed.new_path, parsed.status) == (None, "empty.py", "added")


def test_plain_diff_u_output_with_timestamps_parses() -> None:
    text = (
        "diff -u a/x.c b/x.c\n"
        "--- a/x.c\t2024-01-01 10:00:00.000000000 +0000\n"
        "+++ b/x.c\t2024-01-02 10:00:00.000000000 +0000\n"
        "@@ -2,2 +2,3 @@\n"
        " int a;\n"
        "+int b;\n"
        " int c;\n"
        "Binary files a/img.gif and b/img.gif differ\n"
    )
    parsed = parse_diff(text)
    assert [(f.path, f.status) for f in parsed] == [("x.c", "modified"), ("img.gif", "binary")]
    assert changed_lines(parsed[0]) == {3}


def test_format_patch_preamble_and_signature_are_ignored() -> None:
    text = (
        "From 1234 Mon Sep 17 00:00:00 2001\n"
        "Subject: [PATCH] change\n"
        "---\n"
        " a.py | 2 +-\n"
        "\n"
        "diff --git a/a.py b/a.py\n"
        "--- a/a.py\n"
        "+++ b/a.py\n"
        "@@ -1 +1 @@\n"
        "-x = 1\n"
        "+x = 2\n"
        "-- \n"
        "2.43.0\n"
    )
    (parsed,) = parse_diff(text)
    assert parsed.path == "a.py"
    assert changed_lines(parsed) == {1}


def test_stripped_empty_context_line_still_counts() -> None:
    text = "--- a/a.py\n+++ b/a.py\n@@ -1,3 +1,4 @@\n a\n\n+b\n c\n"
    (parsed,) = parse_diff(text)
    assert parsed.hunks[0].lines[1] == DiffLine(" ", "", 2, 2)
    assert changed_lines(parsed) == {3}


def test_empty_diff_has_no_files() -> None:
    assert parse_diff("") == []
    assert parse_diff("\n\n") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("just some text\n", "no 'diff --git'"),
        ("--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n-b\n+c\n", "truncated"),
        ("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n+c\n", "more lines than the last hunk"),
        ("--- a/x\n+++ b/x\n@@ -1,2 +1 @@\n-a\n+b\n+c\n", "more '+' lines"),
        ("--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\nxyz\n", "short of its header"),
        ("--- a/x\n+++ b/x\n@@ -1 +1 @ broken\n-a\n+b\n", "malformed hunk header"),
        ("--- a/x\n+++ b/x\n@@ -1,9999999999 +1 @@\n", "malformed hunk header"),
        ("--- a/x\n+++ b/x\n@@ -1,60000 +1,60000 @@\n", "limit 50000"),
        ("--- a/x\n+++ b/x\n@@ -1,0 +1,0 @@\n", "changes nothing"),
        ("--- a/x\n+++ b/x\n@@ -0,1 +0,1 @@\n-a\n+b\n", "starts at line 0"),
        ("--- a/x\n+++ b/x\n@@ -5 +5 @@\n-a\n+b\n@@ -3 +3 @@\n-c\n+d\n", "overlaps"),
        ("@@ -1 +1 @@\n-a\n+b\n", "hunk without a file header"),
        ("diff --git a/x b/x\n@@ -1 +1 @@\n-a\n+b\n", "before the '---'/'+++'"),
        ("diff --git a/x b/x\n--- a/x\n@@ -1 +1 @@\n", "not followed by a '+++'"),
        ("diff --git a/x b/x\n+stray\n", "content line before any hunk"),
        ("--- a/x\n+++ b/x\n@@ -1 +1 @@\n\\ No newline at end of file\n", "before any hunk line"),
        ("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\x00\n+b\n", "NUL byte"),
    ],
)
def test_malformed_diffs_raise_a_clear_diff_error(text: str, message: str) -> None:
    with pytest.raises(DiffError) as caught:
        parse_diff(text)
    assert message in str(caught.value), str(caught.value)


@pytest.mark.parametrize(
    "path",
    [
        "../etc/passwd",
        "src/../../etc/passwd",
        "/etc/passwd",
        "C:/Windows/win.ini",
        "src\\..\\..\\secret",
        "src//double.py",
        "./dot.py",
    ],
)
def test_unsafe_paths_are_rejected(path: str) -> None:
    text = f"--- a/{path}\n+++ b/{path}\n@@ -1 +1 @@\n-a\n+b\n"
    with pytest.raises(DiffError, match="path"):
        parse_diff(text)


def test_absolute_path_in_rename_header_is_rejected() -> None:
    text = "diff --git a/x b/y\nrename from x\nrename to /etc/cron.d/evil\n"
    with pytest.raises(DiffError, match="absolute path '/etc/cron.d/evil'"):
        parse_diff(text)


def test_control_characters_in_a_quoted_path_are_rejected() -> None:
    text = '--- "a/x\\ny"\n+++ "b/x\\ny"\n@@ -1 +1 @@\n-a\n+b\n'
    with pytest.raises(DiffError, match="control character"):
        parse_diff(text)


def test_error_names_the_offending_diff_line() -> None:
    with pytest.raises(DiffError) as caught:
        parse_diff("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n+extra\n")
    assert caught.value.line == 6
    assert str(caught.value).startswith("Diff line 6:")


def test_file_count_limit_is_enforced() -> None:
    one = "--- a/f{n}\n+++ b/f{n}\n@@ -1 +1 @@\n-a\n+b\n"
    text = "".join(one.format(n=n) for n in range(4))
    assert len(parse_diff(text, max_files=4)) == 4
    with pytest.raises(DiffError, match="more than 3 files"):
        parse_diff(text, max_files=3)


def test_review_regions_merge_nearby_changes_within_a_hunk(files: dict[str, FileDiff]) -> None:
    regions = review_regions(files["notes.txt"])
    assert [(r.start, r.end) for r in regions] == [(1, 12), (14, 19)]
    assert regions[1].lines[3] == (17, "line18 changed")


def test_review_regions_keep_only_context_lines_around_changes() -> None:
    body = (
        "".join(f" l{n}\n" for n in range(1, 11))
        + "+new\n"
        + "".join(f" l{n}\n" for n in range(11, 21))
    )
    text = f"--- a/x\n+++ b/x\n@@ -1,20 +1,21 @@\n{body}"
    (parsed,) = parse_diff(text)
    (region,) = review_regions(parsed, context=2)
    assert region.lines == ((9, "l9"), (10, "l10"), (11, "new"), (12, "l11"), (13, "l12"))


def test_review_regions_split_when_windows_do_not_touch() -> None:
    body = "+a\n" + "".join(f" c{n}\n" for n in range(2, 12)) + "+b\n"
    (parsed,) = parse_diff(f"--- a/x\n+++ b/x\n@@ -1,10 +1,12 @@\n{body}")
    regions = review_regions(parsed, context=1)
    assert [(r.start, r.end) for r in regions] == [(1, 2), (11, 12)]


def test_a_pure_deletion_is_reviewed_through_its_neighbours() -> None:
    text = "--- a/x\n+++ b/x\n@@ -1,5 +1,4 @@\n a\n b\n-gone\n c\n d\n"
    (parsed,) = parse_diff(text)
    assert changed_lines(parsed) == set()
    (region,) = review_regions(parsed, context=1)
    assert region.lines == ((2, "b"), (3, "c"))


def test_deleted_files_have_no_review_regions(files: dict[str, FileDiff]) -> None:
    assert review_regions(files["legacy.py"]) == []


def test_zero_context_reviews_only_added_lines(files: dict[str, FileDiff]) -> None:
    regions = review_regions(files["app.py"], context=0)
    assert [r.lines for r in regions] == [
        ((2, "import subprocess"),),
        ((7, "    subprocess.call(input(), shell=True)"),),
    ]


def test_negative_context_is_refused(files: dict[str, FileDiff]) -> None:
    with pytest.raises(ValueError, match="-1"):
        review_regions(files["app.py"], context=-1)


def test_binary_names_split_as_the_regex_did_on_small_inputs() -> None:
    import random
    import re

    from functions.analysis_service.diff import _binary_names

    regex = re.compile(r"Binary files (.+) and (.+) differ")
    rng = random.Random(5)
    pieces = ["a", "b/x", " ", "and", " and ", "differ", " differ", "Binary files "]
    for _ in range(20_000):
        line = "Binary files " + "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))
        if rng.random() < 0.8:
            line += " differ"
        match = regex.fullmatch(line)
        assert _binary_names(line) == (match.groups() if match else None), line


def test_a_binary_line_of_repeated_ands_is_split_in_one_pass() -> None:
    from functions.analysis_service.diff import _binary_names

    # The regex took 12 s on this 50 KB line (cubic backtracking); the split is a search.
    line = "Binary files " + " and " * 10_000 + "x differ"
    assert _binary_names(line) == (" and " * 9_999, "x")
    with pytest.raises(DiffError, match="path of 49995 characters is empty or too long"):
        parse_diff(f"{line}\n")
    assert parse_diff("Binary files a/img.png and b/img.png differ\n") == [
        FileDiff(old_path="img.png", new_path="img.png", status="binary", hunks=())
    ]
