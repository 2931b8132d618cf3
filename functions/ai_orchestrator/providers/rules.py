r"""rules are the local reviewer's own line patterns for languages bandit and ruff don't cover.

The lines are the user's, and one line may be a megabyte of minified code, so the patterns
run on RE2 (``google-re2``), whose matching is linear in the line: under Python's ``re``,
backtracking made ``exec(`` repeated 10,000 times cost 4 s and ``'select`` followed by 4,000
`` from`` 1.6 s, growing with the square of the line. RE2 has no look-around, so the two
rules that used one say the same with a character class, and its ``\w`` and ``\b`` are
ASCII (identifiers in the languages these rules cover are).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Protocol

from functions.ai_orchestrator.chunking import Chunk
from functions.ai_orchestrator.findings import Category, Finding, Severity


@dataclass(frozen=True)
class Rule:
    """A line pattern that marks a finding in the given languages (empty = every language)."""

    id: str
    source: str
    languages: frozenset[str]
    severity: Severity
    category: Category
    message: str
    suggestion: str | None = None

    @property
    def pattern(self) -> _Pattern:
        """The compiled RE2 pattern (compiled on first use, not at import)."""
        return _compile(self.source)


class _Pattern(Protocol):
    def search(self, text: str) -> object | None: ...


@functools.cache
def _compile(source: str) -> _Pattern:
    import re2  # 30 ms: paid by the first review that needs it, not by every cold start

    pattern: _Pattern = re2.compile(source)
    return pattern


def _rule(
    rule_id: str,
    pattern: str,
    languages: str,
    severity: Severity,
    category: Category,
    message: str,
    suggestion: str | None = None,
) -> Rule:
    return Rule(
        id=f"acr:{rule_id}",
        source=pattern,
        languages=frozenset(languages.split()),
        severity=severity,
        category=category,
        message=message,
        suggestion=suggestion,
    )


JS = "javascript typescript"
# fmt: off
RULES = (
    _rule("js-eval", r"(?:^|[^\w.])eval\s*\(", JS, "high", "security",
          "eval() runs arbitrary code built at run time.",
          "Parse the data (JSON.parse) or dispatch on known values instead."),
    _rule("js-new-function", r"\bnew\s+Function\s*\(", JS, "high", "security",
          "new Function() compiles code from a string, like eval().",
          "Use a real function instead of compiling one from text."),
    _rule("js-inner-html", r"\.(?:inner|outer)HTML\s*=(?:[^=]|$)", JS, "medium", "security",
          "Assigning innerHTML with dynamic content allows cross-site scripting.",
          "Use textContent, or sanitize the HTML first."),
    _rule("js-document-write", r"\bdocument\.write(?:ln)?\s*\(", JS, "medium", "security",
          "document.write() with dynamic content allows cross-site scripting.",
          "Build DOM nodes and set textContent instead."),
    _rule("js-exec-concat", r"\bexec(?:Sync)?\s*\(\s*(?:`[^`]*\$\{|[^,)]*\+)", JS, "high",
          "security", "A shell command is built from concatenated input (command injection).",
          "Use execFile/spawn with an argument array."),
    _rule("go-sql-sprintf",
          r"fmt\.Sprintf\(\s*\"\s*(?i:select|insert|update|delete|drop|alter)\b", "go",
          "high", "security", "SQL built with fmt.Sprintf is open to SQL injection.",
          "Use query placeholders ($1 or ?) and pass the values as arguments."),
    _rule("go-insecure-tls", r"InsecureSkipVerify\s*:\s*true", "go", "high", "security",
          "TLS certificate verification is disabled.",
          "Remove InsecureSkipVerify; trust a custom CA through RootCAs instead."),
    _rule("go-weak-hash", r"\b(?:md5|sha1)\.(?:New|Sum)\b", "go", "medium", "security",
          "MD5/SHA-1 are broken for security purposes.", "Use SHA-256 or better."),
    _rule("java-runtime-exec", r"Runtime\.getRuntime\(\)\s*\.exec\s*\(", "java kotlin",
          "high", "security", "Runtime.exec runs a system command (command injection risk).",
          "Use ProcessBuilder with a fixed executable and separate arguments."),
    _rule("java-weak-hash", r"MessageDigest\.getInstance\(\s*\"(?i:md5|sha-?1)\"", "java kotlin",
          "medium", "security", "MD5/SHA-1 are broken for security purposes.",
          "Use SHA-256 or better."),
    _rule("sh-curl-pipe-shell", r"\b(?:curl|wget)\b[^|#]*\|\s*(?:sudo\s+)?(?:ba|z|da)?sh\b",
          "shell dockerfile", "high", "security",
          "A downloaded script is piped straight into a shell.",
          "Download, verify a checksum or signature, then run it."),
    _rule("sh-eval", r"(?:^|[;&|]\s*)eval\s", "shell", "medium", "security",
          "eval re-parses its arguments as shell code.", "Use arrays and direct commands."),
    _rule("sh-chmod-777", r"\bchmod\s+(?:-R\s+)?0?777\b", "shell dockerfile", "medium",
          "security", "chmod 777 makes files writable by everyone.",
          "Grant the least permissions needed (e.g. 755 or 644)."),
    _rule("c-unsafe-string", r"\b(?:gets|strcpy|strcat|sprintf)\s*\(", "c cpp", "high",
          "security", "This C string function does no bounds checking (buffer overflow).",
          "Use the bounded variants (fgets, strncpy/strlcpy, snprintf)."),
    _rule("sql-concatenation",
          r"(?i)[\"'`]\s*(?:select\s.+\sfrom|insert\s+into|update\s+\w+\s+set|delete\s+from)"
          r"\b[^\"'`]*[\"'`]\s*(?:\+|\.\s*concat\s*\(|%\s*[(\w])",
          "", "high", "security", "SQL is built by string concatenation (SQL injection).",
          "Use parameterized queries."),
    _rule("todo", r"\b(?:TODO|FIXME|XXX|HACK)\b", "", "info", "maintainability",
          "An unresolved TODO/FIXME marker.", None),
)
# fmt: on


def apply_rules(chunk: Chunk, *, skip: frozenset[str] = frozenset()) -> list[Finding]:
    """The findings of this module's regex rules on the chunk's lines (but ``skip``'s ids)."""
    rules = [
        rule
        for rule in RULES
        if (not rule.languages or chunk.language in rule.languages) and rule.id not in skip
    ]
    findings = []
    for number, line in enumerate(chunk.lines, chunk.start_line):
        for rule in rules:
            if rule.pattern.search(line):
                findings.append(_finding(chunk, number, rule))
    return findings


def _finding(chunk: Chunk, number: int, rule: Rule) -> Finding:
    return Finding(
        path=chunk.path,
        line=number,
        end_line=number,
        severity=rule.severity,
        category=rule.category,
        rule=rule.id,
        message=rule.message,
        suggestion=rule.suggestion,
    )
