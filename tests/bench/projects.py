"""project-service benchmarks: archive uploads (MB/s) beside an upload sink, and snapshots of
1,000 files beside reading a manifest and hello."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable

from tests.bench import corpus
from tests.bench.harness import (
    Bench,
    Result,
    Server,
    benchmark,
    call,
    client,
    http,
    interleave,
    timed,
)

FORMATS: dict[str, Callable[[dict[str, str]], bytes]] = {
    "tar.gz": corpus.tar_gz,
    "zip": corpus.zip_bytes,
}


def new_project(bench: Bench, projects_url: str, owner: dict[str, str]) -> str:
    body = {"name": f"bench-{uuid.uuid4().hex[:8]}"}
    created = call("POST", f"{projects_url}/projects", json=body, headers=owner, expect=(201,))
    return str(created["id"])


def post_seconds(port: int, path: str, body: bytes, headers: dict[str, str]) -> tuple[float, bytes]:
    """Wall seconds of one POST (fresh connection, whole answer read) and the answer."""
    started = time.perf_counter()
    status, payload = http(port, "POST", path, headers=headers, body=body, timeout=300)
    seconds = time.perf_counter() - started
    if status >= 300:
        raise RuntimeError(f"POST {path}: {status} {payload[:2000]!r}")
    return seconds, payload


@benchmark("archive", "POST /projects/{id}/archive of a ~10 MB repository vs an upload sink (MB/s)")
def archive(bench: Bench) -> list[Result]:
    servers = bench.shared("projects", "project_files", "upload_sink")
    base = corpus.repository(total_bytes=int(bench.options.archive_mb * 1_000_000), seed=1)
    return [archive_format(bench, servers, base, fmt) for fmt in FORMATS]


def archive_format(bench: Bench, servers: list[Server], base: dict[str, str], fmt: str) -> Result:
    """Interleaved uploads of ``fmt`` archives and the same bytes to the sink, in MB/s."""
    projects, files_server, sink = servers
    owner = bench.identity.headers()
    # every upload gets new contents (a first upload: no blob is already stored)
    uploads = [
        corpus.salted(base, f"{fmt}-{run}-{uuid.uuid4().hex}")
        for run in range(bench.options.archive_runs)
    ]
    prepared = iter([(FORMATS[fmt](f), corpus.size(f), len(f)) for f in uploads])
    pending: list[tuple[bytes, int, int]] = []

    def upload() -> float:
        body, raw, count = next(prepared)
        pending.append((body, raw, count))
        project = new_project(bench, projects.url, owner)
        headers = {**owner, "Content-Type": "application/octet-stream"}
        seconds, payload = post_seconds(
            files_server.port, f"/projects/{project}/archive", body, headers
        )
        answer = json.loads(payload)
        if answer["added"] != count or answer["skipped"]:
            raise RuntimeError(f"archive answered {answer} for {count} files")
        return raw / seconds / 1e6

    def baseline() -> float:
        body, raw, _ = pending[-1]
        seconds, payload = post_seconds(sink.port, "/", body, {})
        if int(payload) != len(body):
            raise RuntimeError(f"the sink read {payload!r} of {len(body)} bytes")
        return raw / seconds / 1e6

    subject, base_values = interleave(bench.options.archive_runs, upload, baseline)
    body, raw, count = pending[0]
    return Result(
        "archive",
        f"{fmt} upload, uncompressed bytes / wall time",
        "MB/s",
        "project-files POST /archive",
        subject,
        "upload sink (same bytes)",
        base_values,
        higher_is_better=True,
        notes={
            "archive": {
                "files": count,
                "uncompressed_mb": round(raw / 1e6, 2),
                "compressed_mb": round(len(body) / 1e6, 2),
            }
        },
    )


@benchmark("snapshot", "POST /projects/{id}/snapshots of 1,000 files vs GET manifest and hello")
def snapshot(bench: Bench) -> list[Result]:
    projects, files_server, hello = bench.shared("projects", "project_files", "hello")
    owner = bench.identity.headers()
    count = bench.options.snapshot_files
    files = corpus.repository(total_lines=count * 80, file_lines=80, seed=2)
    files = dict(list(files.items())[:count])
    project = new_project(bench, projects.url, owner)
    base = f"{files_server.url}/projects/{project}"
    headers = {**owner, "Content-Type": "application/octet-stream"}
    post_seconds(files_server.port, f"/projects/{project}/archive", corpus.tar_gz(files), headers)
    latest: list[str] = []

    def take() -> float:
        # one changed file: a new tree, so a new snapshot of every file (not the 200 reuse)
        call("PUT", f"{base}/files/CHANGES.md", content=uuid.uuid4().hex.encode(), headers=owner)
        ms, answer = timed("POST", f"{base}/snapshots", headers=owner, expect=(201,))
        if answer["file_count"] != len(files) + 1:
            raise RuntimeError(f"snapshot of {answer['file_count']} files, not {len(files) + 1}")
        latest.append(str(answer["id"]))
        return ms

    def manifest() -> float:
        ms, answer = timed("GET", f"{base}/snapshots/{latest[-1]}", headers=owner)
        if len(answer["files"]) != len(files) + 1:
            raise RuntimeError("the manifest lacks files")
        return ms

    def hello_ms() -> float:
        return _hello(hello.url)

    take()  # warm the path once
    runs = bench.options.snapshot_runs
    snaps, manifests, hellos = interleave(runs, take, manifest, hello_ms)
    metric = f"POST /snapshots ({len(files) + 1} files)"
    return [
        Result(
            "snapshot",
            f"{metric} vs GET its manifest",
            "ms",
            "project-files",
            snaps,
            "GET /snapshots/{id} (manifest)",
            manifests,
        ),
        Result("snapshot", f"{metric} vs GET /", "ms", "project-files", snaps, "hello", hellos),
    ]


def _hello(url: str) -> float:
    started = time.perf_counter()
    response = client().get(f"{url}/")
    if response.text != "hello":
        raise RuntimeError(f"hello answered {response.text!r}")
    return (time.perf_counter() - started) * 1000
