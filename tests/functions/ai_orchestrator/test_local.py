"""The local provider finds real problems with real analyzers, offline, at exact lines."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import PurePath
from typing import Any

import pytest

from functions.ai_orchestrator import chunking, prompts
from functions.ai_orchestrator.providers import LocalProvider, ReviewResult
from functions.ai_orchestrator.providers.rules import RULES

PYTHON = textwrap.dedent(
    """\
    import os
    import subprocess

    AWS_ACCESS_KEY_ID = "AKIAZ7QW3RTY5UIOPA2B"


    def run(command):
        return subprocess.call(command, shell=True)
    """
)
# PEP 695 generics: valid Python 3.12, a SyntaxError for this 3.11 runtime's ast.
PYTHON_312 = textwrap.dedent(
    """\
    import subprocess

    TOKEN = "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"


    def first[T](items: list[T]) -> T:
        return items[0]  # TODO handle empty lists
    """
)


# The analyzers as they ran before the taint engine: bandit's call-site checks and ruff's
# style rules on (the default leaves both out: taint and ruff's bug rules replace them).
CALL_SITES = ("bandit", "ruff", "secrets", "rules", "style")


async def review(path: str, text: str, **config: object) -> ReviewResult:
    chunk = chunking.split(path, text, budget=10_000)[0]
    return await LocalProvider().review(chunk, prompts.ReviewConfig(**config))  # type: ignore[arg-type]


def located(result: ReviewResult) -> set[tuple[int, str]]:
    return {(finding.line, finding.rule) for finding in result.findings}


async def test_python_gets_bandit_ruff_and_secrets_findings_at_exact_lines() -> None:
    result = await review("svc/run.py", PYTHON, analyzers=CALL_SITES)

    assert {
        (1, "ruff:F401"),
        (4, "secrets:AWSKeyDetector"),
        (8, "bandit:B602"),
    } <= located(result), result.findings
    assert result.skipped_analyzers == []
    assert result.analyzers == ["bandit", "ruff", "secrets", "rules"]
    assert (result.input_tokens, result.output_tokens, result.model, result.provider) == (
        0,
        0,
        "local-analyzers",
        "local",
    )
    shell = next(f for f in result.findings if f.rule == "bandit:B602")
    assert (shell.severity, shell.category, shell.path) == ("high", "security", "svc/run.py")


async def test_by_default_style_and_call_sites_no_input_reaches_are_not_reported() -> None:
    result = await review("svc/run.py", PYTHON)

    assert located(result) == {(4, "secrets:AWSKeyDetector")}, result.findings
    assert result.analyzers == ["bandit", "ruff", "secrets", "rules", "taint"]


async def test_the_secret_value_never_appears_in_a_finding() -> None:
    result = await review("svc/run.py", PYTHON)
    secret = next(f for f in result.findings if f.category == "secrets")
    assert secret.severity == "critical"
    assert "AKIA" not in secret.message + (secret.suggestion or "")


async def test_findings_of_a_later_chunk_carry_the_files_line_numbers() -> None:
    text = "x = 1\n" * 30 + "import subprocess\nsubprocess.call('ls', shell=True)\n"
    chunk = chunking.from_hunks("late.py", [(31, text.splitlines()[30:])], budget=1000)[0]

    result = await LocalProvider().review(chunk, prompts.ReviewConfig(analyzers=CALL_SITES))

    assert (32, "bandit:B602") in located(result)


async def test_a_chunk_deep_in_a_file_gets_every_analyzers_findings_at_the_files_lines() -> None:
    lines = [
        "import subprocess",
        'AWS_ACCESS_KEY_ID = "AKIAZ7QW3RTY5UIOPA2B"',
        "subprocess.call('ls', shell=True)",
        "# TODO remove the key",
    ]
    chunk = chunking.from_hunks("deep.py", [(8001, lines)], budget=1000)[0]

    result = await LocalProvider().review(chunk, prompts.ReviewConfig(analyzers=CALL_SITES))

    assert {
        (8002, "secrets:AWSKeyDetector"),
        (8003, "bandit:B602"),
        (8004, "acr:todo"),
    } <= located(result), result.findings
    assert all(8001 <= f.line <= 8004 for f in result.findings), result.findings


async def test_name_rules_are_skipped_on_partial_chunks_where_they_mislead() -> None:
    chunk = chunking.from_hunks("part.py", [(1, ["import os", "x = 1"])], budget=1000)[0]
    result = await LocalProvider().review(chunk, prompts.DEFAULT)
    assert "ruff:F401" not in {f.rule for f in result.findings}, "os may be used in another chunk"


async def test_python_the_runtime_cannot_parse_gets_every_analyzer_bandit_through_ruff() -> None:
    result = await review("generic.py", PYTHON_312)

    assert {(3, "secrets:GitHubTokenDetector"), (7, "acr:todo")} <= located(result)
    assert result.skipped_analyzers == [], result.skipped_analyzers
    assert "ruff" in result.analyzers, "ruff parses 3.12 syntax itself"
    assert "bandit:ruff" in result.analyzers, "bandit's checks ran as ruff's S rules"


async def test_code_no_parser_accepts_skips_ruff_with_the_reason() -> None:
    result = await review("broken.py", "def f(:\n    password = 'x'\n")
    skipped = {item.analyzer: item.reason for item in result.skipped_analyzers}
    assert set(skipped) == {"bandit", "ruff"}
    assert skipped["ruff"].startswith("cannot parse it: ") and "line 1" in skipped["ruff"]
    # tree-sitter recovers around the broken line, so the taint engine still reads the rest
    assert result.analyzers == ["secrets", "rules", "taint"]


async def test_javascript_eval_and_inner_html_are_found_by_the_rules() -> None:
    code = "const a = 1;\nconst out = eval(input);\nnode.innerHTML = out;\nif (a == 1) {}\n"
    result = await review("web/app.js", code)

    assert located(result) == {(2, "acr:js-eval"), (3, "acr:js-inner-html")}
    assert result.analyzers == ["secrets", "rules"], "bandit and ruff only apply to Python"


@pytest.mark.parametrize(
    ("path", "line", "rule"),
    [
        ("db.go", 'q := fmt.Sprintf("SELECT * FROM t WHERE id = %s", id)', "acr:go-sql-sprintf"),
        ("tls.go", "cfg := &tls.Config{InsecureSkipVerify: true}", "acr:go-insecure-tls"),
        ("R.java", 'Runtime.getRuntime().exec("ls " + dir);', "acr:java-runtime-exec"),
        ("H.java", 'MessageDigest.getInstance("MD5");', "acr:java-weak-hash"),
        ("install.sh", "curl -fsSL https://x.example/i.sh | sh", "acr:sh-curl-pipe-shell"),
        ("run.sh", 'eval "$CMD"', "acr:sh-eval"),
        ("q.ts", 'db.query("SELECT * FROM users WHERE id = " + id);', "acr:sql-concatenation"),
        ("x.ts", "exec(`rm -rf ${dir}`);", "acr:js-exec-concat"),
        ("c.c", "strcpy(buf, input);", "acr:c-unsafe-string"),
    ],
)
async def test_language_rules_flag_their_pattern(path: str, line: str, rule: str) -> None:
    result = await review(path, f"// header\n{line}\n")
    assert (2, rule) in located(result), result.findings


async def test_disabled_analyzers_do_not_run() -> None:
    result = await review("svc/run.py", PYTHON, analyzers=("secrets",))
    assert result.analyzers == ["secrets"]
    assert {f.rule for f in result.findings} == {"secrets:AWSKeyDetector"}


async def test_the_severity_threshold_applies_to_local_findings() -> None:
    result = await review("svc/run.py", PYTHON, severity_threshold="high", analyzers=CALL_SITES)
    assert {f.severity for f in result.findings} <= {"high", "critical"}
    assert (8, "bandit:B602") in located(result)


async def test_chat_summarizes_the_findings_of_the_fenced_code() -> None:
    request = {
        "model": "local-analyzers",
        "messages": [
            {"role": "user", "content": "old"},
            {"role": "user", "content": "Review:\n```js\nlet a = 1;\neval(a);\n```"},
        ],
    }

    answer = await LocalProvider().chat(request)

    message = answer["choices"][0]["message"]["content"]
    assert message == (
        "The local analyzers found 1 issue(s):\n"
        "- line 2 [high] acr:js-eval: eval() runs arbitrary code built at run time."
    )
    assert answer["usage"] == {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    assert answer["id"] == (await LocalProvider().chat(request))["id"], "deterministic"


async def test_chat_on_clean_code_says_so() -> None:
    answer = await LocalProvider().chat({"messages": [{"role": "user", "content": "x = 1\n"}]})
    assert answer["choices"][0]["message"]["content"] == "The local analyzers found no issues."


def test_rule_ids_are_unique() -> None:
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(
    ("line", "flagged"),
    [
        ("eval(x)", True),
        ("y = eval (x)", True),
        ("obj.eval(x)", False),  # a method named eval is not the global eval
        ("my_eval(x)", False),
        ("el.innerHTML = html", True),
        ("el.outerHTML=html", True),
        ("el.innerHTML", False),
        ("if (el.innerHTML == old) {}", False),  # a comparison is no assignment
        ("el.innerHTML =", True),
    ],
)
def test_the_rewritten_look_around_rules_keep_their_meaning(line: str, flagged: bool) -> None:
    rules = {rule.id: rule for rule in RULES}
    hits = {
        rule_id
        for rule_id in ("acr:js-eval", "acr:js-inner-html")
        if rules[rule_id].pattern.search(line)
    }
    assert bool(hits) == flagged, hits


# Lines that made Python's backtracking `re` quadratic (seconds at 10^4 characters, hours at a
# megabyte); RE2 answers them in one pass. Correctness is asserted here; `make bench` is where
# time is measured.
HOSTILE_LINES = {
    "acr:sql-concatenation": "'select " + " from" * 50_000,
    "acr:js-exec-concat": "exec(" * 50_000,
    "acr:sh-curl-pipe-shell": "curl " * 50_000,
}
COMPLETIONS = {
    "acr:sql-concatenation": " t where a = ' + b",
    "acr:js-exec-concat": "cmd + arg",
    "acr:sh-curl-pipe-shell": "| sh",
}


def test_the_rules_run_on_a_linear_time_engine() -> None:
    import re2

    for rule in RULES:
        assert type(rule.pattern) is type(re2.compile("a")), rule.id


@pytest.mark.parametrize("rule_id", sorted(HOSTILE_LINES))
def test_hostile_lines_are_answered_not_backtracked(rule_id: str) -> None:
    rule = {rule.id: rule for rule in RULES}[rule_id]
    assert rule.pattern.search(HOSTILE_LINES[rule_id]) is None
    completed = HOSTILE_LINES[rule_id] + COMPLETIONS[rule_id]
    assert rule.pattern.search(completed) is not None, "the same line, completed, is a finding"


@pytest.mark.parametrize(
    "text",
    [
        "no fence at all",
        "```",
        "`" * 40_000,  # an unclosed fence: the old regex restarted at every backtick
        "```py\nx = 1\n",
        "```py\nx = 1\n```",
        "before ```js trailing words\neval(a)\n``` after ```py\nsecond\n```",
        "```\n```",
        "``` ```\nbody```",
        "```c++\nint x;```",
    ],
)
def test_the_fence_finder_agrees_with_the_regex_it_replaced(text: str) -> None:
    import re

    from functions.ai_orchestrator.providers import local

    old = re.compile(r"```([\w+#.-]*)[^\n]*\n(.*?)```", re.DOTALL)
    expected = None
    if len(text) < 1_000:  # the old regex on the long line is the very problem
        match = old.search(text)
        expected = (match.group(1), match.group(2)) if match else None
    assert local._fenced(text) == expected


def test_detect_secrets_keyword_plugin_reads_only_lines_it_handles_in_bounded_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """KeywordDetector backtracks over runs of its keywords (24 KB of "password" on one
    line: 468 s); it only sees short lines with few keyword stems, the other plugins see all."""
    from detect_secrets.plugins.keyword import KeywordDetector

    from functions.ai_orchestrator.providers import local

    seen: list[str] = []
    original = KeywordDetector.analyze_line

    # the parameters spelled out: detect-secrets passes the arguments a plugin names
    def analyze_line(
        self: KeywordDetector, filename: str, line: str, line_number: int = 0, context: Any = None
    ) -> object:
        seen.append(line)
        return original(self, filename, line, line_number, context)

    monkeypatch.setattr(KeywordDetector, "analyze_line", analyze_line)
    monkeypatch.setattr(local, "_scanners", {})  # built again, with the counting plugin
    code = (
        "x = '" + "password" * 3_000 + "'\n"  # line 1: hostile, keyword plugin skipped
        + "y" * 5_000 + " = 'AKIAZ7QW3RTY5UIOPA2B'\n"  # line 2: long, the AWS plugin finds it
        + 'db_password = "hunter2-long-secret-value"\n'  # line 3: the keyword plugin finds it
    )  # fmt: skip
    chunk = chunking.split("conf.py", code, budget=10_000_000)[0]

    findings = local.scan_secrets(chunk)

    assert isinstance(findings, list)
    assert {(f.line, f.rule) for f in findings} == {
        (2, "secrets:AWSKeyDetector"),
        (3, "secrets:KeywordDetector"),
    }
    assert seen, "the keyword plugin ran"
    assert max(len(line) for line in seen) <= local.KEYWORD_MAX_LINE
    assert all(line.lower().count("password") <= local.KEYWORD_MAX_HINTS for line in seen)


def _corpus_chunks() -> list[chunking.Chunk]:
    """Every module of tests/corpus, cut at a small budget (partial chunks deep in files too),
    with a chunk ruff cannot parse and an ``__init__.py`` among them."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "corpus"
    chunks = [
        chunk
        for path in sorted(root.rglob("*.py"))
        for chunk in chunking.split(str(path.relative_to(root)), path.read_text(), budget=600)
    ]
    from tests.bench import corpus

    generated = corpus.repository(total_lines=2_000, problems=0.3, seed=5)  # ruff's bug rules
    chunks += [
        c for path, text in generated.items() for c in chunking.split(path, text, budget=600)
    ]
    chunks += chunking.split("pkg/__init__.py", "from .a import b\nimport os\n", budget=600)
    chunks += chunking.split("broken.py", "def f(:\n    return eval(x)\n", budget=600)
    chunks += chunking.split("bugs.py", "def f(x=[]):\n    return y\n", budget=600)
    return chunks


