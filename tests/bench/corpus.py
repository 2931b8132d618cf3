"""corpus generates repositories of realistic Python (deterministic), some with known problems."""

from __future__ import annotations

import io
import random
import tarfile
import zipfile

_NOUNS = (
    "order",
    "invoice",
    "customer",
    "payment",
    "session",
    "report",
    "account",
    "token",
    "record",
    "message",
    "ticket",
    "product",
    "shipment",
    "profile",
    "event",
    "batch",
)
_VERBS = ("load", "save", "parse", "render", "validate", "merge", "compute", "fetch", "apply")

# each is detected by bandit or ruff (eval, shell=True, hard-coded password, md5, bare except,
# unused variable, assert, pickle)
_PROBLEMS = (
    ("    value = eval(raw)", "    return value"),
    ("    import subprocess", "    subprocess.call(raw, shell=True)", "    return None"),
    ("    password = 'hunter2-{n}'", "    return password"),
    ("    import hashlib", "    return hashlib.md5(raw.encode()).hexdigest()"),
    ("    try:", "        return int(raw)", "    except:", "        return 0"),
    ("    unused = {n}", "    return raw"),
    ("    assert raw, 'empty'", "    return raw"),
    ("    import pickle", "    return pickle.loads(raw)"),
)


_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_WORDS = [
    "".join(random.Random(i).choices(_LETTERS, k=random.Random(-i).randint(3, 10)))
    for i in range(3000)
]


def _words(rng: random.Random, k: int) -> str:
    return " ".join(rng.choices(_WORDS, k=k))


def _function(rng: random.Random, n: int, problem: bool) -> list[str]:
    noun, verb = rng.choice(_NOUNS), rng.choice(_VERBS)
    name = f"{verb}_{noun}_{rng.choice(_WORDS)}_{n}"
    lines = [
        f"def {name}(raw, limit={rng.randint(1, 500)}):",
        f'    """{verb.capitalize()} one {noun}: {_words(rng, rng.randint(4, 9))}."""',
        f"    # {_words(rng, rng.randint(5, 12))}",
    ]
    if problem:
        lines += [line.replace("{n}", str(n)) for line in rng.choice(_PROBLEMS)]
    else:
        tag = rng.choice(_WORDS)
        lines += [
            "    items = []",
            f"    for index, part in enumerate(str(raw).split({rng.choice(',;|')!r})):",
            "        if index >= limit:",
            "            break",
            f"        items.append(part.strip().{rng.choice(('lower', 'upper', 'title'))}())",
            f"    total = sum(len(item) for item in items) * {rng.randint(2, 9)}",
            f"    {tag} = {{'{rng.choice(_WORDS)}': {rng.randint(0, 10**6)}}}",
            f"    return {{'{noun}': items, 'total': total, 'tag': {tag}}}",
        ]
    return [*lines, "", ""]


def module(index: int, lines: int, *, problems: float = 0.0, seed: int = 0) -> str:
    """A Python module of about ``lines`` lines; ``problems`` of its functions have a flaw."""
    rng = random.Random(seed * 1_000_003 + index)
    noun = rng.choice(_NOUNS)
    out = [
        f'"""{noun} helpers of package module {index}."""',
        "",
        "from __future__ import annotations",
        "",
        "import json",
        "import logging",
        "",
        "logger = logging.getLogger(__name__)",
        f"LIMIT = {rng.randint(10, 1000)}",
        "",
        "",
        f"class {noun.capitalize()}Store:",
        f'    """Keeps {noun}s in memory, by id."""',
        "",
        "    def __init__(self):",
        "        self.items = {}",
        "",
        "    def put(self, key, value):",
        "        self.items[key] = json.dumps(value, sort_keys=True)",
        "        logger.debug('stored %s', key)",
        "",
        "",
    ]
    n = 0
    while len(out) < lines - 2:
        out += _function(rng, index * 1000 + n, rng.random() < problems)
        n += 1
    return "\n".join(out) + "\n"  # whole functions: always valid Python


def repository(
    *,
    total_bytes: int | None = None,
    total_lines: int | None = None,
    file_lines: int = 250,
    problems: float = 0.0,
    seed: int = 0,
) -> dict[str, str]:
    """``{path: text}`` of Python packages totalling about ``total_bytes`` or ``total_lines``."""
    files: dict[str, str] = {"README.md": "# generated repository\n\nBenchmark corpus.\n"}
    size = lines = 0
    index = 0
    while (total_bytes is not None and size < total_bytes) or (
        total_lines is not None and lines < total_lines
    ):
        want = file_lines if total_lines is None else min(file_lines, total_lines - lines)
        text = module(index, max(want, 24), problems=problems, seed=seed)
        files[f"pkg{index // 50}/module_{index}.py"] = text
        size += len(text.encode())
        lines += text.count("\n")
        index += 1
    return files


def salted(files: dict[str, str], salt: str) -> dict[str, str]:
    """The same files with a first-line comment naming ``salt``: new contents, new blobs."""
    return {path: f"# revision {salt}\n{text}" for path, text in files.items()}


def tar_gz(files: dict[str, str], root: str = "repo") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=6) as archive:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{root}/{path}")
            info.size = len(data)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def zip_bytes(files: dict[str, str], root: str = "repo") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, text in files.items():
            archive.writestr(f"{root}/{path}", text)
    return buffer.getvalue()


def size(files: dict[str, str]) -> int:
    return sum(len(text.encode()) for text in files.values())
