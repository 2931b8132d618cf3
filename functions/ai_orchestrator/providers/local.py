"""local reviews code offline with real analyzers: taint, bandit, ruff, detect-secrets, rules.

No API key, no network, zero tokens. Python chunks go through the taint engine (``taint``:
data flow from request data to 14 kinds of sinks, CWE and OWASP on each finding, the flow
as its ``trace``), bandit (in-process on a thread) and ruff (its binary, as a subprocess,
one for all the chunks reviewed at the same moment), each bounded by a timeout so a stuck
analyzer cannot hang a request; every chunk goes through detect-secrets and the regex
rules of ``rules``. bandit and ruff see the chunk padded with blank lines so that they
report the file's line numbers; detect-secrets, which would scan every blank line, sees the
chunk alone and its line numbers are shifted.

The taint engine needs the whole module (a flow crosses functions): it reads the chunk's
``file_text`` when the caller sent the file (the worker does for Python files it splits),
else the chunk alone. Each chunk keeps the findings whose sink lies in it, so a finding
lands once however the file is cut; the module is analysed once per process and text.

Less noise by default: bandit's checks that the taint engine does with data flow (a call
site flagged whether or not attacker data reaches it: B602, B608, B301...) are left out
when ``taint`` runs, and pure style and low-signal checks (``RUFF_STYLE``: unused imports
and variables, import layout, bare ``except``; ``BANDIT_STYLE``: ``assert``, ``except:
pass``) only run when the configuration names the ``style`` analyzer. Measured on clean
code (tests/bench/RESULTS.md) this took the findings from 7.1 to under 1 per 1,000 lines.
ruff parses Python 3.12-3.14 syntax (target ``RUFF_TARGET``); bandit uses this 3.11
runtime's ``ast``, so where that cannot parse a chunk bandit's checks run as Ruff's ``S``
rules instead (``bandit_ruff``: same rule ids, severities, CWEs and left-out checks), and
the chunk counts as fully reviewed, with ``bandit:ruff`` among the analyzers that ran.
bandit is skipped only when ruff cannot parse the chunk either.
"""

from __future__ import annotations

import ast
import asyncio
import functools
import hashlib
import json
import logging
import re
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from functions.ai_orchestrator import chunking, prompts
from functions.ai_orchestrator.chunking import Chunk
from functions.ai_orchestrator.findings import Category, Finding, Severity, TraceStep
from functions.ai_orchestrator.providers import bandit_ruff, base, taint
from functions.ai_orchestrator.providers.base import InvalidRequest, ReviewResult, SkippedAnalyzer
from functions.ai_orchestrator.providers.rules import apply_rules
from shared import languages

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    import aiohttp

NAME = "local"
MODEL = "local-analyzers"
RUFF_SELECT = "F,E9,B"
# Pure style: off unless the configuration names the "style" analyzer.
RUFF_STYLE_SELECT = "E4,E7"
RUFF_STYLE = ("F401", "F403", "F405", "F541", "F841", "B007", "B009", "B010", "B904")
RUFF_TARGET = "py314"
# Event-loop turns a ruff run waits for the other chunks of its batch before it starts.
RUFF_GATHER_TURNS = 3
TAINT_REPLACES_RULES = frozenset({"acr:sql-concatenation"})
# bandit's low-signal checks: asserts (fine outside -O), try/except/pass and continue.
BANDIT_STYLE = ("B101", "B110", "B112")
# bandit's checks of a call site that the taint engine replaces with data flow.
BANDIT_SUPERSEDED = (
    *("B102", "B301", "B302", "B303", "B307", "B308", "B311", "B313", "B314", "B315"),
    *("B316", "B317", "B318", "B319", "B320", "B324", "B403", "B404", "B405", "B406"),
    *("B407", "B408", "B409", "B410", "B506", "B602", "B603", "B604", "B605", "B606"),
    *("B607", "B608", "B609", "B701", "B703", "B704"),
)
# Name-resolution rules need the whole file: in a partial chunk the import's use (or the
# name's definition) may sit in another chunk, so these would be false positives.
RUFF_WHOLE_FILE_ONLY = frozenset({"F401", "F811", "F821", "F822", "F823"})
BANDIT_SEVERITY: dict[str, Severity] = {"HIGH": "high", "MEDIUM": "medium", "LOW": "low"}
logger = logging.getLogger(__name__)
_secrets_lock = threading.Lock()
_FENCE_LANGUAGE = re.compile(r"[\w+#.-]*")


