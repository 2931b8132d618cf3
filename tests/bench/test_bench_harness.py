"""The benchmark harness measures real processes (smoke: tiny counts, no timing thresholds)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bench import auth, comparison, corpus, harness, litellm, loadgen, run

TINY = harness.Options(
    runs=1,
    rss_runs=1,
    rounds=1,
    duration=0.3,
    connections=2,
    warmup=False,
    service_duration=0.3,
    archive_mb=0.05,
    archive_runs=1,
    snapshot_files=10,
    snapshot_runs=1,
    analysis_lines=40,
    review_connections=1,
    assign_units=5,
    ab_events=400,
    results_calls=1,
    taint_files=4,
    gateway_connections=2,
    coldstart_targets="projects,analysis_worker,auth_users,stack_floor",
    login_burst=4,
)

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
) -> Iterator[harness.Bench]:
    workdir = tmp_path_factory.mktemp("bench")
    with harness.open_bench(
        TINY, server_url=postgres_server_url, redis_url=redis_url, workdir=workdir
    ) as bench:
        yield bench


def _installed_or_not(name: str) -> bool:
    """The litellm part runs here only where its venv is already installed (installing it
    takes minutes and a package index); its failure path is tested below either way."""
    return name != "litellm" or (litellm.VENV / ".requirements.sha256").exists()


@pytest.mark.parametrize("name", [n for n in run.BENCHMARKS if _installed_or_not(n)])
def test_each_benchmark_measures_positive_numbers_beside_its_baseline(
    bench: harness.Bench, name: str
) -> None:
    results = run.BENCHMARKS[name].run(bench)

    assert results, f"benchmark {name} returned no results"
    for result in results:
        what = f"{name} / {result.metric}"
        assert result.baseline and result.baseline != result.subject, what
        assert result.subject_values and min(result.subject_values) > 0, what
        assert result.baseline_values and min(result.baseline_values) > 0, what
        assert result.ratio > 0, f"{what}: ratio {result.ratio}"
        assert sum(result.notes.get("errors", [])) == 0, f"{what}: {result.notes}"
        assert sum(result.notes.get("baseline_errors", [])) == 0, f"{what}: {result.notes}"
    assert not bench.servers, f"{name} left its own servers running: {bench.servers}"


def test_every_service_family_registers_its_benchmarks() -> None:
    assert {
        "cold_start",
        "rss",
        "throughput",
        "imports",
        "quotas",
        "archive",
        "snapshot",
        "analysis",
        "local_review",
        "orchestrator",
        "resolve",
        "assign",
        "ab_results",
        "taint",
        "coldstart",
        "json_logs",
        "litellm",
        "login_memory",
    } == set(run.BENCHMARKS)


def test_a_litellm_that_cannot_be_installed_is_reported_not_raised(
    bench: harness.Bench,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    unhashed = tmp_path / "requirements.txt"
    unhashed.write_text("litellm[proxy]==1.108.7\n")  # no hashes: pip refuses offline
    monkeypatch.setattr(litellm, "VENV", tmp_path / "venv")
    monkeypatch.setattr(litellm, "REQUIREMENTS", unhashed)

    results = run.BENCHMARKS["litellm"].run(bench)

    assert results == []
    said = capsys.readouterr().out
    assert "litellm: not measured:" in said and "pip install" in said, said
    assert not (tmp_path / "venv" / ".requirements.sha256").exists()


def test_an_image_venv_holds_exactly_the_requirements_and_is_remade_when_they_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    monkeypatch.setattr(harness, "IMAGE_VENVS", tmp_path / "images")
    pinned = (harness.ROOT / "functions" / "project_service" / "requirements.txt").read_text()
    start = pinned.index("annotated-types==")
    one = pinned[start : pinned.index("# via", start)]  # the pin and its hashes
    requirements = tmp_path / "svc" / "requirements.txt"
    requirements.parent.mkdir()
    requirements.write_text(one)

    def probe(bin_dir: Path) -> list[str]:
        code = (
            "import importlib.util as u; print([m for m in ('annotated_types', 'rich', "
            "'pytest', 'pip') if u.find_spec(m)])"
        )
        done = subprocess.run(
            [str(bin_dir / "python"), "-c", code], capture_output=True, text=True, check=True
        )
        return eval(done.stdout)  # noqa: S307 - our own probe's list literal

    bin_dir = harness.image_venv(requirements)
    assert bin_dir == tmp_path / "images" / "svc" / "bin"
    assert probe(bin_dir) == ["annotated_types"]  # no dev tools, no pip: as the image
    marker = bin_dir.parent / "marker"
    marker.touch()
    assert harness.image_venv(requirements) == bin_dir
    assert marker.exists()  # not made again

    requirements.write_text(one + "\n# a changed file\n")
    harness.image_venv(requirements)
    assert not marker.exists()  # made again from scratch
    assert probe(bin_dir) == ["annotated_types"]
    stamp = (bin_dir.parent / ".requirements.sha256").read_text().strip()
    assert stamp == hashlib.sha256(requirements.read_bytes()).hexdigest()


def test_litellm_routes_the_one_model_to_the_fake_with_a_master_key_and_no_database() -> None:
    config = litellm.litellm_config("http://127.0.0.1:9/v1", "sk-bench-x")

    (entry,) = config["model_list"]
    assert entry["model_name"] == litellm.MODEL
    assert entry["litellm_params"]["api_base"] == "http://127.0.0.1:9/v1"
    assert entry["litellm_params"]["model"] == f"openai/{litellm.MODEL}"
    assert config["general_settings"] == {"master_key": "sk-bench-x"}


def test_the_generated_repository_has_the_asked_lines_and_flaws_the_analyzers_know() -> None:
    files = corpus.repository(total_lines=1000, problems=0.5, seed=3)
    text = "".join(files.values())

    assert 1000 <= text.count("\n") < 1100, text.count("\n")
    assert "eval(raw)" in text and "shell=True" in text, "no bandit-detectable flaw"
    for path, content in files.items():
        if path.endswith(".py"):
            compile(content, path, "exec")  # valid Python, so ruff and bandit parse it


def test_archives_of_the_corpus_hold_every_file() -> None:
    import io
    import tarfile
    import zipfile

    files = corpus.salted(corpus.repository(total_bytes=20_000, seed=1), "r1")
    with tarfile.open(fileobj=io.BytesIO(corpus.tar_gz(files))) as archive:
        assert sorted(archive.getnames()) == sorted(f"repo/{p}" for p in files)
    with zipfile.ZipFile(io.BytesIO(corpus.zip_bytes(files))) as archive:
        assert archive.read("repo/README.md").decode() == files["README.md"]
    assert all(text.startswith("# revision r1\n") for text in files.values())


def test_outcome_events_are_mostly_verdicts_with_one_completion_in_twenty() -> None:
    units = ["p1", "p2"]
    events = comparison.outcome_events("t", 400, units, {"p1": "control", "p2": "treatment"})

    kinds = [kind for _, kind, _ in events]
    assert kinds.count(comparison.COMPLETED) == 20, kinds.count(comparison.COMPLETED)
    assert len({event_id for event_id, _, _ in events}) == 400, "event ids must be unique"
    variants = {data["project_id"]: data["variant"] for _, _, data in events}
    assert variants == {"p1": "control", "p2": "treatment"}


def test_a_load_target_survives_its_trip_to_the_load_generator_process() -> None:
    import dataclasses
    import json

    target = loadgen.Target(
        "pair", 8080, (loadgen.Step("POST", "/a", {"X": "1"}, "{}", {"rid": "id"}),), choices=7
    )
    again = loadgen.Target.from_dict(json.loads(json.dumps(dataclasses.asdict(target))))

    assert again == target
    assert loadgen.fill('{"r": "{rid}", "u": "{uuid}"}', {"rid": "r1.x"}) == (
        '{"r": "r1.x", "u": "{uuid}"}'
    )


def test_importtime_is_summed_by_package_and_by_first_importer() -> None:
    profile = auth.parse_importtime(IMPORTTIME)

    assert profile.total_ms == 5.0, profile
    assert profile.modules == 5, profile
    assert profile.by_package == {"pydantic": 2.5, "encodings": 1.2, "shared": 1.0, "_io": 0.3}
    assert profile.first_importers == {"shared.config": 3.5, "encodings": 1.5}


def test_wrk_output_becomes_the_load_generator_summary() -> None:
    summary = loadgen.parse_wrk(WRK)

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
