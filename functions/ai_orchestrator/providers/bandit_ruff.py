"""bandit_ruff runs bandit's checks through Ruff's ``S`` rules where Python 3.11 cannot parse.

bandit walks this runtime's ``ast``, so a file written in 3.12-3.14 syntax (PEP 701
f-strings, PEP 695 type parameters, PEP 758 ``except A, B:``) would be only partly
reviewed. Ruff parses that syntax and its flake8-bandit rules are bandit's checks under
the same numbers (``S602`` is ``B602``), so such a chunk gets the same rule ids,
severities and CWEs through ruff as bandit would report; an ``S`` rule bandit lacks keeps
its ruff id. The checks left out of bandit (taint's and style's) are left out here too.
"""

from __future__ import annotations

import re
from typing import Any

from functions.ai_orchestrator.chunking import Chunk
from functions.ai_orchestrator.findings import Finding, Severity

# The analyzer name the coverage report shows when bandit's rules ran through ruff.
ANALYZER = "bandit:ruff"
# bandit's test id -> (its usual severity, its CWE), as bandit 1.9 reports them.
BANDIT_RULES: dict[str, tuple[Severity, int]] = {
    **{"B101": ("low", 703), "B102": ("medium", 78), "B103": ("medium", 732)},
    **{"B104": ("medium", 605), "B105": ("low", 259), "B106": ("low", 259)},
    **{"B107": ("low", 259), "B108": ("medium", 377), "B110": ("low", 703)},
    **{"B112": ("low", 703), "B113": ("medium", 400), "B201": ("high", 94)},
    **{"B202": ("high", 22), "B301": ("medium", 502), "B302": ("medium", 502)},
    **{"B303": ("medium", 327), "B304": ("high", 327), "B305": ("medium", 327)},
    **{"B306": ("medium", 377), "B307": ("medium", 78), "B308": ("medium", 79)},
    **{"B310": ("medium", 22), "B311": ("low", 330), "B312": ("high", 319)},
    **{"B313": ("medium", 20), "B314": ("medium", 20), "B315": ("medium", 20)},
    **{"B316": ("medium", 20), "B317": ("medium", 20), "B318": ("medium", 20)},
    **{"B319": ("medium", 20), "B321": ("high", 319), "B323": ("medium", 295)},
    **{"B324": ("high", 327), "B401": ("high", 319), "B402": ("high", 319)},
    **{"B403": ("low", 502), "B404": ("low", 78), "B405": ("low", 20)},
    **{"B406": ("low", 20), "B407": ("low", 20), "B408": ("low", 20)},
    **{"B409": ("low", 20), "B411": ("high", 20), "B412": ("high", 284)},
    **{"B413": ("high", 327), "B415": ("high", 319), "B501": ("high", 295)},
    **{"B502": ("high", 327), "B503": ("medium", 327), "B504": ("low", 327)},
    **{"B505": ("high", 326), "B506": ("medium", 20), "B507": ("high", 295)},
    **{"B508": ("medium", 319), "B509": ("medium", 319), "B601": ("medium", 78)},
    **{"B602": ("high", 78), "B603": ("low", 78), "B604": ("medium", 78)},
    **{"B605": ("high", 78), "B606": ("low", 78), "B607": ("low", 78)},
    **{"B608": ("medium", 89), "B609": ("high", 155), "B610": ("medium", 89)},
    **{"B611": ("medium", 89), "B612": ("medium", 94), "B701": ("high", 94)},
    **{"B702": ("medium", 80), "B703": ("medium", 80), "B704": ("medium", 79)},
}
# Ruff's S rules (0.17); ruff refuses to ignore a code it does not have (bandit's B703).
RUFF_S_RULES = frozenset(
    """
    S101 S102 S103 S104 S105 S106 S107 S108 S110 S112 S113 S201 S202 S301 S302 S303 S304
    S305 S306 S307 S308 S310 S311 S312 S313 S314 S315 S316 S317 S318 S319 S320 S321 S323
    S324 S401 S402 S403 S404 S405 S406 S407 S408 S409 S410 S411 S412 S413 S415 S501 S502
    S503 S504 S505 S506 S507 S508 S509 S601 S602 S603 S604 S605 S606 S607 S608 S609 S610
    S611 S612 S701 S702 S704
    """.split()
)
_NOSEC = re.compile(r"#\s*nosec\b")


def ruff_arguments(left_out: tuple[str, ...]) -> tuple[str, ...]:
    """The arguments of ``ruff check`` for bandit's checks but ``left_out``; ``--preview``
    for the import checks (``S401``-``S415``), which ruff still ships as preview."""
    ignored = ",".join(sorted({"S" + test_id[1:] for test_id in left_out} & RUFF_S_RULES))
    return ("--preview", "--select", "S", *(("--ignore", ignored) if ignored else ()))


def findings(chunk: Chunk, source: str, diagnostics: Any) -> list[Finding]:
    """ruff's ``S`` diagnostics of ``source`` (the padded chunk) as bandit's findings;
    a line marked ``# nosec`` is skipped, as bandit skips it."""
    lines = source.splitlines()
    found = []
    for item in diagnostics:
        row = item["location"]["row"]
        if row <= len(lines) and _NOSEC.search(lines[row - 1]):
            continue
        found.append(_finding(chunk, item, row))
    return found


def _finding(chunk: Chunk, item: Any, row: int) -> Finding:
    test_id = "B" + item["code"][1:]
    known = BANDIT_RULES.get(test_id)
    severity, cwe = known if known else ("medium", 0)
    return Finding(
        path=chunk.path,
        line=row,
        end_line=max(row, item["end_location"]["row"]),
        severity=severity,
        category="security",
        rule=f"bandit:{test_id}" if known else f"ruff:{item['code']}",
        message=f"{item['message']} (via ruff {item['code']})",
        suggestion=None,
        cwe=f"CWE-{cwe}" if cwe else None,
    )
