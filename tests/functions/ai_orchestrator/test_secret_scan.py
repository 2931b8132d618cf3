"""secret_scan.Scanner finds what detect-secrets' own ``scan_file`` finds, in its order.

The files are generated (seeded) with every kind of line the plugins and filters tell
apart: each plugin's secret, keyword assignments in the syntaxes of several file types,
templated and indirect values, allowlist pragmas (inline and next-line), UUIDs,
sequential strings, overlong lines, and files the filename filters drop. The secrets are
built at run time so that the repository's own secret scan has nothing to find here.
"""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from detect_secrets.core.scan import scan_file
from detect_secrets.filters import allowlist, heuristic
from detect_secrets.settings import default_settings
from detect_secrets.util.code_snippet import get_code_snippet
from hypothesis import example, given, settings
from hypothesis import strategies as st

from functions.ai_orchestrator.providers import secret_scan

UPPER = string.ascii_uppercase + string.digits
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
KEYWORDS = ("password", "api_key", "db_pass", "secret", "private_key", "PASSWD", "pwd")


def _word(rng: random.Random, alphabet: str, size: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(size))


def _values(rng: random.Random) -> list[str]:
    """Secrets of every plugin, and values the filters throw out."""
    claims = base64.urlsafe_b64encode(json.dumps({"sub": _word(rng, ALNUM, 8)}).encode())
    head = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}')
    jwt = b".".join([head, claims, base64.urlsafe_b64encode(rng.randbytes(16))]).decode()
    return [
        "AKIA" + _word(rng, UPPER, 16),
        "ghp_" + _word(rng, ALNUM, 36),
        "xoxb-" + _word(rng, string.digits, 11) + "-" + _word(rng, ALNUM, 24),
        "sk_live_" + _word(rng, ALNUM, 24),
        "glpat-" + _word(rng, ALNUM, 20),
        "npm_" + _word(rng, ALNUM, 36),
        "SG." + _word(rng, ALNUM, 22) + "." + _word(rng, ALNUM, 43),
        "sk-" + _word(rng, ALNUM, 20) + "T3BlbkFJ" + _word(rng, ALNUM, 20),
        jwt.rstrip("="),
        base64.b64encode(rng.randbytes(30)).decode(),
        _word(rng, HEX, 40),
        _word(rng, ALNUM, 14),
        "${" + _word(rng, string.ascii_uppercase, 8) + "}",
        "<" + _word(rng, string.ascii_lowercase, 8) + ">",
        "$" + _word(rng, string.ascii_uppercase, 8),
        "abcdefghijklmnopqrstuvwxyz",
        "12345678-1234-5678-1234-567812345678",
        "{{ " + _word(rng, string.ascii_lowercase, 6) + " }}",
        "x",
    ]


# The shapes of line the plugins and filters tell apart (fields filled per line).
SHAPES = (
    '{keyword} = "{value}"',
    "{keyword}: {value}",
    '{keyword} := "{value}"',
    "const {keyword} = '{value}';",
    'if {keyword} == "{value}":',
    '"{keyword}": "{value}",',
    'token = "{value}"  # pragma: allowlist secret',
    "# pragma: allowlist nextline secret",
    "{keyword} = get_{keyword}(request.headers['{prefix}'])",
    "url = 'https://{word}:{value}@example.com/x'",
    "host = '{ip}'",
    "-----BEGIN {kind}PRIVATE KEY-----",
    "x = '{long}' + '{value}'",
    "{keyword}={value}",
    "    {word}({keyword}=os.environ['K'])",
    "",
)


def _lines(rng: random.Random) -> Iterator[str]:
    values = _values(rng)
    for _ in range(60):
        value = rng.choice(values)
        yield rng.choice(SHAPES).format(
            keyword=rng.choice(KEYWORDS),
            value=value,
            prefix=value[:5],
            word=_word(rng, string.ascii_lowercase, 6),
            ip=f"{rng.randrange(11, 200)}.{rng.randrange(256)}.1.{rng.randrange(256)}",
            kind=rng.choice(("RSA ", "EC ", "OPENSSH ", "")),
            long="a" * 1_100,
        )


NAMES = (
    "app.py", "main.go", "index.js", "config.yaml", "deploy.yml", "settings.ini",
    "setup.cfg", ".env", "data.json", "app.properties", "notes.txt", "App.swift",
    "package-lock.json", "swagger.json", "logo.png", "Pipfile.lock", "schema.sql",
)  # fmt: skip


def _files(folder: Path, seed: int) -> list[Path]:
    rng = random.Random(seed)
    files = []
    for index, name in enumerate(NAMES):
        path = folder / f"{seed}-{index}" / name
        path.parent.mkdir()
        if name.endswith((".yaml", ".yml")):
            body = "\n".join(f"k{i}: {json.dumps(line)}" for i, line in enumerate(_lines(rng)))
            body += "\nblock: |\n  " + "\n  ".join(_lines(rng)) + "\n"
        elif name.endswith((".ini", ".cfg")):
            body = "[section]\n" + "\n".join(
                line.replace(": ", " = ", 1) for line in _lines(rng) if line.strip()
            )
        else:
            body = "\n".join(_lines(rng))
        path.write_text(body + "\n", encoding="utf-8")
        files.append(path)
    return files


