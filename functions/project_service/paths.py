"""paths normalizes file paths and names why a hostile one is refused.

A stored path is relative, ``/``-separated, without ``.`` or empty segments, and
never escapes the project: ``..`` segments, absolute paths, drive letters,
backslashes, NUL and other control characters are refused. The reasons are the
stable codes that archive answers list under ``skipped[].reason``.

A path is also one Unicode string for one name: it is stored in NFC, so ``é`` typed
precomposed and decomposed is one file, not two that look the same; bidirectional
controls (U+202A-U+202E, U+2066-U+2069, U+200E/U+200F, which make ``evil\u202egnp.py``
display as ``evilyp.png``) and other invisible format characters are refused; and a name
that was not valid UTF-8 (an archive's raw bytes) is refused instead of being stored
lossily, where two different names could become one.
"""

from __future__ import annotations

import re
import unicodedata

TRAVERSAL = "path_traversal"
ABSOLUTE = "absolute_path"
DRIVE = "drive_letter"
INVALID = "invalid_path"
TOO_LONG = "path_too_long"

_DRIVE = re.compile(r"^[A-Za-z]:")
_SEGMENT_MAX = 255


class PathRefused(ValueError):
    """A path that cannot be stored; ``reason`` is one of the codes above."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def normalize(raw: str, *, max_length: int) -> str:
    """The canonical form of ``raw`` (``./src//a.py`` -> ``src/a.py``).

    Raises:
        PathRefused: the path is absolute, escapes the project or holds forbidden characters.
    """
    if _DRIVE.match(raw) or raw.startswith("\\\\"):
        raise PathRefused(DRIVE, f"Path '{_shown(raw)}' names a drive.")
    if raw.startswith("/"):
        raise PathRefused(ABSOLUTE, f"Path '{_shown(raw)}' is absolute.")
    if "\\" in raw:
        if ".." in raw.split("\\"):
            raise PathRefused(TRAVERSAL, f"Path '{_shown(raw)}' leaves the project.")
        raise PathRefused(INVALID, f"Path '{_shown(raw)}' contains a backslash.")
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in raw):
        raise PathRefused(INVALID, f"Path '{_shown(raw)}' contains a control character.")
    if any(unicodedata.category(c) == "Cf" for c in raw):  # bidi overrides, zero widths
        raise PathRefused(INVALID, f"Path '{_shown(raw)}' contains an invisible format character.")
    if "\ufffd" in raw:  # what a decoder leaves of bytes that were not UTF-8
        raise PathRefused(INVALID, f"Path '{_shown(raw)}' is not valid UTF-8.")
    raw = unicodedata.normalize("NFC", raw)
    segments = [s for s in raw.split("/") if s not in ("", ".")]
    if ".." in segments:
        raise PathRefused(TRAVERSAL, f"Path '{_shown(raw)}' leaves the project.")
    path = "/".join(segments)
    if not path:
        raise PathRefused(INVALID, "The path is empty.")
    if len(path) > max_length or any(len(s) > _SEGMENT_MAX for s in segments):
        raise PathRefused(TOO_LONG, f"Path '{_shown(raw)}' is longer than {max_length}.")
    return path


def display(raw: str) -> str:
    """``raw`` safe to put in JSON (undecodable bytes as ``\\udcXX``), cut to 1024 chars."""
    return raw.encode("utf-8", "backslashreplace").decode("utf-8")[:1024]


def _shown(raw: str) -> str:
    """The path as it may appear in a message: control characters escaped, cut to 200."""
    return raw.encode("unicode_escape").decode("ascii")[:200]
