"""fingerprints gives findings stable identities that survive line shifts across analyses.

A fingerprint is the hex SHA-256 of, in order and separated by U+001F:

1. the scheme tag ``acr/v1``;
2. the path, ``\\`` turned into ``/`` and a leading ``./`` dropped;
3. the rule key: ``rule:<rule>`` or, for findings without a rule, ``category:<category>``,
   stripped and lowercased (tools disagree on the case of ids such as ``B602``);
4. the finding's code line, NFC-normalized with *all* whitespace removed, so re-indenting
   or reformatting the line keeps the identity; case is kept (``Password`` and
   ``password`` are different identifiers) and comments are kept (a comment can be the
   finding, and stripping them without a lexer would cut string literals such as URLs);
5. optionally the context lines, normalized the same way and joined with U+001E.

The line number is deliberately absent: inserting lines above a finding leaves its
fingerprint unchanged. Identical findings in one file (same rule, same code) share that
hash, so :func:`number_occurrences` suffixes the second and later ones by line order
(``<hash>:2``, ``<hash>:3``) as GitHub code scanning does; the first keeps the bare hash.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence

SCHEME = "acr/v1"
SARIF_KEY = "acrFingerprint/v1"

_WHITESPACE = re.compile(r"\s+")
_UNIT, _RECORD = "\x1f", "\x1e"


def normalize_code(text: str) -> str:
    """The code text as fingerprinted: NFC, every whitespace character removed."""
    return _WHITESPACE.sub("", unicodedata.normalize("NFC", text))


def normalize_path(path: str) -> str:
    path = path.replace("\\", "/")
    return path[2:] if path.startswith("./") else path


def rule_key(rule: str | None, category: str) -> str:
    """``rule:<rule>`` when the finding names a rule, else ``category:<category>``."""
    rule = (rule or "").strip().lower()
    return f"rule:{rule}" if rule else f"category:{category.strip().lower()}"


def fingerprint(
    path: str,
    code_line_text: str,
    rule_or_category: str,
    *,
    context_lines: Iterable[str] | None = None,
) -> str:
    """The base fingerprint of a finding (see the module docstring for the exact recipe).

    ``rule_or_category`` is usually :func:`rule_key`'s answer; a bare string is
    lowercased and stripped the same way.
    """
    fields = [SCHEME, normalize_path(path), rule_or_category.strip().lower()]
    fields.append(normalize_code(code_line_text))
    if context_lines is not None:
        fields.append(_RECORD.join(normalize_code(line) for line in context_lines))
    return hashlib.sha256(_UNIT.join(fields).encode()).hexdigest()


def number_occurrences(items: Sequence[tuple[str, int]]) -> list[str]:
    """Final fingerprints for ``(base fingerprint, line)`` pairs, in input order.

    Among pairs sharing a base, the lowest line keeps the bare base and the k-th
    (k >= 2, by line, ties by input order) becomes ``f"{base}:{k}"``: deterministic for
    the same input, whatever order the analyzers reported in.
    """
    order = sorted(range(len(items)), key=lambda i: (items[i][1], i))
    seen: dict[str, int] = {}
    result = [""] * len(items)
    for i in order:
        base = items[i][0]
        seen[base] = seen.get(base, 0) + 1
        result[i] = base if seen[base] == 1 else f"{base}:{seen[base]}"
    return result


def partial_fingerprints(value: str) -> dict[str, str]:
    """The SARIF ``partialFingerprints`` object carrying a finding's fingerprint."""
    return {SARIF_KEY: value}
