"""The benchmark harness measures real processes (smoke: tiny counts, no timing thresholds)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bench import run

TINY = run.Options(runs=1, rss_runs=1, rounds=1, duration=0.3, connections=2, warmup=False)

IMPORTTIME = """\
import time: self [us] | cumulative | imported package
import time:       300 |        300 |   _io
import time:      1200 |       1500 | encodings
import time:       500 |        500 |     pydantic.version
import time:      2000 |       2500 |   pydantic
import time:      1000 |       3500 | shared.config
some other line
"""

WRK = """\
Running 5s test @ http://127.0.0.1:8080/
  1 threads and 16 connections
  Latency Distribution
     50%  450.00us
     75%  600.00us
     90%    1.20ms
     99%    3.50ms
  52000 requests in 5.00s, 6.50MB read
  Non-2xx or 3xx responses: 3
Requests/sec:  10400.00
Transfer/sec:      1.30MB
"""


@pytest.fixture(scope="module")
def bench(
    postgres_server_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[run.Bench]:
    workdir = tmp_path_factory.mktemp("bench")
    with run.open_bench(
        TINY, server_url=postgres_server_url, redis_url=redis_url, workdir=workdir
    ) as bench:
        yield bench


@pytest.mark.parametrize("name", list(run.BENCHMARKS))
def test_each_benchmark_measures_positive_numbers_beside_the_hello_baseline(
    bench: run.Bench, name: str
) -> None:
    results = run.BENCHMARKS[name].run(bench)

    assert results, f"benchmark {name} returned no results"
    for result in results:
        what = f"{name} / {result.metric}"
        assert result.baseline == "hello", f"{what}: baseline is {result.baseline}"
        assert result.subject_values and min(result.subject_values) > 0, what
        assert result.baseline_values and min(result.baseline_values) > 0, what
        assert result.ratio > 0, f"{what}: ratio {result.ratio}"
        assert sum(result.notes.get("errors", [])) == 0, f"{what}: {result.notes}"
    assert not bench.servers, f"{name} left servers running: {bench.servers}"


def test_importtime_is_summed_by_package_and_by_first_importer() -> None:
    profile = run.parse_importtime(IMPORTTIME)

    assert profile.total_ms == 5.0, profile
    assert profile.modules == 5, profile
    assert profile.by_package == {"pydantic": 2.5, "encodings": 1.2, "shared": 1.0, "_io": 0.3}
    assert profile.first_importers == {"shared.config": 3.5, "encodings": 1.5}


def test_wrk_output_becomes_the_load_generator_summary() -> None:
    summary = run.parse_wrk(WRK)

    assert summary == {
        "requests": 52000,
        "errors": 3,
        "seconds": 5.0,
        "rps": 10400.0,
        "p50_ms": 0.45,
        "p99_ms": 3.5,
    }


def test_an_unknown_benchmark_name_is_refused_before_anything_starts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = run.main(["--only", "cold_start,warp_speed", "--output", str(tmp_path / "r.json")])

    assert code == 2
    assert "warp_speed" in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()