def _key(secrets: list[Any]) -> list[tuple[object, ...]]:
    return [(s.type, s.filename, s.line_number, s.secret_hash, s.is_verified) for s in secrets]


def test_the_scanner_finds_exactly_what_scan_file_finds(tmp_path: Path) -> None:
    files = [path for seed in range(6) for path in _files(tmp_path, seed)]
    with default_settings():
        scanner = secret_scan.Scanner()
        expected = [_key(list(scan_file(str(path)))) for path in files]
        found = [_key(scanner.scan_file(str(path))) for path in files]
    assert found == expected
    kinds = {row[0] for rows in expected for row in rows}
    assert len(kinds) >= 12, kinds  # the files exercise most plugins, not a few
    assert sum(map(len, expected)) > 300
    dropped = [path.name for path, rows in zip(files, expected, strict=True) if not rows]
    assert {"package-lock.json", "logo.png", "Pipfile.lock"} <= set(dropped)


def test_a_scanner_without_the_keyword_plugin_is_scan_file_under_those_settings(
    tmp_path: Path,
) -> None:
    from detect_secrets.settings import get_plugins, transient_settings

    files = _files(tmp_path, 99)
    with default_settings():
        scanner = secret_scan.Scanner(without=("KeywordDetector",))
        names = [type(plugin).__name__ for plugin in get_plugins()]  # in the settings' order
        others = [{"name": name} for name in names if name != "KeywordDetector"]
        assert "Secret Keyword" in scanner.names  # every plugin's name is known
        with transient_settings({"plugins_used": others}):
            expected = [_key(list(scan_file(str(path)))) for path in files]
        found = [_key(scanner.scan_file(str(path))) for path in files]
    assert found == expected
    assert all(row[0] != "Secret Keyword" for rows in found for row in rows)
    assert sum(map(len, found)) > 20


LINE = st.text(alphabet=st.sampled_from(list("ab_.-=!:()[]{} \t'\"\v\n#/") + ["\u00e9"]))


@settings(max_examples=400, deadline=None)
@given(line=LINE | st.text(max_size=1_200))
@example(line="k = get(x)" + " " * 990)  # 1,000 characters: read
@example(line="k = get(x)" + " " * 991)  # 1,001: too long for the filter
def test_the_faster_indirect_reference_filter_answers_as_detect_secrets(line: str) -> None:
    assert secret_scan._is_indirect_reference(line) == heuristic.is_indirect_reference(line)


@settings(max_examples=300, deadline=None)
@given(
    before=st.text(max_size=30),
    comment=st.sampled_from(["#", "//", "/*", "'", "--", "<!--", ""]),
    pragma=st.sampled_from(
        ["pragma: allowlist secret", "pragma:whitelist secret", "pragma: allowlist nextline "
         "secret", "pragma allowlist secret", "PRAGMA: allowlist secret", ""]
    ),
    after=st.sampled_from(["", " */", " -->", " x"]),
    filename=st.sampled_from(["a.py", "a.yaml", "a.js"]),
    previous_first=st.booleans(),
)  # fmt: skip
def test_the_faster_allowlist_filter_answers_as_detect_secrets(
    before: str, comment: str, pragma: str, after: str, filename: str, previous_first: bool
) -> None:
    pragma_line = f"{before}{comment} {pragma}{after}"
    lines = [pragma_line, "value = 1"] if previous_first else ["value = 1", pragma_line]
    for number in (1, 2):
        context = get_code_snippet(lines=lines, line_number=number)
        line = lines[number - 1]
        assert secret_scan._is_line_allowlisted(filename, line, context) == (
            allowlist.is_line_allowlisted(filename, line, context)
        )


def test_only_plugins_whose_findings_need_a_match_are_gated() -> None:
    with default_settings():
        scanner = secret_scan.Scanner()
    gated = {type(plugin).__name__ for plugin, _, gate in scanner.plugins if gate}
    assert {"AWSKeyDetector", "KeywordDetector", "PrivateKeyDetector"} <= gated
    # these look at every quoted string (or a JWT's structure), so nothing can stand before them
    assert not gated & {"Base64HighEntropyString", "HexHighEntropyString", "JwtTokenDetector"}


@pytest.mark.parametrize("word", ["password", "api_key", "contraseña", "DB_PASS", "api_\u212aey"])
def test_the_keyword_gate_lets_every_keyword_through(word: str) -> None:
    """The gate is case-insensitive the way the plugin's patterns are (the Kelvin sign is
    a capital K to both)."""
    from detect_secrets.plugins.keyword import KeywordDetector

    line = f'{word} = "{_word(random.Random(1), ALNUM, 16)}"'
    with default_settings():
        found = KeywordDetector().analyze_line(filename="a.py", line=line, line_number=1)
    assert found, f"the plugin itself finds {word!r}"
    assert secret_scan.KEYWORD_HINT.search(line)
