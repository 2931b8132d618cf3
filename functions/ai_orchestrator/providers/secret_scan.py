"""detect-secrets' scan of one file, with its plugins and filters bound once.

``detect_secrets.core.scan.scan_file`` hands arguments to every plugin and filter through
``call_function_with_arguments``, which inspects the callable on every call (an
``isinstance`` against a class, ``inspect.ismethod`` and set algebra) for 27 plugins on
every line, and that plumbing was most of detect-secrets' time over the generated
10,000-line repository. ``Scanner`` takes scan_file's steps in its order (the file's filename
filters; its lines, transformed when a transformer claims the file, the eager transformers
only when nothing was found; per line the line filters, then each plugin, then the secret
filters and the context filters of each secret) with each callable's arguments resolved
when the scanner is built, and a plugin skipped on a line none of its patterns can match
(``_gate``). The callables are detect-secrets' own (two filters replaced by faster ones of
the same answer, ``FASTER``), so the findings are its own:
``tests/functions/ai_orchestrator/test_secret_scan.py`` checks them equal to ``scan_file``'s
over generated files of 17 types and ~3,200 secrets. ``make bench --only local_review``
times both (4.8x, tests/bench/RESULTS.md).

A scanner holds the plugins of the settings it was built under; build it inside
``detect_secrets.settings.default_settings()`` (or ``transient_settings``) and scan inside
the same settings, since some plugins and filters read them when called.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast

from detect_secrets.core.potential_secret import PotentialSecret
from detect_secrets.core.scan import get_filters_with_parameter
from detect_secrets.filters import allowlist
from detect_secrets.plugins.base import BasePlugin, RegexBasedDetector
from detect_secrets.plugins.keyword import KeywordDetector
from detect_secrets.settings import get_plugins
from detect_secrets.transformers import get_transformed_file
from detect_secrets.types import NamedIO
from detect_secrets.util.code_snippet import CodeSnippet, get_code_snippet
from detect_secrets.util.inject import get_injectable_variables

# A callable with the names of the arguments it is given (detect-secrets' injection, resolved).
Bound = tuple[Callable[..., Any], tuple[str, ...]]


def _bind(function: Callable[..., Any], names: Iterable[str], offered: set[str]) -> Bound | None:
    """``function`` with the offered arguments it takes, or None when it needs one that is not
    offered (detect-secrets calls it anyway and skips it on the ``TypeError``)."""
    wanted = set(names)
    missing = wanted - offered
    parameters = inspect.signature(function).parameters
    if any(parameters[name].default is inspect.Parameter.empty for name in missing):
        return None
    return function, tuple(sorted(wanted & offered))


# detect-secrets' is_indirect_reference without the leading ``([^\v=!:]*)``: that group may
# match nothing, so it cannot change whether the pattern is found, but it made each search
# quadratic in the line (the filter reads every line). Same bound on the line's length.
_INDIRECT_REFERENCE = re.compile(r"\s*(:=?|[!=]{1,3})\s*([\w.-]+[\[\(][^\v]*[\]\)])")


def _is_indirect_reference(line: str) -> bool:
    return len(line) <= 1000 and _INDIRECT_REFERENCE.search(line) is not None


def _is_line_allowlisted(filename: str, line: str, context: CodeSnippet) -> bool:
    # every allowlist pattern of detect-secrets spells "pragma" (a case-sensitive literal)
    if "pragma" not in line and "pragma" not in context.previous_line:
        return False
    return bool(allowlist.is_line_allowlisted(filename, line, context))


# Filters (by detect-secrets' path) with a faster function of the same answer, checked
# against the library's by tests/functions/ai_orchestrator/test_secret_scan.py.
FASTER: dict[str, Callable[..., bool]] = {
    "detect_secrets.filters.heuristic.is_indirect_reference": _is_indirect_reference,
    "detect_secrets.filters.allowlist.is_line_allowlisted": _is_line_allowlisted,
}


def _filters(required: str, offered: set[str]) -> tuple[Bound, ...]:
    """The filters ``_is_filtered_out(required_filter_parameters=[required], **offered)`` runs."""
    bound = (
        _bind(FASTER.get(function.path, function), function.injectable_variables, offered)
        for function in get_filters_with_parameter(required)
    )
    return tuple(item for item in bound if item is not None)


def _filtered(filters: tuple[Bound, ...], arguments: dict[str, Any]) -> bool:
    for function, names in filters:
        try:
            if function(**{name: arguments[name] for name in names}):
                return True
        except TypeError:  # detect-secrets skips a filter it cannot call
            continue
    return False


# Every pattern of the keyword plugin holds one of its DENYLIST's words (case-insensitive
# where it is); each of those words holds one of these stems.
KEYWORD_HINT = re.compile(r"key|pass|pwd|secret|contrase", re.IGNORECASE)


def _gate(plugin: Any) -> tuple[Callable[[str], Any], ...]:
    """Searches of which one must find something in a line for ``plugin`` to find a secret in
    it (empty: always ask the plugin). A regex plugin finds only its denylist's matches."""
    kind = type(plugin)
    if kind is KeywordDetector:
        return (KEYWORD_HINT.search,)
    if (
        isinstance(plugin, RegexBasedDetector)
        and kind.analyze_line is BasePlugin.analyze_line
        and kind.analyze_string is RegexBasedDetector.analyze_string
    ):
        return tuple(pattern.search for pattern in plugin.denylist)
    return ()


