"""paths: normalization and the reasons hostile paths are refused."""

from __future__ import annotations

import pytest

from functions.project_service import paths


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("src/a.py", "src/a.py"),
        ("./src//a.py", "src/a.py"),
        ("a/./b/", "a/b"),
        ("é/ü.py", "é/ü.py"),
    ],
)
def test_harmless_paths_are_normalized(raw: str, normalized: str) -> None:
    assert paths.normalize(raw, max_length=1024) == normalized


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("../x", paths.TRAVERSAL),
        ("a/../../x", paths.TRAVERSAL),
        ("a/..", paths.TRAVERSAL),
        ("..\\x", paths.TRAVERSAL),
        ("/etc/passwd", paths.ABSOLUTE),
        ("C:\\Windows\\system.ini", paths.DRIVE),
        ("c:/x", paths.DRIVE),
        ("\\\\server\\share", paths.DRIVE),
        ("a\\b", paths.INVALID),
        ("a\x00b", paths.INVALID),
        ("a\nb", paths.INVALID),
        ("bad\udcffname", paths.INVALID),
        ("", paths.INVALID),
        ("./", paths.INVALID),
        ("a" * 300, paths.TOO_LONG),
    ],
)
def test_hostile_paths_are_refused_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(paths.PathRefused) as refused:
        paths.normalize(raw, max_length=1024)
    assert refused.value.reason == reason, str(refused.value)


def test_displayed_paths_are_always_encodable() -> None:
    shown = paths.display("bad\udcffname")
    assert shown.encode("utf-8") == b"bad\\udcffname"


@pytest.mark.parametrize(
    "raw",
    [
        "evil\u202egnp.py",  # right-to-left override: displays as evilyp.png
        "a\u2066b.py",
        "zero\u200bwidth.py",
        "bad\ufffdname.py",  # what is left of bytes that were not UTF-8
    ],
)
def test_invisible_and_undecodable_names_are_refused(raw: str) -> None:
    """Issue 9 item 13."""
    with pytest.raises(paths.PathRefused):
        paths.normalize(raw, max_length=1024)


def test_nfc_and_nfd_spellings_are_one_path() -> None:
    """Issue 9 item 13: two files that look the same were stored twice."""
    assert paths.normalize("caf\u00e9.py", max_length=100) == paths.normalize(
        "cafe\u0301.py", max_length=100
    )
