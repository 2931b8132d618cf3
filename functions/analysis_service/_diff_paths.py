"""_diff_paths decodes and vets the file paths named in a unified diff's headers."""

from __future__ import annotations

import re

MAX_PATH_LENGTH = 4_096

_DRIVE = re.compile(r"^[A-Za-z]:")
_OCTAL = re.compile(r"[0-3][0-7]{2}")
_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


class DiffError(ValueError):
    """A malformed or unsafe diff; ``line`` is the 1-based diff line at fault (0: the whole)."""

    def __init__(self, message: str, *, line: int = 0) -> None:
        super().__init__(f"Diff line {line}: {message}" if line else f"Diff: {message}")
        self.line = line


def safe_path(path: str, line: int) -> str:
    if not path or len(path) > MAX_PATH_LENGTH:
        raise DiffError(f"path of {len(path)} characters is empty or too long", line=line)
    if path.startswith(("/", "\\")) or _DRIVE.match(path):
        raise DiffError(f"absolute path {path!r} is not allowed", line=line)
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in path):
        raise DiffError(f"path {path!r} contains a control character", line=line)
    parts = re.split(r"[\\/]", path)
    if ".." in parts:
        raise DiffError(f"path {path!r} climbs out of the project with '..'", line=line)
    if "" in parts or "." in parts:
        raise DiffError(f"path {path!r} is not a normalized relative path", line=line)
    return path


def unquote(token: str, line: int) -> str:
    """Decode git's C-style quoted path (``"a/caf\\303\\251"``), token quotes included."""
    body, out, i = token[1:-1], bytearray(), 0
    while i < len(body):
        if body[i] != "\\":
            out += body[i].encode()
            i += 1
        elif body[i + 1 : i + 2] in _ESCAPES:
            out.append(_ESCAPES[body[i + 1]])
            i += 2
        elif _OCTAL.fullmatch(body[i + 1 : i + 4]):
            out.append(int(body[i + 1 : i + 4], 8))
            i += 4
        else:
            raise DiffError(f"bad escape in quoted path {token!r}", line=line)
    try:
        return out.decode()
    except UnicodeDecodeError as e:
        raise DiffError(f"quoted path {token!r} is not UTF-8", line=line) from e


def quoted_end(value: str, line: int) -> int:
    """Index just past the closing quote of the quoted token that starts ``value``."""
    i = 1
    while i < len(value):
        if value[i] == "\\":
            i += 2
        elif value[i] == '"':
            return i + 1
        else:
            i += 1
    raise DiffError(f"unterminated quoted path {value!r}", line=line)


def raw_path(value: str, line: int) -> str:
    """A header path: quoted, or plain up to a tab (``diff -u`` timestamps, git's space marker)."""
    if value.startswith('"'):
        return unquote(value[: quoted_end(value, line)], line)
    return value.split("\t", 1)[0]


def side_path(raw: str, prefix: str, line: int) -> str | None:
    if raw == "/dev/null":
        return None
    return safe_path(raw[len(prefix) :] if raw.startswith(prefix) else raw, line)


def git_paths(rest: str, line: int) -> tuple[str, str]:
    """The two raw paths of ``diff --git <a> <b>``; unquoted paths may contain spaces."""
    if rest.startswith('"'):
        end = quoted_end(rest, line)
        return unquote(rest[:end], line), raw_path(rest[end + 1 :], line)
    if rest.endswith('"') and ' "' in rest:
        old, new = rest.split(' "', 1)
        return old, unquote('"' + new, line)
    half = (len(rest) - 1) // 2
    left, sep, right = rest[:half], rest[half : half + 1], rest[half + 1 :]
    if sep == " " and (left == right or (left[:2] + right[:2] == "a/b/" and left[2:] == right[2:])):
        return left, right  # the common unrenamed case, spaces in the path or not
    if " b/" not in rest:
        raise DiffError(f"cannot split 'diff --git {rest}' into two paths", line=line)
    old, new = rest.rsplit(" b/", 1)
    return old, "b/" + new