class Scanner:
    """``scan_file`` of detect-secrets under the settings current when it was built."""

    def __init__(self, without: Iterable[str] = ()) -> None:
        """The current settings' plugins but those whose class is named in ``without``."""
        left_out = set(without)
        self.plugins: list[tuple[Any, Bound, tuple[Callable[[str], Any], ...]]] = []
        # secret type -> plugin class name, of every plugin of the settings
        plugins = get_plugins()
        self.names = {plugin.secret_type: type(plugin).__name__ for plugin in plugins}
        offered = {"filename", "line", "line_number", "context"}
        for plugin in plugins:
            if type(plugin).__name__ in left_out:
                continue
            names = get_injectable_variables(type(plugin).analyze_line)[1:]  # after self
            bound = _bind(plugin.analyze_line, names, offered)
            if bound is not None:
                self.plugins.append((plugin, bound, _gate(plugin)))
        self.file_filters = _filters("filename", {"filename"})
        self.line_filters = _filters("line", {"filename", "line", "context"})
        self.secret_filters = _filters("secret", {"filename", "secret", "plugin", "line"})
        self.context_filters = _filters(
            "context", {"filename", "secret", "plugin", "line", "context"}
        )

    def scan_file(self, filename: str) -> list[PotentialSecret]:
        """What ``detect_secrets.core.scan.scan_file(filename)`` yields, in its order."""
        if not self.plugins or _filtered(self.file_filters, {"filename": filename}):
            return []
        found: list[PotentialSecret] = []
        for lines in self._lines(filename):
            found += self._scan_lines(lines, filename)
            if found:
                break
        return found

    def _lines(self, filename: str) -> Iterator[list[str]]:
        with open(filename, encoding="utf-8") as opened:
            file = cast(NamedIO, opened)  # detect-secrets' name for a file with a name
            try:
                lines = get_transformed_file(file) or file.readlines()
            except UnicodeDecodeError:  # detect-secrets ignores binary files
                return
            yield lines
            file.seek(0)
            eager = get_transformed_file(file, use_eager_transformers=True)
            if eager:
                yield eager

    def _scan_lines(self, lines: list[str], filename: str) -> Iterator[PotentialSecret]:
        for number, raw in enumerate(lines, start=1):
            line = raw.rstrip()
            context = get_code_snippet(lines=lines, line_number=number)
            offered = {"filename": filename, "line": line, "context": context}
            if _filtered(self.line_filters, offered):
                continue
            offered["line_number"] = number
            for plugin, (analyze, names), gate in self.plugins:
                if gate and not any(search(line) for search in gate):
                    continue
                secrets = analyze(**{name: offered[name] for name in names})
                if not secrets:
                    continue
                for secret in secrets:
                    about = {
                        "filename": secret.filename,
                        "secret": secret.secret_value,
                        "plugin": plugin,
                        "line": line,
                    }
                    if _filtered(self.secret_filters, about):
                        continue
                    about["context"] = context
                    if not _filtered(self.context_filters, about):
                        yield secret