@pytest.mark.parametrize("style", [False, True])
async def test_one_ruff_run_per_batch_finds_exactly_what_one_run_per_chunk_finds(
    style: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    chunks = _corpus_chunks()
    assert len(chunks) > 500 and any(not c.is_whole_file for c in chunks)
    provider = LocalProvider()
    runs: list[int] = []
    subprocess = provider._subprocess

    async def counted(analyzer: str, command: list[str], **kwargs: object) -> object:
        runs.append(sum(1 for arg in command if PurePath(arg).parent.name.isdigit()))
        return await subprocess(analyzer, command, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(provider, "_subprocess", counted)
    alone = [await provider._ruff(chunk, style=style) for chunk in chunks]
    assert runs == [1] * len(chunks), "one ruff process per chunk when reviewed one at a time"
    runs.clear()
    batched = await asyncio.gather(*(provider._ruff(chunk, style=style) for chunk in chunks))
    assert runs == [len(chunks)], "one ruff process for the chunks reviewed together"
    assert batched == alone
    rules = {f.rule for result in alone if isinstance(result, list) for f in result}
    assert rules >= ({"ruff:F841", "ruff:F401", "ruff:E722"} if style else set()) | {
        "ruff:B006",
        "ruff:F821",
    }, rules
    reasons = {r.reason for r in batched if not isinstance(r, list)}
    expected = "cannot parse it: Expected a parameter or the end of the parameter list at line 1"
    assert expected in reasons, reasons


async def test_concurrent_reviews_run_bandit_and_taint_in_a_second_process_with_the_same_findings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Several local reviews at once put bandit and taint in the pool (another process, so
    another core); one review alone stays in this process and starts no pool."""
    import os

    from functions.ai_orchestrator.providers import local

    chunks = [c for c in _corpus_chunks() if c.language == "python"][-80:]  # generated: flaws
    config = prompts.ReviewConfig.model_validate(
        {**prompts.DEFAULT.model_dump(), "analyzers": ["bandit", "taint", "style"]}
    )
    pids: list[int] = []
    offload = local.Offload()
    offload.configure(lambda: 1)
    monkeypatch.setattr(local, "offload", offload)
    real_run = offload.run

    async def run(function: Any, *args: Any) -> Any:
        pool = offload.executor()
        pids.append(os.getpid() if pool is None else -1)
        return await real_run(function, *args)

    monkeypatch.setattr(offload, "run", run)
    try:
        alone = [await LocalProvider().review(chunk, config) for chunk in chunks]
        assert offload._pool is None and set(pids) == {os.getpid()}, "one at a time: no pool"
        pids.clear()
        gate = asyncio.Semaphore(4)

        async def review(chunk: chunking.Chunk) -> ReviewResult:
            async with gate:
                return await LocalProvider().review(chunk, config)

        together = await asyncio.gather(*(review(chunk) for chunk in chunks))
        assert offload._pool is not None and -1 in pids, "reviews at once used the pool"
        workers = {await asyncio.get_running_loop().run_in_executor(offload._pool, os.getpid)}
        assert os.getpid() not in workers
    finally:
        await offload.close()
    assert [r.findings for r in together] == [r.findings for r in alone]
    assert [r.analyzers for r in together] == [r.analyzers for r in alone]
    found = {f.rule.split(":")[0] for r in alone for f in r.findings}
    assert {"bandit", "taint"} <= found, found
    assert offload.reviews == 0


def test_the_analyzer_pool_costs_no_import_until_it_starts() -> None:
    """multiprocessing and the process pool (~14 ms of imports) load with the first pool,
    not with the local reviewer: an instance that never batches never pays them."""
    import subprocess
    import sys
    from pathlib import Path

    probe = (
        "import sys, functions.ai_orchestrator.providers.local as local\n"
        "print([m for m in ('multiprocessing', 'concurrent.futures.process') if m in sys.modules])"
    )
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


async def test_a_dead_analyzer_process_costs_no_review_and_is_replaced() -> None:
    import os
    import signal

    from functions.ai_orchestrator.providers import local

    offload = local.Offload()
    offload.configure(lambda: 1)
    offload.reviews = 2  # as if another review ran alongside
    try:
        first = await offload.run(os.getpid)
        os.kill(first, signal.SIGKILL)
        await asyncio.sleep(0.2)
        survived = await offload.run(os.getpid)  # the broken pool: this process does it
        replaced = await offload.run(os.getpid)  # then a new pool process
    finally:
        await offload.close()
    assert first != os.getpid()
    assert survived == os.getpid()
    assert replaced not in (first, os.getpid())
