"""Tests that every service's Dockerfile has the one shape of STYLE rule 17, from one template."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from localdev import discovery, dockerfiles
from tests.deploy import _repo
from tests.deploy._repo import FUNCTIONS, ROOT, DockerIgnore, Instruction

FOLDERS = _repo.dockerized_folders()
DIGEST = re.compile(r"^python:3\.11-slim@sha256:[0-9a-f]{64}$")


def _instructions(folder: str) -> list[Instruction]:
    return _repo.dockerfile(FUNCTIONS / folder / "Dockerfile")


def _all(folder: str, keyword: str) -> list[Instruction]:
    return [i for i in _instructions(folder) if i.keyword == keyword]


def test_every_service_folder_has_a_dockerfile() -> None:
    missing = sorted(set(_repo.service_folders()) - set(FOLDERS))
    assert not missing, f"Service folders without a Dockerfile: {missing}."


@pytest.mark.parametrize("folder", FOLDERS)
def test_build_is_multi_stage_on_a_digest_pinned_slim_python(folder: str) -> None:
    stages = _all(folder, "FROM")
    assert len(stages) >= 2, "Should build in a builder stage and run in a final one."
    for stage in stages:
        image = stage.arguments.split()[0]
        assert DIGEST.match(image), f"line {stage.line}: '{image}' should be pinned by digest."


def test_every_dockerfile_is_the_template_rendered() -> None:
    stale = [p.relative_to(ROOT).as_posix() for p in dockerfiles.stale()]
    assert stale == [], "Run `make dockerfiles` (localdev/service.Dockerfile.tmpl)."


def test_a_dockerfile_edited_by_hand_is_stale(tmp_path: Path) -> None:
    for service in discovery.discover():
        folder = tmp_path / "functions" / service.package
        folder.mkdir(parents=True)
        (folder / "__init__.py").write_text(f"LOCAL_PORT = {service.port}\n")
        main = ROOT / "functions" / service.package / "main.py"
        (folder / "main.py").write_text(main.read_text())
        (folder / "Dockerfile").write_text(dockerfiles.render(service))
    assert dockerfiles.stale(tmp_path) == []
    edited = tmp_path / "functions" / "auth_service" / "Dockerfile"
    edited.write_text(edited.read_text().replace("USER 1000:1000", "USER root"))
    assert dockerfiles.stale(tmp_path) == [edited]


@pytest.mark.parametrize("folder", FOLDERS)
def test_stock_pip_installs_only_the_hashed_uv_and_uv_the_services_requirements(
    folder: str,
) -> None:
    runs = [i.arguments for i in _all(folder, "RUN")]
    pip = [r for r in runs if re.search(r"\bpip install\b", r) and "uv pip" not in r]
    assert len(pip) == 1, "The stock pip should install one thing: the bootstrap uv."
    assert re.findall(r"(?:-r|--requirement)[ =](\S+)", pip[0]) == ["requirements-bootstrap.txt"]
    assert "--require-hashes" in pip[0] and "--no-deps" in pip[0]
    assert re.search(r"python -m venv --without-pip /opt/venv\b", " ".join(runs)), (
        "/opt/venv should be made without pip."
    )
    uv = [r for r in runs if "uv pip install" in r]
    expected = f"functions/{folder}/requirements.txt"
    assert len(uv) == 1, "uv should install the service's requirements."
    assert re.findall(r"(?:-r|--requirement)[ =](\S+)", uv[0]) == [expected]
    assert "--require-hashes" in uv[0] and "--python /opt/venv/bin/python" in uv[0]
    assert (ROOT / expected).exists(), f"{expected} should exist (compiled from requirements.in)."


@pytest.mark.parametrize("folder", FOLDERS)
def test_runtime_stage_removes_the_bases_installers(folder: str) -> None:
    final = " ".join(i.arguments for i in _repo.final_stage(_instructions(folder)))
    for name in ("pip", "setuptools", "wheel", "_bundled"):
        assert f'"$d"/{name}' in final, f"The runtime stage should remove the base's {name}."
    assert "site.getsitepackages()" in final, "...from every site directory of the interpreter."


@pytest.mark.parametrize("folder", FOLDERS)
def test_final_stage_copies_the_venv_shared_and_only_this_service(folder: str) -> None:
    final = _repo.final_stage(_instructions(folder))
    copies = [i for i in final if i.keyword == "COPY"]
    sources = {s.rstrip("/") for i in copies for s in _repo.copy_sources(i)}
    assert sources == {"shared", "functions/__init__.py", f"functions/{folder}"}, (
        f"Final stage should copy shared/, functions/__init__.py and functions/{folder}/, "
        f"copies {sorted(sources)}."
    )
    assert any("--from=builder" in i.arguments and "/opt/venv" in i.arguments for i in copies), (
        "Final stage should copy the builder's /opt/venv."
    )


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_copy_source_exists_and_survives_dockerignore(folder: str) -> None:
    ignore = DockerIgnore.of_repo()
    for ins in _all(folder, "COPY"):
        for source in _repo.copy_sources(ins):
            path = ROOT / source
            assert path.exists(), f"line {ins.line}: COPY source '{source}' does not exist."
            kept = [f for f in _repo.files_under(path) if not ignore.excludes(f)]
            assert kept, f"line {ins.line}: .dockerignore excludes all of '{source}'."
            python = [f for f in _repo.files_under(path) if f.endswith(".py")]
            dropped = [f for f in python if ignore.excludes(f)]
            assert not dropped, f"line {ins.line}: .dockerignore drops {dropped}."


@pytest.mark.parametrize("folder", FOLDERS)
def test_runtime_environment_names_the_service_and_a_target(folder: str) -> None:
    env = _repo.env_of(_instructions(folder))
    assert env.get("PYTHONUNBUFFERED") == "1", "Logs should not be buffered."
    assert env.get("PYTHONDONTWRITEBYTECODE") == "1", "The root filesystem is read-only."
    assert env.get("PYTHONPATH") == "/app", "Code imports absolutely from the repo root."
    assert env.get("PATH", "").startswith("/opt/venv/bin"), "The venv should come first."
    assert env.get("SERVICE_NAME") == _repo.image_name(folder), "SERVICE_NAME is the seed's."
    assert env.get("FUNCTION_SOURCE") == f"functions/{folder}/main.py", "Wrong FUNCTION_SOURCE."
    targets = _repo.targets_of(folder)
    assert env.get("FUNCTION_TARGET") in targets, (
        f"FUNCTION_TARGET '{env.get('FUNCTION_TARGET')}' should be one of {targets}."
    )


@pytest.mark.parametrize("folder", FOLDERS)
def test_container_runs_as_appuser_with_healthcheck_and_graceful_stop(folder: str) -> None:
    final = _repo.final_stage(_instructions(folder))
    useradds = [i for i in final if i.keyword == "RUN" and "useradd" in i.arguments]
    assert useradds and re.search(r"--uid 1000\b.*\bappuser\b", useradds[0].arguments), (
        "Final stage should create appuser with UID 1000."
    )
    users = [i.arguments for i in final if i.keyword == "USER"]
    assert users and users[-1] in ("appuser", "1000", "1000:1000"), (
        f"Should run as appuser (UID 1000), runs as {users[-1] if users else 'root'}."
    )
    healthchecks = [i.arguments for i in final if i.keyword == "HEALTHCHECK"]
    assert healthchecks and "/health" in healthchecks[-1], "Should HEALTHCHECK /health."
    assert [i.arguments for i in final if i.keyword == "STOPSIGNAL"] == ["SIGTERM"]
    assert "8080" in [i.arguments for i in final if i.keyword == "EXPOSE"], "Should expose 8080."
    commands = [i.arguments for i in final if i.keyword == "CMD"]
    assert commands and _repo.exec_form(commands[-1]), "CMD should be in exec form."
    exec_cmd = _repo.exec_form(commands[-1]) or []
    assert exec_cmd[0] == "functions-framework", "Should start functions-framework."


@pytest.mark.parametrize(
    ("path", "excluded"),
    [
        ("shared/config.py", False),
        ("functions/auth_service/main.py", False),
        ("functions/auth_service/migrations/0001_init.sql", False),
        ("functions/__pycache__/x.cpython-311.pyc", True),
        ("shared/__pycache__/config.cpython-311.pyc", True),
        ("functions/auth_service/.env", True),
        (".git/HEAD", True),
        (".venv/bin/python", True),
        (".local/postgres/PG_VERSION", True),
        ("tests/deploy/test_knative.py", True),
        ("README.md", True),
    ],
)
def test_repo_dockerignore_keeps_code_and_drops_the_rest(path: str, excluded: bool) -> None:
    assert DockerIgnore.of_repo().excludes(path) is excluded, (
        f"'{path}' should be {'excluded' if excluded else 'kept'} by .dockerignore."
    )


@pytest.mark.parametrize(
    ("patterns", "path", "excluded"),
    [
        ("*.md", "README.md", True),
        ("*.md", "docs/guide.md", False),
        ("**/*.md", "docs/guide.md", True),
        ("**/*.md", "README.md", True),
        ("docs", "docs/a/b.txt", True),
        ("/docs/", "docs/a/b.txt", True),
        ("./docs", "docs/a", True),
        ("doc?", "docs", True),
        ("doc[a-r]", "docs", False),
        ("doc[^a-r]", "docs", True),
        ("a/**/z", "a/z", True),
        ("a/**/z", "a/b/c/z", True),
        ("*\n!keep", "keep/file", False),
        ("*\n!keep\nkeep/*.tmp", "keep/x.tmp", True),
        ("!keep\n*", "keep/file", True),
        ("# comment\n\n", "anything", False),
    ],
)
def test_dockerignore_matching_follows_docker_rules(
    patterns: str, path: str, excluded: bool
) -> None:
    assert DockerIgnore(patterns).excludes(path) is excluded, (
        f"{patterns!r} should {'exclude' if excluded else 'keep'} '{path}'."
    )
