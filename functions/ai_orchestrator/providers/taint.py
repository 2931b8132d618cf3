"""taint follows attacker-controlled data through a Python module to dangerous calls.

Why our own engine, over tree-sitter: measured side by side (README, "Taint analysis"),
Semgrep's wheel alone is 72 MB and Pysa needs ~1 GB and hand-written models for Flask, so
neither fits a scale-to-zero reviewer. tree-sitter-python parses Python 3.12-3.14 syntax
(PEP 701 f-strings, PEP 695 generics, PEP 758 ``except A, B:``) that this 3.11 runtime's
``ast`` rejects, at twice ``ast``'s speed, in a 2.7 MB install; on what it cannot parse it
recovers locally (an ERROR node), so one bad line never hides a file.

The analysis is flow-sensitive within a function and inter-procedural within a module:

* **Sources**: request data of Flask/Werkzeug, Django and Starlette/FastAPI (the
  attributes of ``taint_rules.REQUEST_ATTRIBUTES`` on ``flask.request`` or on a view's
  ``request`` parameter), route parameters (Flask URL parts, FastAPI parameters that no
  annotation validates, a Django view's URL arguments), ``input()`` and ``sys.argv``. The
  environment is the operator's, not the attacker's, and is not a source.
* **Propagation**: assignments (tuples, augmented, walrus, ``for``/``with`` targets),
  containers and comprehensions, string building (``+``, ``%``, f-strings, ``format``,
  ``join``), methods of a tainted value, and calls: a function of the same module is
  analysed with its arguments' taint (memoised per taint pattern) and its return value
  carries the flow on; any other call passes its arguments' taint through.
* **Sanitizers and validators**: a call of ``CLEANSING_CALLS`` (``int()``...) clears a
  value; one of ``SANITIZERS`` (``shlex.quote``, ``html.escape``, ``secure_filename``...)
  clears it for its categories. A condition clears its values inside the branch it guards
  (of an ``if`` or a conditional expression), or after it when the other branch returns,
  raises or aborts: allow-list membership and
  equality with constants, validator calls (``re.fullmatch``, ``isdigit``,
  ``url_has_allowed_host_and_scheme``...), and ``startswith``/``is_relative_to`` after a
  ``realpath``/``resolve`` (path containment). Parameterized queries need no rule: only
  the query text (the first argument) is a SQL sink.
* **Constants and dead branches**: a condition over literals and names bound to them
  (module or local) is evaluated, and the branch it never takes is skipped.
* **Sinks**: ``taint_rules.SINK_CALLS``/``SINK_METHODS`` plus the rules that need more
  than an argument: ``subprocess`` with ``shell=True`` (or a tainted program), ``yaml.load``
  without a safe loader, a Flask route returning a tainted string (XSS: FastAPI answers
  JSON), tainted session writes
  (trust boundary), lxml parsing with entity resolution, and, without any taint,
  ``set_cookie`` without ``secure=True``, MD5/SHA-1 not marked ``usedforsecurity=False``,
  and ``random`` values that become a token, password or key.

A finding's ``trace`` lists the steps from the source to the sink (SARIF ``codeFlows``).

**Bounded work.** Following calls per argument-taint pattern and taking two passes over
every loop body are exponential in the nesting of calls and loops: 75 hostile lines (seven
functions, each calling the next eight times) took 23 s. Every module therefore gets a
budget of statement visits, ``BASE_WORK + WORK_PER_LINE`` per line, at most ``MAX_WORK``
(the corpora use under one visit per line; a visit costs ~0.1 ms), and a module that needs
more is ``TooComplex``: reported as a skipped analyzer, never run to the end.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import tree_sitter
import tree_sitter_python

from functions.ai_orchestrator.providers import taint_rules as R

_LANGUAGE = tree_sitter.Language(tree_sitter_python.language())
MAX_STEPS = 12
MAX_CALL_DEPTH = 6
BASE_WORK = 2_000
WORK_PER_LINE = 4
MAX_WORK = 50_000
_UNKNOWN: Any = object()
_SENSITIVE = re.compile(r"(?:^|_|\b)(" + "|".join(R.SENSITIVE_WORDS) + r")", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Step:
    """One place on a flow: 1-based line, 0-based column, what happens there."""

    line: int
    column: int
    message: str


@dataclass(frozen=True, slots=True)
class Taint:
    """A value under attacker control (``kind`` user) or predictable (``random``)."""

    kind: str
    steps: tuple[Step, ...]
    cleansed: frozenset[str] = frozenset()

    def then(self, step: Step) -> Taint:
        steps = (*self.steps, step)
        if len(steps) > MAX_STEPS:  # keep the source and the latest steps
            steps = (steps[0], *steps[-(MAX_STEPS - 1) :])
        return Taint(self.kind, steps, self.cleansed)

    def clean(self, categories: frozenset[str]) -> Taint:
        return Taint(self.kind, self.steps, self.cleansed | categories)

    def reaches(self, category: str) -> bool:
        return category not in self.cleansed and (self.kind == "user") == (category != "random")


@dataclass(frozen=True, slots=True)
class TaintFinding:
    """A category's sink reached at ``line..end_line`` (or a flagged call), with its trace."""

    category: str
    line: int
    end_line: int
    message: str
    trace: tuple[Step, ...] = ()

    @property
    def rule(self) -> R.Category:
        return R.CATEGORIES[self.category]


_local = threading.local()


def _parser() -> tree_sitter.Parser:
    """One parser per thread: reviews run analyses on several threads at once."""
    parser: tree_sitter.Parser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = tree_sitter.Parser(_LANGUAGE)
    return parser


class TooComplex(Exception):
    """The module nests deeper than the engine follows (e.g. a 5,000-term expression), or
    its calls and loops need more statement visits than its budget."""


def analyze(source: str) -> list[TaintFinding]:
    """Every finding of one module, in line order, one per (category, line).

    Raises:
        TooComplex: the code nests too deeply to analyse.
    """
    result = _analyze_cached(source)
    if isinstance(result, TooComplex):
        raise result
    return list(result)


@functools.lru_cache(maxsize=64)
def _analyze_cached(source: str) -> tuple[TaintFinding, ...] | TooComplex:
    # The chunks of one file arrive one by one with the same whole-file text: analyse once,
    # and remember a refusal too, so each chunk of a hostile file doesn't spend the budget.
    module = _Module(source.encode("utf-8", errors="replace"))
    try:
        return tuple(sorted(module.run(), key=lambda f: (f.line, f.category)))
    except RecursionError:
        return TooComplex("the code nests too deeply for the taint engine")
    except TooComplex as error:
        return error


def parse_errors(source: str) -> list[int]:
    """Lines tree-sitter could not parse (recovered around), for the coverage report."""
    tree = _parser().parse(source.encode("utf-8", errors="replace"))
    lines: list[int] = []
    if not tree.root_node.has_error:
        return lines
    for node in _walk(tree.root_node):
        if node.type == "ERROR" or node.is_missing:
            lines.append(node.start_point[0] + 1)
    return sorted(set(lines))


