"""job_events: the analyses handler sends its events without the worker's job runner."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_analyses_handler_does_not_import_the_workers_modules() -> None:
    probe = (
        "import sys, functions.analysis_service.analyses as a;"
        "print(sorted(m for m in sys.modules if m.startswith('functions.analysis_service.')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "functions.analysis_service.job_events" in loaded, loaded
    assert "functions.analysis_service.jobs'" not in loaded, loaded
    assert "functions.analysis_service.worker'" not in loaded, loaded
