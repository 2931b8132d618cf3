"""Tests of shared/coldstart.py: the collector is off while a function starts, and on after."""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
import weakref
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from shared import coldstart
from tests.shared.sample_functions import Sample, open_sample

ROOT = Path(__file__).resolve().parents[2]


class Cycle:
    me: object


@pytest.fixture
def cold(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A process whose worker has served nothing yet; the collector on again afterwards."""
    monkeypatch.setattr(coldstart, "stage", "cold")
    yield
    gc.enable()


@pytest_asyncio.fixture
async def routes(platform_env: dict[str, str], cold: None) -> AsyncIterator[Sample]:
    async with open_sample("routes", platform_env) as sample:
        yield sample


def test_importing_turns_the_collector_off_inside_and_freezes_what_was_made() -> None:
    frozen = gc.get_freeze_count()
    made: list[object] = []
    with coldstart.importing():
        assert not gc.isenabled()
        made.extend([i] for i in range(1000))  # 1,000 tracked lists
    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen + 1000


def test_importing_leaves_a_collector_someone_else_turned_off_alone() -> None:
    gc.disable()
    try:
        frozen = gc.get_freeze_count()
        made: list[object] = []
        with coldstart.importing():
            made.extend([i] for i in range(1000))
        assert not gc.isenabled()
        assert gc.get_freeze_count() < frozen + 1000  # nothing frozen (some may have died)
    finally:
        gc.enable()


def test_importing_turns_the_collector_back_on_when_an_import_fails() -> None:
    with pytest.raises(ImportError), coldstart.importing():
        raise ImportError("no such module")
    assert gc.isenabled()


def test_a_function_main_imports_its_service_without_the_collector_and_leaves_it_on() -> None:
    """In a fresh interpreter, as functions-framework's master imports a target: no full
    collection runs during the service's import (without the mechanism, dozens of young
    collections, and full ones in the larger services), and the collector is on at the end."""
    probe = (
        "import gc, json\n"
        "import functions_framework.aio\n"
        "runs = []\n"
        "gc.callbacks.append(lambda phase, info: phase == 'start' and runs.append(1))\n"
        "import functions.version_control_service.main\n"
        "print(json.dumps({'runs': len(runs), 'enabled': gc.isenabled(),"
        " 'frozen': gc.get_freeze_count()}))\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "SERVICE_NAME": "version-control-service",
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/postgres",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "ENVIRONMENT": "development",
    }
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["runs"] == 0, report
    assert report["enabled"] is True, report
    assert report["frozen"] > 50_000, report  # the service's modules and classes


async def test_the_worker_warms_without_the_collector_until_its_first_real_answer(
    routes: Sample,
) -> None:
    answer = await routes.client.get("/health/startup")
    assert answer.status_code == 200, answer.text
    assert coldstart.stage == "warming" and not gc.isenabled()  # probes are not the answer
    frozen = gc.get_freeze_count()
    dropped = Cycle()
    dropped.me = dropped
    gone = weakref.ref(dropped)
    del dropped  # garbage made while warming: only a collection frees a cycle
    kept = [[i] for i in range(1000)]
    answer = await routes.client.get("/items/abc")
    assert answer.status_code == 200, answer.text
    assert answer.json()["id"] == "abc"
    assert coldstart.stage == "settling" and not gc.isenabled()  # after it is written
    await asyncio.sleep(coldstart.SETTLE_DELAY_SECONDS + 0.1)
    assert coldstart.stage == "warm" and gc.isenabled()
    assert gone() is None, "warming's garbage was frozen instead of collected"
    assert gc.get_freeze_count() >= frozen + len(kept)
    await routes.client.get("/items/abc")
    assert coldstart.stage == "warm" and gc.isenabled()


async def test_a_worker_that_only_answers_probes_turns_the_collector_on_after_the_limit(
    monkeypatch: pytest.MonkeyPatch, routes: Sample
) -> None:
    monkeypatch.setattr(coldstart, "WARMING_LIMIT_SECONDS", 0.05)
    answer = await routes.client.get("/health")
    assert answer.status_code == 200, answer.text
    assert coldstart.stage == "warming" and not gc.isenabled()
    await asyncio.sleep(0.2)
    assert coldstart.stage == "warm" and gc.isenabled()