class Offload:
    """Processes beside the function's own for the CPU-bound analyzers (bandit and taint).

    The analyzers hold the GIL, so one process reviews at most one core's worth however
    many chunks arrive together; the orchestrator's instance has two (knative/, limit 2000m).
    While two or more local reviews run at once in this process (the worker's concurrent
    ``/review`` calls of an analysis), bandit and taint run in a pool of ``processes``
    (``LOCAL_ANALYZER_PROCESSES``; 0: threads only), started on first need and kept; a
    single review (``/review`` of one chunk, a chat answer) stays in this process, so the
    pool costs neither the cold start nor the memory of an instance that never batches.
    The findings are the same either way (tests/functions/ai_orchestrator/test_local.py).
    """

    def __init__(self) -> None:
        self.processes: Callable[[], int] = lambda: 0  # the function's setting, read when needed
        self.reviews = 0  # local reviews running in this process now
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def configure(self, processes: Callable[[], int]) -> None:
        self.processes = processes

    def executor(self) -> ProcessPoolExecutor | None:
        """The pool when this review has company and processes are allowed, else None."""
        if self.reviews < 2 or (processes := self.processes()) <= 0:
            return None
        with self._lock:
            if self._pool is None:
                # imported here: ~14 ms of start-up that an instance that never batches skips
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                self._pool = ProcessPoolExecutor(
                    processes,
                    mp_context=multiprocessing.get_context("spawn"),  # no fork of a threaded loop
                    initializer=_warm_analyzers,
                )
            return self._pool

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        pool = self.executor()
        if pool is None:
            return await asyncio.to_thread(function, *args)
        from concurrent.futures.process import BrokenProcessPool

        try:
            return await asyncio.get_running_loop().run_in_executor(pool, function, *args)
        except BrokenProcessPool:  # its process died (killed, out of memory): a new one later
            logger.warning("The local analyzers' process died; the chunk is analysed here")
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)
            return await asyncio.to_thread(function, *args)

    async def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)


