"""The taint engine follows request data to sinks, stops at sanitizers, validators and dead
branches, reads Python 3.12-3.14 syntax, and the local reviewer reports each flow once."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from functions.ai_orchestrator import chunking, prompts
from functions.ai_orchestrator.providers import LocalProvider, taint, taint_rules
from functions.ai_orchestrator.providers.base import ReviewResult

CORPUS = Path(__file__).resolve().parents[2] / "corpus" / "taint"


def found(code: str) -> set[tuple[int, str]]:
    return {(f.line, f.category) for f in taint.analyze(textwrap.dedent(code))}


FLASK = "from flask import Flask, request\napp = Flask(__name__)\n"


@pytest.mark.parametrize(
    "source",
    [
        'request.args.get("q")',
        'request.form["q"]',
        "request.get_json()",
        'request.cookies.get("q")',
        'request.headers["X-Q"]',
        "request.data.decode()",
    ],
)
def test_flask_request_data_is_a_source(source: str) -> None:
    code = FLASK + f"import os\n\n@app.get('/x')\ndef view():\n    os.system({source})\n"
    assert found(code) == {(7, "command")}


@pytest.mark.parametrize(
    ("header", "source"),
    [
        ("def view(request):", 'request.GET["q"]'),  # Django
        ("def view(request):", "request.body.decode()"),
        ("async def view(request):", 'request.query_params["q"]'),  # Starlette
        ("async def view(request):", "(await request.json())['q']"),
        ("def main():", "input()"),
        ("def main():", "sys.argv[1]"),
    ],
)
def test_django_starlette_and_command_line_sources(header: str, source: str) -> None:
    code = f"import os, sys\nimport django\n{header}\n    value = {source}\n    os.system(value)\n"
    assert found(code) == {(5, "command")}


def test_a_request_parameter_outside_a_web_framework_is_not_the_clients() -> None:
    code = """\
        import os

        class Client:
            def send(self, request, auth):
                os.system(request.headers["X"] + auth)
                return request.url
    """
    assert found(code) == set(), "an HTTP client's request is its own outgoing request"


def test_route_parameters_are_sources_unless_an_annotation_validates_them() -> None:
    code = """\
        import os
        from fastapi import FastAPI
        app = FastAPI()

        @app.get("/a/{name}")
        def a(name: str, count: int):
            os.system("echo " + name)
            os.system("echo %d" % count)

        def not_a_route(x):
            os.system(x)
    """
    assert found(code) == {(7, "command")}


def test_environment_is_not_a_source() -> None:
    assert found("import os\nos.system(os.environ['CMD'])\n") == set()


def test_propagation_through_containers_strings_formatting_and_calls() -> None:
    code = FLASK + textwrap.dedent(
        """\
        import sqlite3

        def build(where):
            return "SELECT * FROM t WHERE " + where

        @app.post("/q")
        def view():
            parts = [request.form["a"], "x"]
            joined = ", ".join(parts)
            text = f"name = '{joined}'"
            query = build("{}".format(text))
            sqlite3.connect("db").execute(query)
        """
    )
    findings = taint.analyze(code)
    assert [(f.line, f.category) for f in findings] == [(14, "sql")]
    lines = [step.line for step in findings[0].trace]
    assert lines[0] == 10 and lines[-1] == 14 and 6 in lines, findings[0].trace


def test_a_sink_in_a_helper_is_reported_once_at_the_helper() -> None:
    code = FLASK + textwrap.dedent(
        """\
        import subprocess

        def run(command):
            subprocess.run(command, shell=True)

        @app.get("/a")
        def a():
            run(request.args["x"])

        @app.get("/b")
        def b():
            run("ls")
        """
    )
    assert found(code) == {(6, "command")}


@pytest.mark.parametrize(
    "safe",
    [
        'os.system("ls " + shlex.quote(value))',
        'subprocess.run(["ls", value])',
        'os.system("ls %d" % int(value))',
        'value = "fixed"\n    os.system(value)',
        'if value not in ("a", "b"):\n        return\n    os.system(value)',
        "if value in ALLOWED:\n        os.system(value)",
        'if re.fullmatch("[a-z]+", value):\n        os.system(value)',
        "if False:\n        os.system(value)",
        "if 6 * 7 < 40:\n        os.system(value)",
        'print(value)\n    os.system("ls")',
    ],
)
def test_sanitizers_validators_constants_and_dead_branches_stop_a_flow(safe: str) -> None:
    code = (
        "import os, re, shlex, subprocess\nfrom flask import request\nALLOWED = {'a'}\n\n"
        f"def view(request):\n    value = request.GET['q']\n    {safe}\n"
    )
    assert found(code) == set(), code


def test_a_conditional_expression_vouches_for_each_side_as_an_if_does() -> None:
    template = """\
        import os, django
        ALLOWED = {{"a", "b"}}
        def view(request):
            value = request.GET["q"]
            os.system({expression})
    """
    assert found(template.format(expression='value if value in ALLOWED else "a"')) == set()
    assert found(template.format(expression='"a" if value not in ALLOWED else value')) == set()
    assert found(template.format(expression='value if value else "a"')) == {(5, "command")}
    assert found(template.format(expression='"a" if value in ALLOWED else value')) == {
        (5, "command")
    }


def test_django_format_html_escapes_its_arguments_but_concatenation_does_not() -> None:
    template = """\
        from django.http import HttpResponse
        from django.utils.html import format_html
        def greet(request):
            who = request.GET["who"]
            return HttpResponse({body})
    """
    assert found(template.format(body='format_html("<b>{}</b>", who)')) == set()
    assert found(template.format(body='"<b>" + who + "</b>"')) == {(5, "xss")}


def test_path_containment_needs_normalisation_before_the_prefix_check() -> None:
    template = """\
        import os, django
        def view(request):
            target = {target}
            if not target.startswith("/srv/data/"):
                raise PermissionError(target)
            return open(target).read()
    """
    joined = 'os.path.join("/srv/data", request.GET["f"])'
    assert found(template.format(target=f"os.path.realpath({joined})")) == set()
    assert found(template.format(target=joined)) == {(6, "path")}, "../ still escapes"


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("import os\nos.system(V)", "command"),
        ("import sqlite3\nsqlite3.connect('d').execute('SELECT ' + V)", "sql"),
        ("import pickle\npickle.loads(V)", "deserialization"),
        ("import yaml\nyaml.load(V, Loader=yaml.Loader)", "deserialization"),
        ("eval(V)", "code"),
        ("from flask import redirect\nredirect(V)", "redirect"),
        ("open('/data/' + V)", "path"),
        ("import ldap3\nc = ldap3.Connection('x')\nc.search('dc=x', '(uid=' + V + ')')", "ldap"),
        ("from lxml import etree\netree.parse('f').xpath('//u[@n=\"' + V + '\"]')", "xpath"),
        ("from lxml import etree\netree.fromstring(V)", "xxe"),
        ("from flask import session\nsession['user'] = V", "trust"),
        ("from django.http import HttpResponse\nHttpResponse('<b>' + V)", "xss"),
    ],
)
def test_each_data_flow_category_has_its_sink(code: str, category: str) -> None:
    body = textwrap.indent(code.replace("V", "value"), "    ")
    module = f"import django\ndef view(request):\n    value = request.GET['q']\n{body}\n"
    assert category in {f.category for f in taint.analyze(module)}, module


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("import hashlib\nhashlib.md5(b'x')", "hash"),
        ("import hashlib\nhashlib.new('sha1')", "hash"),
        ("import flask\ndef f(r):\n    r.set_cookie('sid', 'v')", "cookie"),
        ("import random\napi_token = str(random.random())", "random"),
    ],
)
def test_weak_hashes_insecure_cookies_and_weak_random_need_no_input(
    code: str, category: str
) -> None:
    assert {f.category for f in taint.analyze(code)} == {category}


@pytest.mark.parametrize(
    "code",
    [
        "import hashlib\nhashlib.md5(b'x', usedforsecurity=False)",
        "import hashlib\nhashlib.sha256(b'x')",
        "import flask\ndef f(r):\n    r.set_cookie('sid', 'v', secure=True, httponly=True)",
        "import flask\ndef f(jar, cookie):\n    jar.set_cookie(cookie)",
        "import random\ncolor = random.choice(['red', 'blue'])",
        "import secrets\napi_token = secrets.token_hex()",
    ],
)
def test_their_safe_forms_are_not_reported(code: str) -> None:
    assert taint.analyze(code) == []


def test_every_category_carries_its_cwe_and_owasp_entry() -> None:
    assert len(taint_rules.CATEGORIES) == 14
    for category in taint_rules.CATEGORIES.values():
        assert category.cwe.startswith("CWE-") and category.owasp.startswith("A")


MODERN = """\
from flask import request
import os

