"""languages names a file's programming language from its name, extension or shebang.

Well-known file names win (``Dockerfile``, ``Makefile``), then the extension (the
longest match, so ``x.d.ts`` is TypeScript), then a ``#!`` line's interpreter
(``#!/usr/bin/env python3`` -> python). Unknown files have no language (``None``).
"""

from __future__ import annotations

import re

NAMES = {
    "dockerfile": "dockerfile",
    "containerfile": "dockerfile",
    "makefile": "makefile",
    "gnumakefile": "makefile",
    "cmakelists.txt": "cmake",
    "jenkinsfile": "groovy",
    "vagrantfile": "ruby",
    "gemfile": "ruby",
    "rakefile": "ruby",
    "podfile": "ruby",
    "procfile": "yaml",
    "build": "starlark",
    "build.bazel": "starlark",
    "workspace": "starlark",
    ".bashrc": "shell",
    ".bash_profile": "shell",
    ".zshrc": "shell",
    ".profile": "shell",
    "go.mod": "go-module",
    "requirements.txt": "pip-requirements",
    ".gitignore": "ignore",
    ".dockerignore": "ignore",
}

EXTENSIONS = {
    ".py": "python", ".pyi": "python", ".pyw": "python",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "typescript",
    ".d.ts": "typescript",
    ".go": "go", ".rs": "rust", ".java": "java", ".kt": "kotlin", ".kts": "kotlin",
    ".scala": "scala", ".groovy": "groovy", ".gradle": "groovy",
    ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".hpp": "cpp",
    ".hh": "cpp", ".hxx": "cpp", ".cs": "csharp", ".fs": "fsharp", ".swift": "swift",
    ".m": "objective-c", ".mm": "objective-cpp", ".rb": "ruby", ".php": "php",
    ".pl": "perl", ".pm": "perl", ".lua": "lua", ".r": "r", ".jl": "julia",
    ".dart": "dart", ".ex": "elixir", ".exs": "elixir", ".erl": "erlang", ".hs": "haskell",
    ".clj": "clojure", ".ml": "ocaml", ".zig": "zig", ".nim": "nim", ".v": "verilog",
    ".sh": "shell", ".bash": "shell", ".zsh": "shell", ".fish": "fish", ".ps1": "powershell",
    ".bat": "batch", ".cmd": "batch", ".sql": "sql", ".html": "html", ".htm": "html",
    ".css": "css", ".scss": "scss", ".sass": "sass", ".less": "less", ".vue": "vue",
    ".svelte": "svelte", ".json": "json", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml",
    ".xml": "xml", ".ini": "ini", ".cfg": "ini", ".md": "markdown", ".rst": "restructuredtext",
    ".tf": "terraform", ".hcl": "hcl", ".proto": "protobuf", ".graphql": "graphql",
    ".dockerfile": "dockerfile", ".mk": "makefile", ".cmake": "cmake", ".bzl": "starlark",
    ".ipynb": "jupyter", ".txt": "text",
}  # fmt: skip

INTERPRETERS = {
    "python": "python", "pypy": "python", "node": "javascript", "nodejs": "javascript",
    "deno": "typescript", "bun": "javascript", "ts-node": "typescript",
    "bash": "shell", "sh": "shell", "zsh": "shell", "dash": "shell", "ksh": "shell",
    "fish": "fish", "ruby": "ruby", "perl": "perl", "php": "php", "lua": "lua",
    "rscript": "r", "julia": "julia", "pwsh": "powershell", "elixir": "elixir",
    "groovy": "groovy", "swift": "swift", "make": "makefile",
}  # fmt: skip

_VERSION_SUFFIX = re.compile(r"[\d.]+$")


def detect(path: str, head: bytes = b"") -> str | None:
    """The language of ``path`` whose content starts with ``head`` (None when unknown)."""
    name = path.rsplit("/", 1)[-1].lower()
    if name in NAMES:
        return NAMES[name]
    if name.startswith("dockerfile."):
        return "dockerfile"
    by_extension = _by_extension(name)
    if by_extension is not None:
        return by_extension
    return from_shebang(head)


def _by_extension(name: str) -> str | None:
    parts = name.split(".")
    for start in range(1, len(parts)):
        suffix = "." + ".".join(parts[start:])
        if suffix in EXTENSIONS and (start > 1 or parts[0]):
            return EXTENSIONS[suffix]
    return None


def from_shebang(head: bytes) -> str | None:
    """``#!/usr/bin/env python3`` -> python; ``#!/bin/bash -e`` -> shell."""
    if not head.startswith(b"#!"):
        return None
    line = head[2:].split(b"\n", 1)[0].decode("utf-8", "replace").strip()
    words = line.split()
    if not words:
        return None
    program = words[0].rsplit("/", 1)[-1]
    if program == "env":
        arguments = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
        if not arguments:
            return None
        program = arguments[0].rsplit("/", 1)[-1]
    return INTERPRETERS.get(_VERSION_SUFFIX.sub("", program.lower()))