def _sax_feature_enabled(arguments: tree_sitter.Node | None) -> bool:
    """``(<name of external_ges/external_pes>, True | 1)``, the first two arguments."""
    values = arguments.named_children[:2] if arguments is not None else []
    return (
        len(values) == 2
        and any(word in _text(values[0]) for word in ("external_ges", "external_pes"))
        and _text(values[1]) in ("True", "1")
    )


def _walk(node: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def _text(node: tree_sitter.Node | None) -> str:
    return "" if node is None or node.text is None else node.text.decode("utf-8", "replace")


def _step(node: tree_sitter.Node, message: str) -> Step:
    return Step(node.start_point[0] + 1, node.start_point[1], message)


def _short(node: tree_sitter.Node, limit: int = 60) -> str:
    text = " ".join(_text(node).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _union(*taints: Taint | None) -> Taint | None:
    found = [t for t in taints if t is not None]
    if not found:
        return None
    user = [t for t in found if t.kind == "user"]
    first = (user or found)[0]
    cleansed = functools.reduce(lambda a, b: a & b, (t.cleansed for t in user or found))
    return Taint(first.kind, first.steps, cleansed)


@dataclass(slots=True)
class _Env:
    """What a point of a function knows: tainted names and names bound to constants."""

    vars: dict[str, Taint] = field(default_factory=dict)
    consts: dict[str, Any] = field(default_factory=dict)

    def copy(self) -> _Env:
        return _Env(dict(self.vars), dict(self.consts))

    def merge(self, other: _Env) -> None:
        for name in set(self.vars) | set(other.vars):
            merged = _union(self.vars.get(name), other.vars.get(name))
            if merged is not None:
                self.vars[name] = merged
        for name in list(self.consts):
            if other.consts.get(name, _UNKNOWN) != self.consts[name]:
                del self.consts[name]


@dataclass(slots=True)
class _Frame:
    """One function being analysed: its node, whether it is a web view, its returns."""

    node: tree_sitter.Node | None
    is_view: bool
    depth: int
    returns: Taint | None = None


class _Module:
    def __init__(self, source: bytes) -> None:
        self.tree = _parser().parse(source)
        self.imports: dict[str, str] = {}
        self.functions: dict[str, tree_sitter.Node] = {}
        self.consts: dict[str, Any] = {}
        self.findings: dict[tuple[str, int], TaintFinding] = {}
        self.summaries: dict[tuple[int, tuple[bool, ...]], Taint | None] = {}
        self.active: set[int] = set()
        self._sax_features: bool | None = None
        lines = source.count(b"\n") + 1
        self.work_left = min(MAX_WORK, BASE_WORK + WORK_PER_LINE * lines)
        self._index(self.tree.root_node)
        self.web = self.imports_library("web")
        # Flask (and its kin) send a returned string as text/html; FastAPI sends JSON and a
        # Django view must return a response object: there a returned string is no XSS.
        self.html_returns = self.imports_library("html_returns") and not self.imports_library(
            "fastapi"
        )

    # ------------------------------------------------------------------ module index

    def _index(self, root: tree_sitter.Node) -> None:
        for node in _walk(root):
            if node.type == "import_statement":
                for name in node.children_by_field_name("name"):
                    if name.type == "aliased_import":
                        self.imports[_text(name.child_by_field_name("alias"))] = _text(
                            name.child_by_field_name("name")
                        )
                    else:
                        dotted = _text(name)
                        self.imports[dotted.split(".")[0]] = dotted.split(".")[0]
            elif node.type == "import_from_statement":
                module = _text(node.child_by_field_name("module_name")).lstrip(".")
                for name in node.children_by_field_name("name"):
                    if name.type == "aliased_import":
                        local = _text(name.child_by_field_name("alias"))
                        imported = _text(name.child_by_field_name("name"))
                    else:
                        local = imported = _text(name)
                    self.imports[local] = f"{module}.{imported}"
            elif node.type == "function_definition":
                self.functions.setdefault(_text(node.child_by_field_name("name")), node)
        for statement in root.named_children:
            if statement.type == "expression_statement" and statement.named_children:
                assign = statement.named_children[0]
                if assign.type == "assignment" and assign.child_by_field_name("type") is None:
                    left = assign.child_by_field_name("left")
                    right = assign.child_by_field_name("right")
                    if left is not None and left.type == "identifier" and right is not None:
                        value = self._const(right, _Env())
                        if value is not _UNKNOWN:
                            self.consts[_text(left)] = value

    def imports_library(self, library: str) -> bool:
        if not library:
            return True
        roots = R.LIBRARY_ROOTS.get(library, (library,))
        return any(
            target == root or target.startswith(root + ".")
            for target in self.imports.values()
            for root in roots
        )

    def qualname(self, node: tree_sitter.Node | None) -> str:
        """``a.b.c`` with the first name resolved through the imports ('' if not a name)."""
        if node is None:
            return ""
        if node.type == "identifier":
            name = _text(node)
            return self.imports.get(name, name)
        if node.type == "attribute":
            base = self.qualname(node.child_by_field_name("object"))
            return f"{base}.{_text(node.child_by_field_name('attribute'))}" if base else ""
        return ""

    # ------------------------------------------------------------------ entry points

    def run(self) -> list[TaintFinding]:
        self._block(self.tree.root_node.named_children, _Env(), _Frame(None, False, 0))
        for node in _walk(self.tree.root_node):
            if node.type == "function_definition":
                env, is_view = self._entry(node)
                frame = _Frame(node, is_view, 0)
                body = node.child_by_field_name("body")
                if body is not None:
                    self._block(body.named_children, env, frame)
        return list(self.findings.values())

    def _entry(self, node: tree_sitter.Node) -> tuple[_Env, bool]:
        """The taint a function starts with as an entry point, and whether it is a view."""
        env = _Env(consts=dict(self.consts))
        params = self._params(node)
        names = [name for name, _ in params]
        decorators = self._decorators(node)
        route = any(
            d.partition("(")[0].rsplit(".", 1)[-1] in R.ROUTE_DECORATORS for d in decorators
        )
        django = (
            self.web
            and bool(names)
            and (names[0] in R.REQUEST_NAMES or (names[0] == "self" and names[1:2] == ["request"]))
        )
        if not (route or django):
            return env, False
        skip = 2 if names[:1] == ["self"] else 1
        tainted = params if route else params[skip:]
        for name, annotation in tainted:
            if name in R.REQUEST_NAMES or name in ("self", "cls"):
                continue
            if annotation and (annotation in R.SAFE_ANNOTATIONS or "Depends" in annotation):
                continue
            if route and self._int_route_part(decorators, name):
                continue
            env.vars[name] = Taint("user", (_step(node, f"route parameter '{name}'"),))
        return env, True

    def _params(self, node: tree_sitter.Node) -> list[tuple[str, str]]:
        params = node.child_by_field_name("parameters")
        found: list[tuple[str, str]] = []
        for param in params.named_children if params is not None else []:
            name_node = param.child_by_field_name("name") or (
                param.named_children[0] if param.named_children else None
            )
            if param.type == "identifier":
                name_node = param
            elif param.type in ("list_splat_pattern", "dictionary_splat_pattern"):
                name_node = param.named_children[0] if param.named_children else None
            annotation = _text(param.child_by_field_name("type"))
            default = _text(param.child_by_field_name("value"))
            if name_node is not None and name_node.type == "identifier":
                found.append(
                    (_text(name_node), annotation + (" Depends" if "Depends(" in default else ""))
                )
        return found

    def _decorators(self, node: tree_sitter.Node) -> list[str]:
        parent = node.parent
        if parent is None or parent.type != "decorated_definition":
            return []
        names = []
        for decorator in parent.named_children:
            if decorator.type == "decorator" and decorator.named_children:
                expression = decorator.named_children[0]
                target = expression.child_by_field_name("function") or expression
                names.append(
                    _text(target) + "(" + _text(expression.child_by_field_name("arguments"))
                )
        return names

    @staticmethod
    def _int_route_part(decorators: list[str], name: str) -> bool:
        return any(re.search(rf"<(?:int|float|uuid):{name}>", d) for d in decorators)

    # ------------------------------------------------------------------ statements

    def _block(self, statements: list[tree_sitter.Node], env: _Env, frame: _Frame) -> bool:
        """Analyse statements in order; True when the block always leaves (return/raise)."""
        for statement in statements:
            if self._statement(statement, env, frame):
                return True
        return False

    def _statement(self, node: tree_sitter.Node, env: _Env, frame: _Frame) -> bool:
        self.work_left -= 1
        if self.work_left < 0:
            raise TooComplex("the code's calls and loops need more analysis than one module gets")
        kind = node.type
        if kind == "expression_statement":
            for child in node.named_children:
                self._expression_statement(child, env, frame)
            return self._terminates(node)
        if kind == "return_statement":
            value = node.named_children[0] if node.named_children else None
            if value is not None:
                taint = self._eval(value, env, frame)
                frame.returns = _union(frame.returns, taint)
                self._check_return(node, value, taint, frame)
            return True
        if kind == "raise_statement":
            for child in node.named_children:
                self._eval(child, env, frame)
            return True
        if kind in ("continue_statement", "break_statement"):
            return True
        if kind == "if_statement":
            return self._if(node, env, frame)
        if kind in ("for_statement", "while_statement"):
            return self._loop(node, env, frame)
        if kind == "try_statement":
            return self._try(node, env, frame)
        if kind == "with_statement":
            for clause in node.named_children:
                if clause.type == "with_clause":
                    for item in clause.named_children:
                        self._with_item(item, env, frame)
            body = node.child_by_field_name("body")
            return self._block(body.named_children, env, frame) if body is not None else False
        if kind == "match_statement":
            subject = node.child_by_field_name("subject")
            self._eval(subject, env, frame) if subject is not None else None
            merged = env.copy()
            for block in _walk(node):
                if block.type == "case_clause":
                    branch = env.copy()
                    consequence = block.child_by_field_name("consequence")
                    if consequence is not None:
                        self._block(consequence.named_children, branch, frame)
                    merged.merge(branch)
            env.vars, env.consts = merged.vars, merged.consts
            return False
        if kind in ("function_definition", "class_definition", "decorated_definition"):
            return False  # analysed as their own entry points
        if kind == "assert_statement":
            for condition in node.named_children[:1]:
                self._refine(condition, env, truth=True)
            return False
        for child in node.named_children:
            if child.type.endswith("statement"):
                self._statement(child, env, frame)
        return False

    def _terminates(self, statement: tree_sitter.Node) -> bool:
        for child in statement.named_children:
            if child.type == "call":
                name = self.qualname(child.child_by_field_name("function"))
                if name in R.TERMINATING_CALLS or name.endswith(".abort"):
                    return True
        return False

    def _expression_statement(self, node: tree_sitter.Node, env: _Env, frame: _Frame) -> None:
        if node.type == "assignment":
            left = node.child_by_field_name("left")
            right = node.child_by_field_name("right")
            if right is None:
                return
            taint = self._eval(right, env, frame)
            if left is not None:
                self._assign(left, right, taint, env, frame)
        elif node.type == "augmented_assignment":
            left = node.child_by_field_name("left")
            right = node.child_by_field_name("right")
            if left is None or right is None:
                return
            taint = _union(self._eval(left, env, frame), self._eval(right, env, frame))
            env.consts.pop(_text(left), None)
            self._assign(left, None, taint, env, frame)
        else:
            self._eval(node, env, frame)

    def _assign(
        self,
        left: tree_sitter.Node,
        right: tree_sitter.Node | None,
        taint: Taint | None,
        env: _Env,
        frame: _Frame,
    ) -> None:
        if left.type in ("identifier", "attribute"):
            name = _text(left)
            if taint is not None:
                env.vars[name] = taint.then(_step(left, f"assigned to '{name}'"))
                if taint.kind == "random" and _SENSITIVE.search(name.rsplit(".", 1)[-1]):
                    self._report("random", left, taint, f"stored as '{name}'")
            else:
                env.vars.pop(name, None)
            value = self._const(right, env) if right is not None else _UNKNOWN
            if value is _UNKNOWN:
                env.consts.pop(name, None)
            else:
                env.consts[name] = value
            if left.type == "attribute" and taint is not None:
                self._check_store(left, None, taint)
        elif left.type in ("pattern_list", "tuple_pattern", "list_pattern", "expression_list"):
            values = (
                right.named_children
                if right is not None
                and right.type in ("expression_list", "tuple", "list")
                and len(right.named_children) == len(left.named_children)
                else None
            )
            for index, target in enumerate(left.named_children):
                if values is not None:
                    self._assign(
                        target, values[index], self._eval(values[index], env, frame), env, frame
                    )
                else:
                    self._assign(target, None, taint, env, frame)
        elif left.type == "subscript":
            container = left.child_by_field_name("value")
            key = left.child_by_field_name("subscript")
            key_taint = self._eval(key, env, frame) if key is not None else None
            self._check_store(container, key_taint, taint, at=left)
            if container is not None and taint is not None:
                name = _text(container)
                previous = env.vars.get(name)
                env.vars[name] = (
                    _union(previous, taint.then(_step(left, f"stored in '{name}'"))) or taint
                )
        elif left.type in ("list_splat_pattern",) and left.named_children:
            self._assign(left.named_children[0], None, taint, env, frame)

    def _with_item(self, item: tree_sitter.Node, env: _Env, frame: _Frame) -> None:
        value = item.child_by_field_name("value")
        if value is None:
            return
        if value.type == "as_pattern":
            expression = value.named_children[0] if value.named_children else None
            alias = value.child_by_field_name("alias")
            taint = self._eval(expression, env, frame) if expression is not None else None
            target = alias.named_children[0] if alias is not None and alias.named_children else None
            if target is not None:
                self._assign(target, None, taint, env, frame)
        else:
            self._eval(value, env, frame)

    def _if(self, node: tree_sitter.Node, env: _Env, frame: _Frame) -> bool:
        condition = node.child_by_field_name("condition")
        consequence = node.child_by_field_name("consequence")
        alternatives = node.children_by_field_name("alternative")
        return self._branches(condition, consequence, alternatives, env, frame)

    def _branches(
        self,
        condition: tree_sitter.Node | None,
        consequence: tree_sitter.Node | None,
        alternatives: list[tree_sitter.Node],
        env: _Env,
        frame: _Frame,
    ) -> bool:
        if condition is not None:
            self._eval(condition, env, frame)
        value = self._const(condition, env) if condition is not None else _UNKNOWN
        taken = env.copy()
        other = env.copy()
        if condition is not None:
            self._refine(condition, taken, truth=True)
            self._refine(condition, other, truth=False)
            self._refine_relative_url(condition, taken, truth=True)
            self._refine_relative_url(condition, other, truth=False)
        body_ends = (
            False
            if value is not _UNKNOWN and not value
            else self._block(consequence.named_children if consequence else [], taken, frame)
        )
        if value is not _UNKNOWN and value:  # the alternatives are dead code
            env.vars, env.consts = taken.vars, taken.consts
            return body_ends
        other_ends = False
        if alternatives:
            first, rest = alternatives[0], alternatives[1:]
            if first.type == "elif_clause":
                other_ends = self._branches(
                    first.child_by_field_name("condition"),
                    first.child_by_field_name("consequence"),
                    rest,
                    other,
                    frame,
                )
            else:
                body = first.child_by_field_name("body")
                other_ends = self._block(body.named_children if body else [], other, frame)
        if value is not _UNKNOWN:  # constant false: only the alternative runs
            env.vars, env.consts = other.vars, other.consts
            return other_ends
        if body_ends and other_ends:
            return True
        result = other if body_ends else taken
        if not body_ends and not other_ends:
            result.merge(other)
        env.vars, env.consts = result.vars, result.consts
        return False

    def _loop(self, node: tree_sitter.Node, env: _Env, frame: _Frame) -> bool:
        body = node.child_by_field_name("body")
        if node.type == "for_statement":
            right = node.child_by_field_name("right")
            left = node.child_by_field_name("left")
            taint = self._eval(right, env, frame) if right is not None else None
            if left is not None:
                self._assign(left, None, taint, env, frame)
        else:
            condition = node.child_by_field_name("condition")
            if condition is not None:
                self._eval(condition, env, frame)
                if self._const(condition, env) is False:
                    return False
        for _ in range(2):  # a second pass sees what the first pass' end feeds back
            branch = env.copy()
            self._block(body.named_children if body else [], branch, frame)
            env.merge(branch)
        return False

    def _try(self, node: tree_sitter.Node, env: _Env, frame: _Frame) -> bool:
        body = node.child_by_field_name("body")
        ends = self._block(body.named_children if body else [], env, frame)
        for clause in node.named_children:
            if clause.type in ("except_clause", "except_group_clause"):
                branch = env.copy()
                blocks = [c for c in clause.named_children if c.type == "block"]
                handler_ends = self._block(
                    blocks[0].named_children if blocks else [], branch, frame
                )
                if not handler_ends:
                    env.merge(branch)
                    ends = False
            elif clause.type in ("else_clause", "finally_clause"):
                blocks = [c for c in clause.named_children if c.type == "block"]
                ends = self._block(blocks[0].named_children if blocks else [], env, frame) or ends
        return ends

    def _conditional(
        self,
        body: tree_sitter.Node,
        condition: tree_sitter.Node,
        other: tree_sitter.Node,
        env: _Env,
        frame: _Frame,
    ) -> Taint | None:
        """``body if condition else other``: each side where the condition vouches for it,
        as the branches of an ``if`` (``order if order in ORDERS else "name"`` is clean)."""
        value = self._const(condition, env)
        if value is not _UNKNOWN:
            return self._eval(body if value else other, env, frame)
        taken, untaken = env.copy(), env.copy()
        for branch, truth in ((taken, True), (untaken, False)):
            self._refine(condition, branch, truth=truth)
            self._refine_relative_url(condition, branch, truth=truth)
        return _union(self._eval(body, taken, frame), self._eval(other, untaken, frame))

    # ------------------------------------------------------------------ conditions

    def _refine(self, condition: tree_sitter.Node, env: _Env, *, truth: bool) -> None:
        """Clear the values a condition vouches for in the branch where it is ``truth``."""
        kind = condition.type
        if kind == "parenthesized_expression" and condition.named_children:
            self._refine(condition.named_children[0], env, truth=truth)
        elif kind == "not_operator":
            argument = condition.child_by_field_name("argument")
            if argument is not None:
                self._refine(argument, env, truth=not truth)
        elif kind == "boolean_operator":
            operator = _text(condition.child_by_field_name("operator"))
            if (operator == "and") == truth:  # both sides hold
                for side in ("left", "right"):
                    part = condition.child_by_field_name(side)
                    if part is not None:
                        self._refine(part, env, truth=truth)
        elif kind == "comparison_operator":
            self._refine_comparison(condition, env, truth=truth)
        elif kind == "call":
            if truth:
                self._refine_call(condition, env)
        elif kind in ("attribute", "identifier") and not truth:
            # ``if urlparse(url).netloc: abort()`` -> the URL is relative afterwards
            if _text(condition).endswith((".netloc", ".scheme")):
                self._clear(condition, env, frozenset({"redirect"}))

    def _refine_relative_url(self, condition: tree_sitter.Node, env: _Env, *, truth: bool) -> None:
        """``x.startswith("/") and not x.startswith("//")`` holding: x is a local path, which
        is safe to redirect to (one of the two alone is not)."""
        facts: dict[str, set[tuple[str, bool]]] = {}
        self._prefix_facts(condition, truth, facts)
        for name, known in facts.items():
            if ("/", True) in known and ("//", False) in known and name in env.vars:
                env.vars[name] = env.vars[name].clean(frozenset({"redirect"}))

    def _prefix_facts(
        self, node: tree_sitter.Node, truth: bool, facts: dict[str, set[tuple[str, bool]]]
    ) -> None:
        """What must hold of ``x.startswith(<constant>)`` calls for ``node`` to be ``truth``."""
        if node.type == "parenthesized_expression" and node.named_children:
            self._prefix_facts(node.named_children[0], truth, facts)
        elif node.type == "not_operator":
            argument = node.child_by_field_name("argument")
            if argument is not None:
                self._prefix_facts(argument, not truth, facts)
        elif node.type == "boolean_operator":
            if (_text(node.child_by_field_name("operator")) == "and") == truth:
                for side in ("left", "right"):
                    part = node.child_by_field_name(side)
                    if part is not None:
                        self._prefix_facts(part, truth, facts)
        elif node.type == "call":
            function = node.child_by_field_name("function")
            arguments = node.child_by_field_name("arguments")
            if function is None or function.type != "attribute" or arguments is None:
                return
            if _text(function.child_by_field_name("attribute")) != "startswith":
                return
            args = arguments.named_children
            prefix = self._const(args[0], _Env()) if args else _UNKNOWN
            receiver = _text(function.child_by_field_name("object"))
            if isinstance(prefix, str):
                facts.setdefault(receiver, set()).add((prefix, truth))

    def _refine_comparison(self, node: tree_sitter.Node, env: _Env, *, truth: bool) -> None:
        operators = [_text(c) for c in node.children if not c.is_named]
        operands = node.named_children
        if len(operands) != 2 or not operators:
            return
        operator = " ".join(operators)
        left, right = operands
        if (
            operator in ("in", "==", "is")
            and truth
            or operator in ("not in", "!=", "is not")
            and not truth
        ):
            if self._is_trusted_value(right, env):
                self._clear(left, env, None)
            elif operator != "in" and self._is_trusted_value(left, env):
                self._clear(right, env, None)
        if operator in ("==", "!=") and (operator == "==") == truth:
            for side in (left, right):
                if side.type == "call" and "commonpath" in _text(
                    side.child_by_field_name("function")
                ):
                    self._clear(side, env, frozenset({"path"}))

    def _is_trusted_value(self, node: tree_sitter.Node, env: _Env) -> bool:
        if self._const(node, env) is not _UNKNOWN:
            return True
        if node.type in ("list", "tuple", "set", "dictionary"):
            return all(self._is_trusted_value(c, env) for c in node.named_children)
        if node.type == "identifier":
            name = _text(node)
            if name in env.vars:
                return False
            return name.isupper() or name in self.consts or name in env.consts
        if node.type == "attribute":  # settings.ALLOWED_HOSTS, not request.GET
            owner = node.child_by_field_name("object")
            return (
                _text(node.child_by_field_name("attribute")).isupper()
                and owner is not None
                and not self._is_request(owner, env)
                and _text(node) not in env.vars
            )
        if node.type == "call":  # set(...)/frozenset of constants, dict.keys()
            function = _text(node.child_by_field_name("function"))
            arguments = node.child_by_field_name("arguments")
            args = arguments.named_children if arguments is not None else []
            callee = node.child_by_field_name("function")
            owner = callee.child_by_field_name("object") if callee is not None else None
            if function.endswith((".keys", ".values")) and owner is not None:
                return self._is_trusted_value(owner, env)
            return function in ("set", "frozenset", "tuple", "list") and all(
                self._is_trusted_value(a, env) for a in args
            )
        return False

    def _refine_call(self, node: tree_sitter.Node, env: _Env) -> None:
        function = node.child_by_field_name("function")
        name = _text(function).rsplit(".", 1)[-1].lower()
        arguments = node.child_by_field_name("arguments")
        args = arguments.named_children if arguments is not None else []
        if name in ("startswith", "is_relative_to") and function is not None:
            receiver = function.child_by_field_name("object")
            if receiver is not None:
                categories = (
                    frozenset({"path"})
                    if name == "is_relative_to"
                    else self._prefix_kind(args, env)
                )
                self._clear(receiver, env, categories)
            return
        if any(word in name for word in R.VALIDATOR_WORDS):
            for arg in args:
                self._clear(arg, env, None)
            if function is not None and function.type == "attribute":
                receiver = function.child_by_field_name("object")
                if receiver is not None and name.startswith("is"):
                    self._clear(receiver, env, None)

    def _prefix_kind(self, args: list[tree_sitter.Node], env: _Env) -> frozenset[str]:
        """``x.startswith(prefix)``: a constant relative prefix vouches for a redirect; any
        prefix (a base directory) for a path that was normalised before."""
        prefix = self._const(args[0], env) if args else _UNKNOWN
        if isinstance(prefix, str) and prefix.startswith("/") and not prefix.startswith("//"):
            return frozenset({"path", "redirect"}) if len(prefix) > 1 else frozenset({"path"})
        return frozenset({"path"})

    def _clear(self, node: tree_sitter.Node, env: _Env, categories: frozenset[str] | None) -> None:
        """Clear every name used in ``node`` (all categories when ``categories`` is None)."""
        names = {_text(n) for n in _walk(node) if n.type in ("identifier", "attribute")}
        for name in names:
            taint = env.vars.get(name)
            if taint is None:
                continue
            if categories is None:
                del env.vars[name]
            elif "path" in categories and not self._normalised(name, env):
                env.vars[name] = taint.clean(categories - {"path"})
            else:
                env.vars[name] = taint.clean(categories)

    @staticmethod
    def _normalised(name: str, env: _Env) -> bool:
        taint = env.vars.get(name)
        return taint is not None and any(
            word in step.message
            for step in taint.steps
            for word in ("realpath", "abspath", "normpath", "resolve", "safe_join")
        )

    # ------------------------------------------------------------------ expressions

    def _eval(self, node: tree_sitter.Node | None, env: _Env, frame: _Frame) -> Taint | None:
        if node is None:
            return None
        kind = node.type
        if kind == "identifier":
            name = _text(node)
            taint = env.vars.get(name)
            if taint is None and self.imports.get(name, name) in R.SOURCE_NAMES:
                return Taint("user", (_step(node, _short(node)),))
            return taint
        if kind == "attribute":
            return self._attribute(node, env, frame)
        if kind == "call":
            return self._call(node, env, frame)
        if kind == "subscript":
            value = node.child_by_field_name("value")
            for index in node.children_by_field_name("subscript"):
                self._eval(index, env, frame)
            direct = env.vars.get(_text(node))
            if direct is None and value is not None and self._is_trusted_value(value, env):
                return None  # a value looked up in a constant table (an allow-list map)
            return direct or self._eval(value, env, frame)
        if kind == "string":
            parts = [
                self._eval(c.child_by_field_name("expression"), env, frame)
                for c in node.named_children
                if c.type == "interpolation"
            ]
            taint = _union(*parts)
            return taint.then(_step(node, "formatted into a string")) if taint else None
        if kind == "conditional_expression":
            children = node.named_children
            if len(children) == 3:
                chosen, condition, other = children
                return self._conditional(chosen, condition, other, env, frame)
        if kind in ("comparison_operator", "not_operator", "lambda", "integer", "float", "true",
                    "false", "none", "unary_operator"):  # fmt: skip
            for child in node.named_children:
                self._eval(child, env, frame)
            return None
        if kind == "named_expression":
            target = node.child_by_field_name("name")
            taint = self._eval(node.child_by_field_name("value"), env, frame)
            if target is not None:
                self._assign(target, node.child_by_field_name("value"), taint, env, frame)
            return taint
        if kind in ("list_comprehension", "set_comprehension", "generator_expression",
                    "dictionary_comprehension"):  # fmt: skip
            inner = env.copy()
            for clause in node.named_children:
                if clause.type == "for_in_clause":
                    left = clause.child_by_field_name("left")
                    taint = self._eval(clause.child_by_field_name("right"), inner, frame)
                    if left is not None:
                        self._assign(left, None, taint, inner, frame)
            body = node.child_by_field_name("body")
            return self._eval(body, inner, frame)
        if kind in ("binary_operator", "boolean_operator"):
            # long chains ("a" + b + "c" + ...) nest to the left: walked without recursion
            operands, stack = [], [node]
            while stack:
                current = stack.pop()
                if current.type == kind:
                    stack.extend(reversed(current.named_children))
                else:
                    operands.append(current)
            joined = _union(*(self._eval(operand, env, frame) for operand in operands))
            if joined is not None and kind == "binary_operator":
                return joined.then(_step(node, "concatenated into a string"))
            return joined
        taints = [self._eval(child, env, frame) for child in node.named_children]
        return _union(*taints)

    def _attribute(self, node: tree_sitter.Node, env: _Env, frame: _Frame) -> Taint | None:
        direct = env.vars.get(_text(node))
        if direct is not None:
            return direct
        obj = node.child_by_field_name("object")
        attribute = _text(node.child_by_field_name("attribute"))
        if obj is not None and attribute in R.REQUEST_ATTRIBUTES and self._is_request(obj, env):
            return Taint("user", (_step(node, f"user input: {_short(node)}"),))
        if self.qualname(node) in R.SOURCE_NAMES:
            return Taint("user", (_step(node, f"user input: {_short(node)}"),))
        return self._eval(obj, env, frame)

    def _is_request(self, node: tree_sitter.Node, env: _Env) -> bool:
        if node.type == "identifier":
            name = _text(node)
            return self.imports.get(name, "") in R.REQUEST_OBJECTS or (
                self.web and name in R.REQUEST_NAMES and name not in self.imports
            )
        if node.type == "attribute":  # self.request (class-based views)
            return self.web and _text(node.child_by_field_name("attribute")) in R.REQUEST_NAMES
        return False

    def _call(self, node: tree_sitter.Node, env: _Env, frame: _Frame) -> Taint | None:
        function = node.child_by_field_name("function")
        arguments = node.child_by_field_name("arguments")
        positional: list[tree_sitter.Node] = []
        keywords: dict[str, tree_sitter.Node] = {}
        for argument in arguments.named_children if arguments is not None else []:
            if argument.type == "keyword_argument":
                key = _text(argument.child_by_field_name("name"))
                value = argument.child_by_field_name("value")
                if value is not None:
                    keywords[key] = value
            elif argument.type not in ("comment",):
                positional.append(argument)
        name = self.qualname(function)
        method = (
            _text(function.child_by_field_name("attribute"))
            if function is not None and function.type == "attribute"
            else ""
        )
        receiver = function.child_by_field_name("object") if method and function else None
        arg_taints = [self._eval(a, env, frame) for a in positional]
        kw_taints = {k: self._eval(v, env, frame) for k, v in keywords.items()}
        receiver_taint = self._eval(receiver, env, frame) if receiver is not None else None
        if function is not None and function.type not in ("identifier", "attribute"):
            receiver_taint = _union(receiver_taint, self._eval(function, env, frame))

        self._check_flagged_call(node, name, method, positional, keywords, env)
        self._check_sinks(
            node,
            name,
            method,
            receiver,
            positional,
            keywords,
            arg_taints,
            kw_taints,
            receiver_taint,
            env,
            frame,
        )

        everything = _union(receiver_taint, *arg_taints, *kw_taints.values())
        if name in R.SOURCE_CALLS:
            return Taint("user", (_step(node, f"user input: {_short(node)}"),))
        if function is not None and function.type == "attribute" and method in R.REQUEST_ATTRIBUTES:
            if receiver is not None and self._is_request(receiver, env):
                return Taint("user", (_step(node, f"user input: {_short(node)}"),))
        if (
            name.startswith(R.RANDOM_MODULES)
            and name not in R.SECURE_RANDOM
            and "SystemRandom" not in name
        ):
            return Taint("random", (_step(node, f"predictable value: {_short(node)}"),))
        if name in R.CLEANSING_CALLS or method in ("hexdigest", "digest", "count", "index", "find"):
            return None
        if method == "get" and receiver is not None and self._is_trusted_value(receiver, env):
            # CONSTANT_MAP.get(key, default): the constant's value, or the default
            return arg_taints[1] if len(arg_taints) > 1 else None
        if name in R.SANITIZERS:
            return everything.clean(R.SANITIZERS[name]) if everything else None
        if everything is None and name not in self.functions:
            return None
        local = self._local_function(function, name)
        if local is not None:
            return self._summary(local, node, arg_taints, kw_taints, frame)
        if everything is None:
            return None
        if method in ("realpath", "abspath", "normpath", "resolve", "safe_join") or name.endswith(
            ("realpath", "abspath", "normpath", "safe_join")
        ):
            return everything.then(_step(node, f"normalised by {method or name} (realpath)"))
        if method in ("format", "join", "replace", "strip", "lower", "upper", "encode", "decode"):
            return everything.then(_step(node, f"passed through .{method}()"))
        return everything.then(_step(node, f"passed through {_short(function or node, 40)}()"))

    def _local_function(
        self, function: tree_sitter.Node | None, name: str
    ) -> tree_sitter.Node | None:
        if function is None:
            return None
        if function.type == "identifier" and name in self.functions:
            return self.functions[name]
        if function.type == "attribute" and _text(function.child_by_field_name("object")) in (
            "self",
            "cls",
        ):
            return self.functions.get(_text(function.child_by_field_name("attribute")))
        return None

    def _summary(
        self,
        callee: tree_sitter.Node,
        call: tree_sitter.Node,
        arg_taints: list[Taint | None],
        kw_taints: dict[str, Taint | None],
        frame: _Frame,
    ) -> Taint | None:
        """The return taint of a function of this module called with these argument taints;
        sinks inside it that the arguments reach are reported on the way."""
        params = [name for name, _ in self._params(callee)]
        if params[:1] in (["self"], ["cls"]):
            params = params[1:]
        env = _Env(consts=dict(self.consts))
        for index, name in enumerate(params):
            taint = arg_taints[index] if index < len(arg_taints) else kw_taints.get(name)
            if taint is not None:
                env.vars[name] = taint.then(
                    _step(
                        call, f"passed to {_text(callee.child_by_field_name('name'))}() as '{name}'"
                    )
                )
        pattern = tuple(name in env.vars for name in params)
        key = (callee.id, pattern)
        if key in self.summaries and not any(pattern):
            return self.summaries[key]
        if callee.id in self.active or frame.depth >= MAX_CALL_DEPTH:
            return _union(*arg_taints, *kw_taints.values())
        self.active.add(callee.id)
        try:
            inner = _Frame(callee, False, frame.depth + 1)  # a helper's return is no response
            body = callee.child_by_field_name("body")
            self._block(body.named_children if body is not None else [], env, inner)
        finally:
            self.active.discard(callee.id)
        self.summaries[key] = inner.returns
        if inner.returns is None:
            return None
        return inner.returns.then(_step(call, f"returned by {_short(call, 40)}"))

    # ------------------------------------------------------------------ sinks

    def _check_sinks(
        self,
        node: tree_sitter.Node,
        name: str,
        method: str,
        receiver: tree_sitter.Node | None,
        positional: list[tree_sitter.Node],
        keywords: dict[str, tree_sitter.Node],
        arg_taints: list[Taint | None],
        kw_taints: dict[str, Taint | None],
        receiver_taint: Taint | None,
        env: _Env,
        frame: _Frame,
    ) -> None:
        def reaching(
            positions: tuple[int, ...], names: tuple[str, ...], category: str
        ) -> Taint | None:
            for index in positions:
                taint = arg_taints[index] if index < len(arg_taints) else None
                if taint is not None and taint.reaches(category):
                    return taint
            for key in names:
                taint = kw_taints.get(key)
                if taint is not None and taint.reaches(category):
                    return taint
            return None

        sink = R.SINK_CALLS.get(name)
        if sink is not None:
            category, positions, names = sink
            if category == "xxe" and self._safe_xml_parser(keywords):
                return
            if category == "xss" and self._plain_content_type(keywords):
                return
            taint = reaching(positions, names, category)
            if taint is not None:
                self._report(category, node, taint, f"reaches {name}()")
            return
        if name in R.SUBPROCESS_CALLS:
            shell = keywords.get("shell")
            shell_on = shell is not None and self._const(shell, env) not in (False, None, 0)
            program = positional[0] if positional else keywords.get("args")
            taint = arg_taints[0] if arg_taints else kw_taints.get("args")
            if not shell_on:
                # Without a shell an argument list is safe unless the program itself is
                # the attacker's; a bare variable may well be such a list: not flagged.
                first = (
                    program.named_children[0]
                    if program is not None
                    and program.type in ("list", "tuple")
                    and program.named_children
                    else None
                )
                taint = self._eval(first, env, frame) if first is not None else None
            if taint is not None and taint.reaches("command"):
                how = "with shell=True" if shell_on else "as the program"
                self._report("command", node, taint, f"reaches {name}() {how}")
            return
        if name.startswith(R.EXEC_CALLS):
            taint = reaching((0, 1), (), "command")
            if taint is not None:
                self._report("command", node, taint, f"runs as the program of {name}()")
            return
        if name == "yaml.load":
            loader = _text(
                keywords.get("Loader") or (positional[1] if len(positional) > 1 else None)
            )
            if "Safe" not in loader:
                taint = reaching((0,), ("stream",), "deserialization")
                if taint is not None:
                    self._report(
                        "deserialization", node, taint, "reaches yaml.load() without SafeLoader"
                    )
            return
        if (
            method in R.RECEIVER_SINKS
            and receiver_taint is not None
            and receiver_taint.reaches("path")
        ):
            self._report("path", node, receiver_taint, f"reaches .{method}()")
            return
        if method in R.SINK_METHODS and receiver is not None:
            category, positions, names, library = R.SINK_METHODS[method]
            if not self.imports_library(library) or self.qualname(receiver) in ("re", "os", "str"):
                return
            if method in ("search",) and len(positional) < 2 and "search_filter" not in keywords:
                return
            taint = reaching(positions, names, category)
            if taint is not None:
                self._report(category, node, taint, f"reaches .{method}()")
            return
        if name in (
            "xml.sax.parseString",
            "xml.sax.parse",
            "xml.dom.minidom.parseString",
            "xml.dom.minidom.parse",
        ):
            if self._sax_external_entities():
                taint = reaching((0,), (), "xxe")
                if taint is not None:
                    self._report("xxe", node, taint, f"reaches {name}() with external entities on")
        if method == "update" and receiver is not None and self._is_session(receiver):
            taint = reaching((0,), (), "trust")
            if taint is not None:
                self._report("trust", node, taint, "stored in the session")
        if method == "set_cookie":
            taint = reaching((1,), ("value",), "random")
            if taint is not None:
                self._report("random", node, taint, "used as a cookie value")

    def _safe_xml_parser(self, keywords: dict[str, tree_sitter.Node]) -> bool:
        parser = keywords.get("parser")
        if parser is None:
            return False
        text = _text(parser)
        if "resolve_entities=False" in text.replace(" ", ""):
            return True
        # a parser built earlier in the module: look for its construction
        for node in _walk(self.tree.root_node):
            if node.type == "assignment" and _text(node.child_by_field_name("left")) == text:
                return "resolve_entities=False" in _text(node.child_by_field_name("right")).replace(
                    " ", ""
                )
        return False

    def _plain_content_type(self, keywords: dict[str, tree_sitter.Node]) -> bool:
        for key in ("mimetype", "content_type", "media_type"):
            value = keywords.get(key)
            if value is not None:
                text = _text(value).lower()
                return "html" not in text and ("json" in text or "text/plain" in text)
        return False

    def _sax_external_entities(self) -> bool:
        """Whether the module turns on a SAX parser's external entities: a call
        ``….setFeature(<…external_ges or external_pes…>, True or 1)``. Read from the tree
        once per module (a regex over the source backtracked cubically: 46 KB took 218 s)."""
        if self._sax_features is None:
            self._sax_features = any(
                node.type == "call"
                and _text(node.child_by_field_name("function")).endswith("setFeature")
                and _sax_feature_enabled(node.child_by_field_name("arguments"))
                for node in _walk(self.tree.root_node)
            )
        return self._sax_features

    def _is_session(self, node: tree_sitter.Node) -> bool:
        name = self.qualname(node)
        if name in R.SESSION_OBJECTS:
            return True
        owner = node.child_by_field_name("object")
        return (
            node.type == "attribute"
            and owner is not None
            and _text(node.child_by_field_name("attribute")) == "session"
            and self._is_request(owner, _Env())
        )

    def _check_store(
        self,
        container: tree_sitter.Node | None,
        key: Taint | None,
        value: Taint | None,
        *,
        at: tree_sitter.Node | None = None,
    ) -> None:
        """``session[key] = value`` with attacker data on either side (trust boundary)."""
        if container is None:
            return
        where = at or container
        if self._is_session(container):
            taint = value if value is not None and value.reaches("trust") else key
            if taint is not None and taint.reaches("trust"):
                self._report("trust", where, taint, "stored in the session")
            if value is not None and value.reaches("random"):
                self._report("random", where, value, "stored in the session")
        elif at is not None and value is not None and value.reaches("random"):
            key_text = _text(at.child_by_field_name("subscript"))
            if _SENSITIVE.search(key_text):
                self._report("random", where, value, f"stored under {key_text}")

    def _check_return(
        self, node: tree_sitter.Node, value: tree_sitter.Node, taint: Taint | None, frame: _Frame
    ) -> None:
        if taint is None:
            return
        if (
            frame.is_view
            and self.html_returns
            and taint.reaches("xss")
            and value.type not in ("dictionary", "list", "call")
        ):
            self._report("xss", node, taint, "returned as the response body")
        if taint.reaches("random") and frame.node is not None:
            function = _text(frame.node.child_by_field_name("name"))
            if _SENSITIVE.search(function):
                self._report("random", node, taint, f"returned by {function}()")

    def _check_flagged_call(
        self,
        node: tree_sitter.Node,
        name: str,
        method: str,
        positional: list[tree_sitter.Node],
        keywords: dict[str, tree_sitter.Node],
        env: _Env,
    ) -> None:
        """Calls that are findings whatever their data: weak hashes and insecure cookies."""
        weak = name in R.WEAK_HASHES or (
            name == "hashlib.new"
            and positional
            and str(self._const(positional[0], env)).lower() in R.WEAK_HASH_NAMES
        )
        if weak:
            flag = keywords.get("usedforsecurity")
            if flag is None or self._const(flag, env) is not False:
                self._report(
                    "hash",
                    node,
                    None,
                    f"{_short(node.child_by_field_name('function') or node)}() is broken "
                    "for security purposes",
                )
            return
        # a response's set_cookie(key, value, ...) in a web module; a cookie jar's
        # set_cookie(cookie) (http.cookiejar) is not one
        response_cookie = len(positional) >= 2 or bool({"key", "value"} & set(keywords))
        if method == "set_cookie" and self.web and response_cookie:
            secure = keywords.get("secure")
            if secure is None or self._const(secure, env) in (False, None, 0):
                self._report("cookie", node, None, "the cookie is set without secure=True")

    def _report(
        self, category: str, node: tree_sitter.Node, taint: Taint | None, what: str
    ) -> None:
        rule = R.CATEGORIES[category]
        line = node.start_point[0] + 1
        if (category, line) in self.findings:
            return
        trace: tuple[Step, ...] = ()
        if taint is not None:
            sink = _step(node, f"{what} ({rule.title})")
            trace = (*taint.steps, sink)
            source = taint.steps[0]
            message = f"{_capital(source.message)} (line {source.line}) {what}: {rule.title}."
        else:
            message = f"{_capital(rule.title)}: {what}."
        self.findings[(category, line)] = TaintFinding(
            category=category,
            line=line,
            end_line=node.end_point[0] + 1,
            message=message,
            trace=trace,
        )

    # ------------------------------------------------------------------ constants

    def _const(self, node: tree_sitter.Node | None, env: _Env, depth: int = 0) -> Any:
        """The value of a constant expression, or ``_UNKNOWN`` (also past 100 levels)."""
        if node is None or depth > 100:
            return _UNKNOWN
        kind = node.type
        try:
            if kind == "integer":
                return int(_text(node).replace("_", ""), 0)
            if kind == "float":
                return float(_text(node).replace("_", ""))
            if kind == "true":
                return True
            if kind == "false":
                return False
            if kind == "none":
                return None
            if kind == "string":
                if any(c.type == "interpolation" for c in node.named_children):
                    return _UNKNOWN
                return "".join(_text(c) for c in node.named_children if c.type == "string_content")
            if kind == "concatenated_string":
                parts = [self._const(c, env, depth + 1) for c in node.named_children]
                return _UNKNOWN if _UNKNOWN in parts else "".join(parts)
            if kind == "identifier":
                name = _text(node)
                if name in env.consts:
                    return env.consts[name]
                if name in env.vars:
                    return _UNKNOWN
                return self.consts.get(name, _UNKNOWN)
            if kind == "parenthesized_expression" and node.named_children:
                return self._const(node.named_children[0], env, depth + 1)
            if kind == "not_operator":
                value = self._const(node.child_by_field_name("argument"), env, depth + 1)
                return _UNKNOWN if value is _UNKNOWN else not value
            if kind == "unary_operator":
                value = self._const(node.child_by_field_name("argument"), env, depth + 1)
                operator = _text(node.child_by_field_name("operator"))
                if value is _UNKNOWN:
                    return _UNKNOWN
                return -value if operator == "-" else value
            if kind in ("list", "tuple"):
                values = [self._const(c, env, depth + 1) for c in node.named_children]
                return _UNKNOWN if any(v is _UNKNOWN for v in values) else tuple(values)
            if kind == "binary_operator":
                left = self._const(node.child_by_field_name("left"), env, depth + 1)
                right = self._const(node.child_by_field_name("right"), env, depth + 1)
                if left is _UNKNOWN or right is _UNKNOWN:
                    return _UNKNOWN
                return _BINARY[_text(node.child_by_field_name("operator"))](left, right)
            if kind == "boolean_operator":
                left = self._const(node.child_by_field_name("left"), env, depth + 1)
                right = self._const(node.child_by_field_name("right"), env, depth + 1)
                operator = _text(node.child_by_field_name("operator"))
                if operator == "and":
                    if left is not _UNKNOWN and not left:
                        return left
                    return _UNKNOWN if left is _UNKNOWN or right is _UNKNOWN else right
                if left is not _UNKNOWN and left:
                    return left
                return _UNKNOWN if left is _UNKNOWN or right is _UNKNOWN else right
            if kind == "comparison_operator":
                operands = [self._const(c, env, depth + 1) for c in node.named_children]
                operators = [_text(c) for c in node.children if not c.is_named]
                if _UNKNOWN in operands or len(operands) != 2 or len(operators) not in (1, 2):
                    return _UNKNOWN
                return _COMPARE[" ".join(operators)](operands[0], operands[1])
        except (KeyError, TypeError, ValueError, ZeroDivisionError, ArithmeticError):
            return _UNKNOWN
        return _UNKNOWN


_BINARY: dict[str, Any] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "//": lambda a, b: a // b,
    "%": lambda a, b: a % b,
    "**": lambda a, b: a**b if abs(b) < 64 else _UNKNOWN,
}
_COMPARE: dict[str, Any] = {
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
    "is": lambda a, b: a is b,
    "is not": lambda a, b: a is not b,
}


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
