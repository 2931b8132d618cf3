"""taint scores the local reviewer's taint engine on the labelled corpus, beside bandit alone
and Ruff's ``S`` rules on the same cases, in one run.

``python -m tests.bench.taint`` (or ``make bench TESTARGS="--only taint"``) prints, per
split (``train``: what the engine was built against; ``holdout``, ``wild`` and ``unseen``:
written apart, ``unseen`` never tuned on) and per category, the true-positive rate
(vulnerable cases flagged with that category) and the false-positive rate (near-misses
flagged with it), and the overall score: TPR - FPR per category, averaged, as such
benchmarks are scored. A tool "flags" a case when it reports
a finding of the case's category anywhere in it; bandit's and Ruff's rule ids are mapped
to the 14 categories below (a category a tool has no rule for scores 0 - 0).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bench.harness import Bench, Result, benchmark

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "taint"
SPLITS = ("train", "holdout", "wild", "unseen")

BANDIT: dict[str, str] = {
    **dict.fromkeys(("B602", "B605", "B604", "B609", "B601", "B607", "B606"), "command"),
    "B608": "sql",
    "B610": "sql",
    "B611": "sql",
    **dict.fromkeys(("B301", "B302", "B506", "B403"), "deserialization"),
    **dict.fromkeys(("B307", "B102"), "code"),
    **dict.fromkeys(("B308", "B703", "B704", "B701"), "xss"),
    **dict.fromkeys(("B313", "B314", "B315", "B316", "B317", "B318", "B319", "B320"), "xxe"),
    **dict.fromkeys(("B405", "B406", "B407", "B408", "B409", "B410"), "xxe"),
    "B311": "random",
    **dict.fromkeys(("B303", "B324"), "hash"),
}
RUFF: dict[str, str] = {
    **dict.fromkeys(("S602", "S605", "S604", "S609", "S601", "S607", "S606"), "command"),
    "S608": "sql",
    "S610": "sql",
    "S611": "sql",
    **dict.fromkeys(("S301", "S302", "S506", "S403"), "deserialization"),
    **dict.fromkeys(("S307", "S102"), "code"),
    **dict.fromkeys(("S308", "S704", "S701"), "xss"),
    **dict.fromkeys(("S313", "S314", "S315", "S316", "S317", "S318", "S319", "S320"), "xxe"),
    **dict.fromkeys(("S405", "S406", "S407", "S408", "S409", "S410"), "xxe"),
    "S311": "random",
    **dict.fromkeys(("S303", "S324"), "hash"),
}


@dataclass(frozen=True)
class Case:
    path: Path
    split: str
    category: str
    vulnerable: bool


@dataclass
class Rates:
    tp: int = 0
    fn: int = 0
    fp: int = 0
    tn: int = 0

    @property
    def tpr(self) -> float:
        return self.tp / max(1, self.tp + self.fn)

    @property
    def fpr(self) -> float:
        return self.fp / max(1, self.fp + self.tn)


def cases(split: str | None = None) -> list[Case]:
    found = []
    for path in sorted(CORPUS.glob("*/*/*.py")):
        label = path.read_text(encoding="utf-8").splitlines()[0].split()
        # "# expect: vulnerable command"
        found.append(Case(path, path.parts[-3], label[3], label[2] == "vulnerable"))
    return [c for c in found if split is None or c.split == split]


def engine(paths: list[Path]) -> dict[Path, set[str]]:
    from functions.ai_orchestrator.providers import taint

    return {p: {f.category for f in taint.analyze(p.read_text(encoding="utf-8"))} for p in paths}


def bandit(paths: list[Path]) -> dict[Path, set[str]]:
    """bandit as the reviewer ran it before (all its tests, default confidence)."""
    from bandit.core import config, manager

    runner = manager.BanditManager(config.BanditConfig(), "file", quiet=True)
    runner.discover_files([str(p) for p in paths])
    runner.run_tests()
    found: dict[Path, set[str]] = {p: set() for p in paths}
    for issue in runner.get_issue_list():
        category = BANDIT.get(issue.test_id)
        if category:
            found[Path(issue.fname)].add(category)
    return found


def ruff(paths: list[Path]) -> dict[Path, set[str]]:
    """Ruff's flake8-bandit rules (``--select S``) over the same files."""
    command = [sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--quiet"]
    command += ["--select", "S", "--output-format", "json", *map(str, paths)]
    report = json.loads(subprocess.run(command, capture_output=True, check=False).stdout)  # noqa: S603
    found: dict[Path, set[str]] = {p: set() for p in paths}
    for item in report:
        category = RUFF.get(item["code"] or "")
        if category:
            found[Path(item["filename"])].add(category)
    return found


TOOLS: dict[str, Callable[[list[Path]], dict[Path, set[str]]]] = {
    "local taint engine": engine,
    "bandit alone": bandit,
    "ruff --select S": ruff,
}


def score(selected: list[Case], found: dict[Path, set[str]]) -> dict[str, Rates]:
    rates: dict[str, Rates] = {}
    for case in selected:
        rate = rates.setdefault(case.category, Rates())
        flagged = case.category in found.get(case.path, set())
        if case.vulnerable:
            rate.tp, rate.fn = rate.tp + flagged, rate.fn + (not flagged)
        else:
            rate.fp, rate.tn = rate.fp + flagged, rate.tn + (not flagged)
    return rates


def overall(rates: dict[str, Rates]) -> tuple[float, float, float]:
    """(score, TPR, FPR) in percent: per-category means."""
    count = max(1, len(rates))
    tpr = sum(r.tpr for r in rates.values()) / count * 100
    fpr = sum(r.fpr for r in rates.values()) / count * 100
    return tpr - fpr, tpr, fpr


def evaluate() -> dict[str, dict[str, dict[str, Rates]]]:
    """split -> tool -> category -> rates."""
    results: dict[str, dict[str, dict[str, Rates]]] = {}
    everything = cases()
    paths = [c.path for c in everything]
    found = {name: tool(paths) for name, tool in TOOLS.items()}
    for split in SPLITS:
        selected = [c for c in everything if c.split == split]
        results[split] = {name: score(selected, found[name]) for name in TOOLS}
    return results


def report(results: dict[str, dict[str, dict[str, Rates]]]) -> str:
    lines = []
    for split, by_tool in results.items():
        total = sum(r.tp + r.fn + r.fp + r.tn for r in next(iter(by_tool.values())).values())
        lines.append(f"\n{split}: {total} cases (TPR/FPR in %, per category)")
        header = f"{'category':<17}" + "".join(f"{name:>24}" for name in by_tool)
        lines.append(header)
        categories = sorted(next(iter(by_tool.values())))
        for category in categories:
            row = f"{category:<17}"
            for rates in by_tool.values():
                rate = rates.get(category, Rates())
                row += f"{f'{rate.tpr * 100:.0f} / {rate.fpr * 100:.0f}':>24}"
            lines.append(row)
        row = f"{'score (TPR-FPR)':<17}"
        for rates in by_tool.values():
            value, tpr, fpr = overall(rates)
            row += f"{f'{value:+.0f} ({tpr:.0f}/{fpr:.0f})':>24}"
        lines.append(row)
    return "\n".join(lines)


# ---------------------------------------------------------------- noise and speed

# The local reviewer's configuration before the taint engine: every bandit check, ruff's
# style rules, no taint ("style" restores what RUFF_SELECT used to be).
BEFORE = ("bandit", "ruff", "secrets", "rules", "style")
CLEAN_PACKAGES = ("click", "httpx")


def clean_files() -> dict[str, str]:
    """The sources of well-known, well-kept pure-Python packages installed with the dev
    requirements: code a reviewer should find (almost) nothing to say about."""
    import importlib.util

    files: dict[str, str] = {}
    for name in CLEAN_PACKAGES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.submodule_search_locations, name
        root = Path(next(iter(spec.submodule_search_locations)))
        for path in sorted(root.rglob("*.py")):
            files[f"{name}/{path.relative_to(root)}"] = path.read_text(encoding="utf-8")
    return files


async def review_files(
    files: dict[str, str], analyzers: tuple[str, ...]
) -> tuple[list[Any], float]:
    """Every file reviewed whole by the local reviewer; (findings, seconds)."""
    from functions.ai_orchestrator import chunking, prompts
    from functions.ai_orchestrator.providers import LocalProvider

    config = prompts.ReviewConfig(analyzers=analyzers)  # type: ignore[arg-type]
    provider = LocalProvider()
    findings: list[Any] = []
    started = time.perf_counter()
    for path, text in files.items():
        for chunk in chunking.split(path, text, budget=4000):
            findings += (await provider.review(chunk, config)).findings
    return findings, time.perf_counter() - started


def noise_figures(
    limit: int | None = None,
) -> tuple[int, int, dict[str, tuple[float, list[tuple[str, int]]]]]:
    """(files, lines, label -> (findings per 1,000 lines, most common rules)) on clean code
    (its first ``limit`` files only, for smoke runs)."""
    import asyncio
    from collections import Counter

    files = dict(list(clean_files().items())[:limit])
    lines = sum(text.count("\n") for text in files.values())
    figures = {}
    for label, analyzers in (("before", BEFORE), ("now", DEFAULT)):
        found, _ = asyncio.run(review_files(files, analyzers))
        top = Counter(f.rule for f in found).most_common(4)
        figures[label] = (len(found) / lines * 1000, top)
    return len(files), lines, figures


def noise() -> str:
    """Findings per 1,000 lines of clean code, before and now, and what they are."""
    count, lines, figures = noise_figures()
    out = [f"\nclean code: {', '.join(CLEAN_PACKAGES)} ({count} files, {lines} lines)"]
    for label, (per, top) in figures.items():
        out.append(f"  {label:<8} {per:6.1f} findings / 1,000 lines   top: {top}")
    return "\n".join(out)


def speed_figures(file_count: int = 1000) -> tuple[int, int, dict[str, float]]:
    """(files, lines, label -> seconds): the local reviewer over a generated project."""
    import asyncio

    from tests.bench import corpus

    files = {
        path: text
        for path, text in corpus.repository(
            total_lines=file_count * 80, file_lines=80, problems=0.15, seed=13
        ).items()
        if path.endswith(".py")
    }
    lines = sum(text.count("\n") for text in files.values())
    asyncio.run(review_files(dict(list(files.items())[:5]), DEFAULT))  # imports, plugins
    # Interleaved in slices (A B, B A, ...) so that load drifting on a shared machine
    # weighs on both alike; the seconds are summed over the slices.
    seconds = {"before": 0.0, "now": 0.0}
    items = list(files.items())
    step = max(1, min(100, len(items) // 2))
    slices = [dict(items[start : start + step]) for start in range(0, len(items), step)]
    for index, part in enumerate(slices):
        order = (("before", BEFORE), ("now", DEFAULT))
        for label, analyzers in order if index % 2 == 0 else reversed(order):
            seconds[label] += asyncio.run(review_files(part, analyzers))[1]
    return len(files), lines, seconds


def speed(file_count: int = 1000) -> str:
    count, lines, seconds = speed_figures(file_count)
    ratio = seconds["now"] / seconds["before"]
    return (
        f"\n{count}-file project ({lines} lines), local reviewer in one process: "
        f"before {seconds['before']:.1f} s, now {seconds['now']:.1f} s ({ratio:.2f}x)"
    )


DEFAULT = ("bandit", "ruff", "secrets", "rules", "taint")


def main(argv: list[str] | None = None) -> int:
    """``--quick``: the corpus scores only (no noise or 1,000-file timing)."""
    args = sys.argv[1:] if argv is None else argv
    started = time.perf_counter()
    results = evaluate()
    print(report(results))
    print(f"\n{len(cases())} cases in {time.perf_counter() - started:.1f} s")
    if "--quick" not in args:
        print(noise())
        print(speed())
    return 0


if __name__ == "__main__":
    sys.exit(main())


@benchmark("taint", "taint engine vs bandit and ruff S on the corpus; noise; 1,000-file time")
def taint_benchmark(bench: Bench) -> list[Result]:
    """The corpus table printed as ``python -m tests.bench.taint`` prints it, plus its
    figures as results: score per split (engine vs each tool), findings per 1,000 lines of
    clean code and the time of a 1,000-file project (now vs before the taint engine)."""
    results = evaluate()
    print(report(results), flush=True)
    out = []
    for split, by_tool in results.items():
        engine_score = overall(by_tool["local taint engine"])[0]
        for tool in ("bandit alone", "ruff --select S"):
            out.append(
                Result(
                    "taint",
                    f"corpus score TPR-FPR ({split})",
                    "points",
                    "local taint engine",
                    [engine_score],
                    tool,
                    [overall(by_tool[tool])[0]],
                    higher_is_better=True,
                )
            )
    # always all of the clean code (~20 s): a few files may hold no finding at all
    count, lines, figures = noise_figures()
    out.append(
        Result(
            "taint",
            "findings per 1,000 lines of clean code",
            "findings",
            "default configuration",
            [figures["now"][0]],
            "before (all bandit checks, ruff style)",
            [figures["before"][0]],
            notes={"packages": list(CLEAN_PACKAGES), "files": count, "lines": lines},
        )
    )
    count, lines, seconds = speed_figures(bench.options.taint_files)
    out.append(
        Result(
            "taint",
            f"local review of a {count}-file project",
            "s",
            "default configuration",
            [seconds["now"]],
            "before (no taint, all bandit checks)",
            [seconds["before"]],
            notes={"files": count, "lines": lines},
        )
    )
    return out