type Pair[T] = tuple[T, T]

class Box[T]:
    def get[U](self, value: U) -> U:
        return value

def view():
    name = request.args["name"]
    message = f"{"prefix"} {name!r:>{10}}"
    try:
        os.system(message)
    except ValueError, TypeError:
        pass
"""


def test_python_3_12_to_3_14_syntax_is_analysed() -> None:
    assert taint.parse_errors(MODERN) == []
    assert found(MODERN) == {(14, "command")}


async def test_the_reviewer_reports_a_flow_across_chunks_once_in_the_chunk_of_its_sink() -> None:
    code = FLASK + "import os\n\n\ndef run(cmd):\n    os.system(cmd)\n" + "\n" * 30
    code += "@app.get('/x')\ndef view():\n    run(request.args['c'])\n"
    chunks = chunking.split("app.py", code, budget=40)
    assert len(chunks) > 1 and all(chunk.file_text == code for chunk in chunks)

    results = [await LocalProvider().review(chunk, prompts.DEFAULT) for chunk in chunks]

    flagged = [f for r in results for f in r.findings if f.rule == "taint:command-injection"]
    assert len(flagged) == 1, flagged
    finding = flagged[0]
    assert (finding.line, finding.cwe, finding.owasp) == (7, "CWE-78", "A03:2021-Injection")
    assert finding.trace is not None and finding.trace[0].line == 40, finding.trace
    assert finding.trace[-1].line == 7


def corpus_cases() -> list[Path]:
    return sorted(CORPUS.glob("*/*/*.py"))


def test_the_corpus_has_300_cases_across_the_14_categories() -> None:
    cases = corpus_cases()
    assert len(cases) >= 300
    assert {path.parent.name for path in cases} == set(taint_rules.CATEGORIES)
    for category in taint_rules.CATEGORIES:
        labels = [p.read_text().split("\n", 1)[0] for p in cases if p.parent.name == category]
        assert sum("vulnerable" in label for label in labels) == sum(
            "safe" in label for label in labels
        )


def test_a_value_looked_up_in_a_constant_table_is_not_the_clients() -> None:
    code = """\
        import os, django
        HOSTS = {"db": "10.0.0.5"}
        def view(request):
            os.system("ping " + HOSTS.get(request.GET["h"], "127.0.0.1"))
            os.system("ping " + HOSTS[request.GET["h"]])
            os.system("ping " + HOSTS.get("db", request.GET["h"]))
    """
    assert found(code) == {(6, "command")}, "the default is the client's"


def test_a_local_path_is_safe_to_redirect_to_but_a_leading_slash_alone_is_not() -> None:
    template = """\
        from flask import request, redirect
        def view():
            target = request.args["next"]
            if {condition}:
                target = "/"
            return redirect(target)
    """
    local = 'not target.startswith("/") or target.startswith("//")'
    assert found(template.format(condition=local)) == set()
    assert found(template.format(condition='not target.startswith("/")')) == {(6, "redirect")}


def test_a_20000_term_concatenation_is_followed_without_recursion() -> None:
    chain = " + ".join(["'x'"] * 20_000)
    code = f"import os\nfrom flask import request\nq = {chain} + request.args['q']\nos.system(q)\n"
    assert found(code) == {(4, "command")}


async def test_code_nested_too_deep_skips_only_the_taint_engine_with_the_reason() -> None:
    code = "x = " + "(" * 3000 + "1" + ")" * 3000 + "\n"
    chunk = chunking.split("deep.py", code, budget=100_000)[0]

    result = await LocalProvider().review(chunk, prompts.DEFAULT)

    skipped = {item.analyzer: item.reason for item in result.skipped_analyzers}
    assert skipped.get("taint") == "the code nests too deeply for the taint engine", skipped
    assert "secrets" in result.analyzers and "rules" in result.analyzers


CHECKED_BY_BANDIT = """\
import pickle
import subprocess
import hashlib, yaml
PASSWORD = "hunter2-secret"
def run(cmd, data):
    subprocess.call(cmd, shell=True)
    hashlib.md5(data)
    yaml.load(data)
    pickle.loads(data)  # nosec
    return "{}".format(cmd)
