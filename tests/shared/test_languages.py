"""languages: names, extensions and shebangs."""

from __future__ import annotations

import pytest

from shared import languages


@pytest.mark.parametrize(
    ("path", "head", "language"),
    [
        ("src/app.py", b"", "python"),
        ("web/index.d.ts", b"", "typescript"),
        ("web/App.TSX", b"", "typescript"),
        ("cmd/main.go", b"", "go"),
        ("Dockerfile", b"", "dockerfile"),
        ("deploy/Dockerfile.prod", b"", "dockerfile"),
        ("Makefile", b"", "makefile"),
        ("CMakeLists.txt", b"", "cmake"),
        ("bin/tool", b"#!/usr/bin/env python3\nprint()\n", "python"),
        ("bin/serve", b"#!/usr/bin/env -S node --experimental\n", "javascript"),
        ("bin/run", b"#!/bin/bash -e\n", "shell"),
        ("bin/x", b"#!/usr/bin/python3.11\n", "python"),
        ("bin/y", b"#!/usr/bin/env\n", None),
        ("LICENSE", b"MIT License\n", None),
        (".env", b"", None),
        ("notes.unknownext", b"", None),
    ],
)
def test_language_comes_from_name_extension_or_shebang(
    path: str, head: bytes, language: str | None
) -> None:
    assert languages.detect(path, head) == language, path