def _warm_analyzers() -> None:
    """A pool process's start: bandit's plugins and the taint rules, before the first chunk.
    Ctrl-C of ``make run`` reaches the whole process group: the function shuts its pool
    down itself as it drains, so the pool's processes ignore SIGINT."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _bandit_config()
    taint.analyze("x = 1\n")


offload = Offload()


class LocalProvider:
    """The offline reviewer; ``timeout`` bounds each analyzer subprocess in seconds."""

    name = NAME

    def __init__(self, *, timeout: float = 30.0) -> None:
        self.timeout = timeout

    async def review(
        self,
        chunk: Chunk,
        config: prompts.ReviewConfig,
        *,
        model: str = MODEL,
        client: aiohttp.ClientSession | None = None,
    ) -> ReviewResult:
        enabled = [name for name in config.analyzers if _applies(name, chunk) and name != "style"]
        offload.reviews += 1
        try:
            outcomes = await asyncio.gather(*(self._run(name, chunk, config) for name in enabled))
        finally:
            offload.reviews -= 1
        findings: list[Finding] = []
        skipped: list[SkippedAnalyzer] = []
        ran: list[str] = []
        for name, outcome in zip(enabled, outcomes, strict=True):
            if isinstance(outcome, SkippedAnalyzer):
                skipped.append(outcome)
            elif isinstance(outcome, tuple):
                ran.append(outcome[0])
                findings += outcome[1]
            else:
                ran.append(name)
                findings += outcome
        return ReviewResult(
            findings=base.finish(findings, chunk, config),
            input_tokens=0,
            output_tokens=0,
            model=MODEL,
            provider=NAME,
            analyzers=ran,
            skipped_analyzers=skipped,
        )

    async def chat(
        self, request: Mapping[str, Any], *, client: aiohttp.ClientSession | None = None
    ) -> dict[str, Any]:
        """Review the code of the last user message and answer a deterministic summary.

        The code is the first fenced block (its info string names the language) or the
        whole message; the answer lists each finding as ``line N [severity] rule: message``.
        """
        text = _last_user_text(request)
        path, code = _snippet(text)
        chunk = chunking.split(path, code, budget=10**9)[0] if code.strip() else None
        findings = [] if chunk is None else (await self.review(chunk, prompts.DEFAULT)).findings
        return {
            "id": "chatcmpl-local-" + hashlib.sha256(text.encode()).hexdigest()[:24],
            "object": "chat.completion",
            "created": int(time.time()),
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": summary(findings), "refusal": None},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        }

    async def _run(
        self, name: str, chunk: Chunk, config: prompts.ReviewConfig
    ) -> list[Finding] | SkippedAnalyzer | tuple[str, list[Finding]]:
        if name == "taint":
            try:
                return await asyncio.wait_for(offload.run(taint_findings, chunk), self.timeout)
            except TimeoutError:
                return SkippedAnalyzer(
                    analyzer="taint", reason=f"timed out after {self.timeout:g}s"
                )
        if name == "bandit":
            left_out = (
                *(BANDIT_SUPERSEDED if "taint" in config.analyzers else ()),
                *(() if "style" in config.analyzers else BANDIT_STYLE),
            )
            return await self._bandit(chunk, left_out=left_out)
        if name == "ruff":
            return await self._ruff(chunk, style="style" in config.analyzers)
        if name == "secrets":
            return await asyncio.to_thread(scan_secrets, chunk)
        # with data flow, the taint engine reports SQL built from input, not every concatenation
        taint_sql = chunk.language == "python" and "taint" in config.analyzers
        return apply_rules(chunk, skip=TAINT_REPLACES_RULES if taint_sql else frozenset())

    async def _bandit(
        self, chunk: Chunk, *, left_out: tuple[str, ...] = ()
    ) -> list[Finding] | SkippedAnalyzer | tuple[str, list[Finding]]:
        problem = _python_parse_problem(chunk)
        if problem:
            return await self._bandit_through_ruff(chunk, left_out=left_out, problem=problem)
        with tempfile.TemporaryDirectory(prefix="acr-bandit-") as folder:
            target = Path(folder) / (PurePosixPath(chunk.path).name or "chunk.py")
            target.write_text(_padded(chunk), encoding="utf-8")
            try:
                report = await asyncio.wait_for(
                    offload.run(_run_bandit, str(target), left_out), self.timeout
                )
            except TimeoutError:
                return SkippedAnalyzer(
                    analyzer="bandit", reason=f"timed out after {self.timeout:g}s"
                )
        return _bandit_findings(chunk, report)

    async def _bandit_through_ruff(
        self, chunk: Chunk, *, left_out: tuple[str, ...], problem: str
    ) -> tuple[str, list[Finding]] | SkippedAnalyzer:
        """bandit's checks as Ruff's ``S`` rules, for a chunk Python 3.11 cannot parse."""
        source = _padded(chunk)
        command = [
            *(*_ruff_command(), "check", "--no-cache", "--isolated", "--quiet"),
            *("--output-format=json", "--target-version", RUFF_TARGET),
            *bandit_ruff.ruff_arguments(left_out),
            *("--stdin-filename", PurePosixPath(chunk.path).name or "chunk.py", "-"),
        ]
        with tempfile.TemporaryDirectory(prefix="acr-bandit-ruff-") as folder:
            result = await self._subprocess("bandit", command, cwd=folder, stdin=source)
        if isinstance(result, SkippedAnalyzer):
            return result
        if any(item.get("code") in (None, "invalid-syntax") for item in result):
            return SkippedAnalyzer(analyzer="bandit", reason=problem)
        return bandit_ruff.ANALYZER, bandit_ruff.findings(chunk, source, result)

    async def _ruff(self, chunk: Chunk, *, style: bool) -> list[Finding] | SkippedAnalyzer:
        """ruff's findings of the chunk, from one ruff process shared with every chunk whose
        ruff run is asked for in the same turn of the event loop (the chunks of a /review
        batch, the worker's concurrent calls): a process start is ~5x ruff's own work on a
        chunk. Each chunk is its own file under its own name, so ruff sees what it saw of
        the chunk alone; the findings are the same (tests/functions/ai_orchestrator/
        test_local.py compares both on the corpus)."""
        select = f"{RUFF_SELECT},{RUFF_STYLE_SELECT}" if style else RUFF_SELECT
        arguments = (
            *("--output-format=json", "--select", select, "--target-version", RUFF_TARGET),
            *(() if style else ("--ignore", ",".join(RUFF_STYLE))),
        )
        loop = asyncio.get_running_loop()
        key = (id(loop), self.timeout, arguments)
        future: asyncio.Future[Any] = loop.create_future()
        gathering = _ruff_batches.get(key)
        if gathering is None or gathering[0].done():
            task = loop.create_task(self._ruff_batch(key, arguments))
            gathering = _ruff_batches[key] = (task, [])
            _ruff_tasks.add(task)
            task.add_done_callback(_ruff_tasks.discard)
        gathering[1].append((chunk, future))
        result = await future
        if isinstance(result, SkippedAnalyzer):
            return result
        return _ruff_findings(chunk, result)

    async def _ruff_batch(self, key: tuple[Any, ...], arguments: tuple[str, ...]) -> None:
        """Run ruff once over the chunks gathered under ``key``; resolve each future with
        its chunk's diagnostics (or why there are none)."""
        for _ in range(RUFF_GATHER_TURNS):  # let the chunks asked for alongside join
            await asyncio.sleep(0)
        _, batch = _ruff_batches.pop(key)
        files: list[str] = []
        result: Any
        try:
            with tempfile.TemporaryDirectory(prefix="acr-ruff-") as folder:
                for index, (chunk, _) in enumerate(batch):
                    name = PurePosixPath(chunk.path).name or "chunk.py"
                    target = Path(folder) / str(index) / name
                    target.parent.mkdir()
                    target.write_text(_padded(chunk), encoding="utf-8")
                    files.append(str(target))  # ruff names each file as it was given
                command = [
                    *(*_ruff_command(), "check", "--no-cache", "--isolated", "--quiet"),
                    *arguments,
                    *files,
                ]
                result = await self._subprocess("ruff", command, cwd=folder)
        except Exception as error:  # noqa: BLE001 - every waiting chunk must get an answer
            result = SkippedAnalyzer(analyzer="ruff", reason=f"could not run: {error!r}"[:200])
        by_file: dict[str, list[Any]] = {}
        if not isinstance(result, SkippedAnalyzer):
            for item in result:
                by_file.setdefault(str(item.get("filename")), []).append(item)
        for index, (_, future) in enumerate(batch):
            if future.done():  # its review was cancelled
                continue
            if isinstance(result, SkippedAnalyzer):
                future.set_result(result)
            else:
                future.set_result(by_file.get(files[index], []))

    async def _subprocess(
        self, analyzer: str, command: list[str], *, cwd: str, stdin: str | None = None
    ) -> Any:
        """The JSON a tool printed, or why there is none (timeout, crash, not installed)."""
        # without input, no stdin pipe: writing b"" to one ruff already closed raises
        # "unable to perform operation on <WriteUnixTransport closed=True>" (not a pipe error)
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=cwd,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            stdout, stderr = await asyncio.wait_for(
                process.communicate(stdin.encode() if stdin is not None else None), self.timeout
            )
        except TimeoutError:
            process.kill()
            await process.wait()
            return SkippedAnalyzer(analyzer=analyzer, reason=f"timed out after {self.timeout:g}s")
        try:
            return json.loads(stdout)
        except ValueError:
            detail = stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            return SkippedAnalyzer(
                analyzer=analyzer,
                reason=f"exited {process.returncode} without a JSON report: {detail[0][:200]}",
            )


KEYWORD_MAX_LINE = 300
KEYWORD_MAX_HINTS = 4
# detect-secrets' scanners, with and without its keyword plugin (built on first use).
_scanners: dict[bool, Any] = {}


def _keyword_cheap(line: str, hint: re.Pattern[str]) -> bool:
    """Whether detect-secrets' keyword plugin reads ``line`` in bounded time."""
    return len(line) <= KEYWORD_MAX_LINE and len(hint.findall(line)) <= KEYWORD_MAX_HINTS


def _keep(lines: list[str], heavy: list[bool], which: bool) -> str:
    """The lines whose ``heavy`` flag is ``which``, the others blank (numbers unchanged)."""
    return (
        "\n".join(line if flag is which else "" for line, flag in zip(lines, heavy, strict=True))
        + "\n"
    )


# The ruff runs gathering chunks, per event loop, timeout and arguments (a provider object
# is made per call, so the gathering is the process's); the tasks are kept referenced.
_ruff_batches: dict[tuple[Any, ...], tuple[asyncio.Task[None], list[Any]]] = {}
_ruff_tasks: set[asyncio.Task[None]] = set()


def summary(findings: list[Finding]) -> str:
    """The chat answer of the local reviewer."""
    if not findings:
        return "The local analyzers found no issues."
    lines = [f"The local analyzers found {len(findings)} issue(s):"]
    for finding in findings:
        lines.append(
            f"- line {finding.line} [{finding.severity}] {finding.rule}: {finding.message}"
        )
    return "\n".join(lines)


def scan_secrets(chunk: Chunk) -> list[Finding] | SkippedAnalyzer:
    """detect-secrets' plugins and filters over the chunk; the secret itself is never echoed.

    The scan is detect-secrets' ``scan_file`` with its plugins and filters bound once
    (``secret_scan``: the same findings, 4.8x faster). Its ``KeywordDetector`` backtracks
    over runs of its keywords: one 1.8 KB line of ``secret`` repeated cost 3.5 s, and 24 KB
    of ``password`` 468 s. It therefore reads only lines of at most ``KEYWORD_MAX_LINE``
    characters with at most ``KEYWORD_MAX_HINTS`` keyword stems (at that bound a line costs
    at most ~6 ms, against ~0.3 ms for a line of ordinary code); every other plugin reads
    every line. A ``password = "..."`` worth reporting is a short line, and a minified line
    is no place for a keyword match.
    """
    # imported here: ~30 ms that /models, chat and AI-only reviews should not pay at start
    from detect_secrets.settings import default_settings

    from functions.ai_orchestrator.providers import secret_scan

    suffix = PurePosixPath(chunk.path).suffix
    # The chunk alone, its line numbers shifted after: detect-secrets runs every plugin on
    # every line, blank ones too, so padding made a chunk deep in a file cost 30x more.
    offset = chunk.start_line - 1
    lines = chunk.content.split("\n")
    heavy = [not _keyword_cheap(line, secret_scan.KEYWORD_HINT) for line in lines]
    found: list[Any] = []  # detect-secrets PotentialSecret
    with tempfile.TemporaryDirectory(prefix="acr-secrets-") as folder:
        target = Path(folder) / f"chunk{suffix}"
        # detect-secrets keeps its settings in a process-wide singleton.
        with _secrets_lock, default_settings():
            if not _scanners:
                _scanners[True] = secret_scan.Scanner()
                _scanners[False] = secret_scan.Scanner(without=("KeywordDetector",))
            plugins = _scanners[True].names
            target.write_text(_keep(lines, heavy, False), encoding="utf-8")
            found += _scanners[True].scan_file(str(target))
            if any(heavy):
                target.write_text(_keep(lines, heavy, True), encoding="utf-8")
                found += _scanners[False].scan_file(str(target))
    findings = {}
    for secret in found:
        number = secret.line_number + offset
        rule = f"secrets:{plugins.get(secret.type, secret.type.replace(' ', ''))}"
        findings[(number, rule)] = Finding(
            path=chunk.path,
            line=number,
            end_line=number,
            severity="critical" if "Keyword" not in rule else "high",
            category="secrets",
            rule=rule,
            message=f"Possible {secret.type} committed in source.",
            suggestion="Remove it, rotate the credential, and load it from a secret store.",
        )
    return list(findings.values())


def taint_findings(chunk: Chunk) -> list[Finding] | SkippedAnalyzer:
    """The taint engine's findings of the chunk's file that start in the chunk (the caller
    clips): the whole file when the chunk carries it, else the chunk, at the file's lines."""
    source = chunk.file_text if chunk.file_text is not None else _padded(chunk)
    try:
        flows = taint.analyze(source)
    except taint.TooComplex as error:
        return SkippedAnalyzer(analyzer="taint", reason=str(error))
    findings = []
    for found in flows:
        if not chunk.start_line <= found.line <= chunk.end_line:
            continue
        rule = found.rule
        findings.append(
            Finding(
                path=chunk.path,
                line=found.line,
                end_line=max(found.line, found.end_line),
                severity=rule.severity,
                category="security",
                rule=rule.rule,
                message=found.message,
                suggestion=rule.suggestion,
                cwe=rule.cwe,
                owasp=rule.owasp,
                trace=[
                    TraceStep(line=step.line, column=step.column, message=step.message)
                    for step in found.trace
                ]
                or None,
            )
        )
    return findings


def _applies(analyzer: str, chunk: Chunk) -> bool:
    return chunk.language == "python" or analyzer not in ("bandit", "ruff", "taint")


def _padded(chunk: Chunk) -> str:
    """The chunk preceded by blank lines, so tools count lines as the file does."""
    return "\n" * (chunk.start_line - 1) + chunk.content + "\n"


def _python_parse_problem(chunk: Chunk) -> str | None:
    """Why this runtime's Python cannot parse the chunk (bandit uses its ``ast``), if so."""
    try:
        ast.parse(_padded(chunk))
    except SyntaxError as error:
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        return f"Python {version} cannot parse it: {error.msg} at line {error.lineno}"
    return None


@functools.cache
def _ruff_command() -> tuple[str, ...]:
    """ruff's own binary, found as ``python -m ruff`` finds it, so a chunk does not pay for
    an interpreter start (~20 ms, four times ruff's own work on a chunk)."""
    try:
        from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

        return (str(find_ruff_bin()),)
    except (ImportError, FileNotFoundError):
        return (sys.executable, "-m", "ruff")  # ruff then says itself what is missing


_bandit_lock = threading.Lock()


@functools.cache
def _bandit_config() -> Any:
    from bandit.core import config

    return config.BanditConfig()


def _run_bandit(path: str, left_out: tuple[str, ...] = ()) -> dict[str, Any]:
    """bandit's own manager, in-process, answering what ``bandit -f json`` would: a new
    interpreter per chunk cost ~180 ms of start-up for well under 1 ms of analysis.
    ``left_out``: test ids not to run (taint's and style's, see the module docstring)."""
    from bandit.core import manager

    profile = {"include": set(), "exclude": set(left_out)} if left_out else None
    with _bandit_lock:  # bandit's extension loader and logging are process-wide
        runner = manager.BanditManager(_bandit_config(), "file", quiet=True, profile=profile)
        runner.discover_files([path])
        runner.run_tests()
        issues, skipped = runner.get_issue_list(), list(runner.skipped)
    return {
        "results": [
            {
                "line_number": issue.lineno,
                "line_range": list(issue.linerange or [issue.lineno]),
                "issue_severity": str(issue.severity),
                "test_id": issue.test_id,
                "test_name": issue.test,
                "issue_text": issue.text,
                "cwe": issue.cwe.id if issue.cwe else 0,
            }
            for issue in issues
        ],
        "errors": [{"filename": name, "reason": reason} for name, reason in skipped],
    }


def _bandit_findings(chunk: Chunk, report: Any) -> list[Finding] | SkippedAnalyzer:
    errors = report.get("errors") or []
    if errors:
        return SkippedAnalyzer(analyzer="bandit", reason=str(errors[0].get("reason", errors[0])))
    findings = []
    for issue in report.get("results") or []:
        line_range = issue.get("line_range") or [issue["line_number"]]
        findings.append(
            Finding(
                path=chunk.path,
                line=issue["line_number"],
                end_line=max(issue["line_number"], *line_range),
                severity=BANDIT_SEVERITY.get(issue.get("issue_severity", ""), "low"),
                category="security",
                rule=f"bandit:{issue['test_id']}",
                message=f"{issue['issue_text']} ({issue['test_name']})",
                suggestion=None,
                cwe=f"CWE-{issue['cwe']}" if issue.get("cwe") else None,
            )
        )
    return findings


def _ruff_findings(chunk: Chunk, diagnostics: Any) -> list[Finding] | SkippedAnalyzer:
    syntax = [item for item in diagnostics if item.get("code") in (None, "invalid-syntax")]
    if syntax:
        first = syntax[0]
        return SkippedAnalyzer(
            analyzer="ruff",
            reason=f"cannot parse it: {first['message']} at line {first['location']['row']}",
        )
    findings = []
    for item in diagnostics:
        code = item["code"]
        if code in RUFF_WHOLE_FILE_ONLY and not chunk.is_whole_file:
            continue
        severity, category = _ruff_kind(code)
        fix = item.get("fix") or {}
        findings.append(
            Finding(
                path=chunk.path,
                line=item["location"]["row"],
                end_line=max(item["location"]["row"], item["end_location"]["row"]),
                severity=severity,
                category=category,
                rule=f"ruff:{code}",
                message=item["message"],
                suggestion=fix.get("message"),
            )
        )
    return findings


def _ruff_kind(code: str) -> tuple[Severity, Category]:
    if code in ("F821", "F822", "F823", "F811"):
        return "high", "bug"
    if code.startswith("E7") or code in ("F401", "F541", "F841"):
        return "low", "maintainability"
    return "medium", "bug"


def _last_user_text(request: Mapping[str, Any]) -> str:
    for message in reversed(request.get("messages") or []):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return "\n".join(str(part.get("text", "")) for part in content)
            return str(content or "")
    raise InvalidRequest("the request has no user message", provider=NAME, status=400)


def _snippet(text: str) -> tuple[str, str]:
    """``(path, code)``: a fenced block's language picks the extension, else Python."""
    fenced = _fenced(text)
    if fenced is None:
        return "snippet.py", text
    language = fenced[0].lower() or "python"
    return f"snippet{_extensions().get(language, '.' + language)}", fenced[1]


def _fenced(text: str) -> tuple[str, str] | None:
    """The language and body of the first fenced block (a fence line, up to the next fence).

    Three scans, so linear in the message: the regex it replaces restarted at every
    backtick of an unclosed fence, and 40,000 backticks cost it 3.6 s.
    """
    start = text.find("```")
    newline = text.find("\n", start + 3) if start >= 0 else -1
    close = text.find("```", newline + 1) if newline >= 0 else -1
    if close < 0:
        return None
    language = _FENCE_LANGUAGE.match(text, start + 3, newline)
    return (language.group() if language else ""), text[newline + 1 : close]


@functools.cache
def _extensions() -> dict[str, str]:
    """A fence's language -> the first extension ``shared.languages`` knows for it."""
    extensions = {value: key for key, value in reversed(languages.EXTENSIONS.items())}
    extensions.update({"py": ".py", "js": ".js", "ts": ".ts", "sh": ".sh", "bash": ".sh"})
    return extensions