"""


def bandit_view(result: ReviewResult) -> set[tuple[int, str, str, str | None]]:
    return {
        (f.line, f.rule, f.severity, f.cwe) for f in result.findings if f.rule.startswith("bandit:")
    }


@pytest.mark.parametrize("analyzers", [prompts.DEFAULT.analyzers, ("bandit",)])
async def test_on_3_14_syntax_bandit_checks_run_through_ruff_with_the_findings_of_3_11(
    analyzers: tuple[prompts.Analyzer, ...],
) -> None:
    modern = CHECKED_BY_BANDIT.replace("def run(cmd, data)", "def run[T](cmd: T, data)")
    modern = modern.replace('"{}".format(cmd)', 'f"{"$ " + cmd}"')
    config = prompts.ReviewConfig(analyzers=analyzers)
    old, new = (
        chunking.split("m.py", code, budget=100_000)[0] for code in (CHECKED_BY_BANDIT, modern)
    )

    on_3_11 = await LocalProvider().review(old, config)
    on_3_14 = await LocalProvider().review(new, config)

    assert on_3_14.skipped_analyzers == [], on_3_14.skipped_analyzers
    assert "bandit:ruff" in on_3_14.analyzers and "bandit" in on_3_11.analyzers
    assert bandit_view(on_3_14) == bandit_view(on_3_11)
    expected = {(4, "bandit:B105", "low", "CWE-259")}
    if analyzers == ("bandit",):  # without taint, bandit's call-site checks are on
        expected |= {(6, "bandit:B602", "high", "CWE-78"), (7, "bandit:B324", "high", "CWE-327")}
        expected |= {(1, "bandit:B403", "low", "CWE-502"), (8, "bandit:B506", "medium", "CWE-20")}
        expected |= {(2, "bandit:B404", "low", "CWE-78")}
    assert bandit_view(on_3_14) == expected


async def test_on_3_14_syntax_every_analyzer_reviews_it_and_nothing_is_skipped() -> None:
    chunk = chunking.split("modern.py", MODERN, budget=100_000)[0]

    result = await LocalProvider().review(chunk, prompts.DEFAULT)

    assert result.skipped_analyzers == [], result.skipped_analyzers
    assert {"bandit:ruff", "ruff", "taint"} <= set(result.analyzers)
    assert (14, "taint:command-injection") in {(f.line, f.rule) for f in result.findings}


async def test_bandit_is_skipped_with_3_11_s_reason_only_when_ruff_cannot_parse_it_either() -> None:
    chunk = chunking.split("broken.py", "def f(:\n    pass\n", budget=100_000)[0]

    result = await LocalProvider().review(chunk, prompts.ReviewConfig(analyzers=("bandit",)))

    skipped = {item.analyzer: item.reason for item in result.skipped_analyzers}
    assert list(skipped) == ["bandit"], skipped
    assert skipped["bandit"].startswith("Python 3.11 cannot parse it: ")


def test_a_returned_string_is_html_in_flask_but_json_in_fastapi() -> None:
    template = """\
        from {framework} import {app_class}, request
        app = {app_class}()

        @app.get("/hello")
        def hello(name: str = ""):
            return "<p>" + {value} + "</p>"
    """
    flask = template.format(framework="flask", app_class="Flask", value="request.args['n']")
    fastapi = template.format(framework="fastapi", app_class="FastAPI", value="name")
    assert found(flask) == {(6, "xss")}
    assert found(fastapi) == set(), "FastAPI answers a str as JSON"


def _call_fan(levels: int, fan: int) -> str:
    """``levels`` functions, each calling the next ``fan`` times with the tainted value."""
    lines = ["import os", "from flask import request", ""]
    for level in range(levels):
        lines.append(f"def f{level}(x):")
        if level == levels - 1:
            lines.append("    os.system(x)")
        else:
            lines += [f"    x = f{level + 1}(x)"] * fan
        lines += ["    return x", ""]
    lines += ["def view():", "    f0(request.args['q'])", ""]
    return "\n".join(lines)


def _nested_loops(depth: int) -> str:
    body = [f"{'    ' * (level + 1)}for v{level} in request.args:" for level in range(depth)]
    return "\n".join(
        ["import os", "from flask import request", "def view():", *body]
        + [f"{'    ' * (depth + 1)}os.system(v0)", ""]
    )


@pytest.mark.parametrize(
    "code",
    [_call_fan(levels=7, fan=8), _nested_loops(depth=40)],
    ids=["call-fan-8-to-the-6", "40-nested-loops"],
)
def test_exponential_code_is_refused_once_its_work_budget_is_spent(code: str) -> None:
    # Unbounded, the call fan needs ~337,000 statement visits (23 s) for 75 lines, and 40
    # nested loops 2**40: the budget stops both after BASE_WORK + WORK_PER_LINE per line.
    visits = 0
    statement = taint._Module._statement

    def counted(self: taint._Module, *args: object) -> bool:
        nonlocal visits
        visits += 1
        return statement(self, *args)  # type: ignore[arg-type]

    taint._analyze_cached.cache_clear()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(taint._Module, "_statement", counted)
        with pytest.raises(taint.TooComplex, match="need more analysis than one module gets"):
            taint.analyze(code)
        lines = code.count("\n") + 1
        assert visits == taint.BASE_WORK + taint.WORK_PER_LINE * lines + 1
        with pytest.raises(taint.TooComplex):  # the refusal is remembered, not re-spent
            taint.analyze(code)
        assert visits == taint.BASE_WORK + taint.WORK_PER_LINE * lines + 1


def test_a_moderate_call_fan_is_still_followed_to_its_sink() -> None:
    assert found(_call_fan(levels=4, fan=3)) == {(23, "command")}  # f3's os.system(x)


def test_no_module_of_the_corpora_comes_near_its_budget() -> None:
    corpus = Path(__file__).parents[2] / "corpus"
    for path in sorted(corpus.rglob("*.py")):
        source = path.read_text(errors="replace")
        module = taint._Module(source.encode())
        budget = module.work_left
        module.run()
        assert module.work_left > budget // 2, (path, budget - module.work_left, budget)


def test_sax_external_entities_are_read_from_the_tree_not_backtracked_over() -> None:
    # A regex over the whole source took 218 s on 46 KB of "setFeature(external_ges".
    head = "import sys\nimport xml.sax\n"
    noise = "x = 'setFeature(external_ges" + "setFeature(external_ges" * 2_000 + "'\n"
    sink = "xml.sax.parseString(sys.argv[1].encode(), xml.sax.ContentHandler())\n"
    enabled = "p = xml.sax.make_parser()\np.setFeature(xml.sax.handler.feature_external_ges, 1)\n"
    assert found(head + noise + sink) == set(), "the words in a string turn nothing on"
    assert found(head + noise + enabled + sink) == {(6, "xxe")}
