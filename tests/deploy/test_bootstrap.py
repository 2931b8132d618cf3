"""The bootstrap (cloudbuild/bootstrap/bootstrap.sh) creates everything that the manifests
and pipelines reference, and nothing they don't: read from its dry run, which prints every
gcloud/kubectl command and runs none (gcloud and kubectl here are traps that record any
call)."""

from __future__ import annotations

import re
import shlex
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.deploy import _repo
from tests.deploy._repo import BASE, CLOUDBUILD, JOBS, KNATIVE, NAMESPACE, ROOT

PROJECT = "acr-demo-1"
ENVS = ("staging", "production")
TRAP = '#!/bin/sh\necho "$0 $*" >> "{log}"\nexit 97\n'


@cache
def _dry_run(env: str, tmp: str) -> tuple[str, str]:
    """The dry run's output, and what the trapped gcloud/kubectl recorded."""
    bin_dir = Path(tmp) / env / "bin"
    bin_dir.mkdir(parents=True)
    log = Path(tmp) / env / "calls.log"
    log.write_text("")
    for tool in ("gcloud", "kubectl", "kn", "gsutil"):
        (bin_dir / tool).write_text(TRAP.format(log=log))
        (bin_dir / tool).chmod(0o755)
    done = subprocess.run(
        ["make", "--no-print-directory", "-s", "bootstrap", f"PROJECT_ID={PROJECT}", f"ENV={env}"],
        cwd=ROOT,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "DRY_RUN": "1", "HOME": tmp},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr, log.read_text()


@pytest.fixture(scope="module")
def tmp_root(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("bootstrap"))


def _commands(env: str, tmp: str) -> list[list[str]]:
    """The printed mutating commands ("+ ..."), split like a shell, comments dropped."""
    output, _ = _dry_run(env, tmp)
    return [
        shlex.split(line[2:], comments=True) for line in output.splitlines() if line[:2] == "+ "
    ]


def _flag(command: list[str], name: str) -> str | None:
    for word in command:
        if word.startswith(f"--{name}="):
            return word.split("=", 1)[1]
    return None


def _gcloud(commands: list[list[str]], *words: str) -> list[list[str]]:
    n = len(words)
    return [c for c in commands if c[:1] == ["gcloud"] and c[1 : 1 + n] == list(words)]


def _created(commands: list[list[str]], *words: str) -> set[str]:
    """The names given to `gcloud <words> create NAME`."""
    return {c[len(words) + 2] for c in _gcloud(commands, *words, "create")}


def _kubernetes_secrets(commands: list[list[str]]) -> dict[str, dict[str, str]]:
    secrets = {}
    for c in commands:
        if c[:1] == ["kubectl"] and c[3:6] == ["create", "secret", "generic"]:
            assert c[1:3] == ["-n", NAMESPACE], c
            literals = [w.split("=", 1)[1] for w in c if w.startswith("--from-literal=")]
            secrets[c[6]] = dict(literal.split("=", 1) for literal in literals)
    return secrets


def _referenced_secret_keys() -> set[tuple[str, str]]:
    """(Secret, key) of every secretKeyRef in the Knative Services and Jobs."""
    refs = set()
    for path in [*sorted(BASE.glob("*.yaml")), *sorted(JOBS.glob("*.yaml"))]:
        for doc in _repo.load_all(path):
            for match in re.finditer(
                r"'secretKeyRef': \{'name': '([^']+)', 'key': '([^']+)'", str(doc)
            ):
                refs.add((match[1], match[2]))
    return refs


def _pipeline_secret_manager_names() -> set[str]:
    names = set()
    for path in sorted(CLOUDBUILD.glob("*.yaml")):
        config = _repo.load_one(path)
        for secret in config.get("availableSecrets", {}).get("secretManager", []):
            names.add(
                re.fullmatch(r"projects/[^/]+/secrets/([^/]+)/versions/.+", secret["versionName"])[
                    1
                ]
            )
    notifier = _repo.load_one(CLOUDBUILD / "notifier" / "slack.yaml")
    for secret in notifier["spec"]["secrets"]:
        names.add(secret["value"].split("/")[3])
    return names


@pytest.mark.parametrize("env", ENVS)
def test_the_dry_run_calls_nothing_and_prints_every_command(env: str, tmp_root: str) -> None:
    output, calls = _dry_run(env, tmp_root)
    assert calls == "", f"The dry run called: {calls}"
    commands = _commands(env, tmp_root)
    assert {c[0] for c in commands} >= {"gcloud", "kubectl"}
    assert len(commands) > 80, len(commands)
    assert "<generated>" in output and not re.search(r"BEGIN [A-Z ]*PRIVATE KEY", output)


def test_without_a_project_or_environment_it_stops() -> None:
    for args in (["ENV=staging"], ["PROJECT_ID=acr-demo-1"], ["PROJECT_ID=acr-demo-1", "ENV=qa"]):
        done = subprocess.run(
            ["make", "-s", "bootstrap", *args],
            cwd=ROOT,
            env={"PATH": "/usr/bin:/bin", "DRY_RUN": "1"},
            capture_output=True,
            text=True,
        )
        assert done.returncode != 0, args
        assert "+ gcloud" not in done.stdout, args


@pytest.mark.parametrize("env", ENVS)
def test_the_order_is_one_that_can_succeed(env: str, tmp_root: str) -> None:
    commands = [" ".join(c) for c in _commands(env, tmp_root)]

    def first(fragment: str) -> int:
        return next(i for i, c in enumerate(commands) if fragment in c)

    order = [
        "gcloud services enable",
        "gcloud compute networks create",
        "gcloud services vpc-peerings",
        "gcloud iam service-accounts create ai-codereview-functions",
        "gcloud container clusters create",
        "gcloud container clusters get-credentials",
        "serving-crds.yaml",
        "serving-core.yaml",
        "net-istio.yaml",
        "eventing-core.yaml",
        "mt-channel-broker.yaml",
        "gcloud sql instances create",
        "gcloud secrets create",
        "gcloud sql users create",
        "kubectl apply -f knative/base/namespace.yaml",
        "create secret generic",
        "gcloud builds triggers import",
    ]
    positions = [first(fragment) for fragment in order]
    assert positions == sorted(positions), list(zip(order, positions, strict=True))


@pytest.mark.parametrize("env", ENVS)
def test_every_kubernetes_secret_and_key_the_manifests_read_is_created(
    env: str, tmp_root: str
) -> None:
    created = {
        (name, key)
        for name, data in _kubernetes_secrets(_commands(env, tmp_root)).items()
        for key in data
    }
    declared = {
        (name, key)
        for name, secret in _repo.objects(BASE / "secrets.yaml", "Secret").items()
        for key in secret["metadata"]["annotations"]["ai-codereview.dev/keys"].split(",")
    }
    referenced = _referenced_secret_keys()
    assert referenced == declared, (
        f"Read but undeclared or declared but unread: {referenced ^ declared}"
    )
    assert created == declared, f"Missing: {declared - created}; extra: {created - declared}."


@pytest.mark.parametrize("env", ENVS)
def test_every_secret_value_is_a_reference_to_a_created_secret_and_back(
    env: str, tmp_root: str
) -> None:
    commands = _commands(env, tmp_root)
    created = _created(commands, "secrets")
    referenced = set()
    for name, data in _kubernetes_secrets(commands).items():
        for key, value in data.items():
            match = re.fullmatch(r"sm://([a-z0-9-]+)", value)
            assert match, f"{name}.{key} should be an sm:// reference, is {value!r}."
            assert match[1].startswith(f"{env}-"), f"{match[1]} should carry the environment."
            referenced.add(match[1])
    pipelines = _pipeline_secret_manager_names()
    assert referenced | pipelines <= created, f"Not created: {(referenced | pipelines) - created}."
    assert created <= referenced | pipelines, (
        f"Created, never read: {created - referenced - pipelines}."
    )
    with_value = {c[4] for c in _gcloud(commands, "secrets", "versions", "add")}
    assert with_value == created, f"Created without a first value: {created - with_value}."
    functions = f"serviceAccount:ai-codereview-functions@{PROJECT}.iam.gserviceaccount.com"
    readable = {
        c[3]
        for c in _gcloud(commands, "secrets", "add-iam-policy-binding")
        if _flag(c, "member") == functions
    }
    assert referenced <= readable, f"The functions cannot read {referenced - readable}."
    build = f"serviceAccount:ai-codereview-build@{PROJECT}.iam.gserviceaccount.com"
    readable = {
        c[3]
        for c in _gcloud(commands, "secrets", "add-iam-policy-binding")
        if _flag(c, "member") == build
    }
    assert pipelines <= readable, f"Cloud Build cannot read {pipelines - readable}."


@pytest.mark.parametrize("env", ENVS)
def test_service_accounts_are_created_used_and_bound(env: str, tmp_root: str) -> None:
    commands = _commands(env, tmp_root)
    created = {
        f"{name}@{PROJECT}.iam.gserviceaccount.com"
        for name in _created(commands, "iam", "service-accounts")
    }
    account = _repo.load_one(BASE / "service-account.yaml")
    annotated = account["metadata"]["annotations"]["iam.gke.io/gcp-service-account"].replace(
        "PROJECT_ID", PROJECT
    )
    assert annotated in created
    member = f"serviceAccount:{PROJECT}.svc.id.goog[{NAMESPACE}/{account['metadata']['name']}]"
    bindings = _gcloud(commands, "iam", "service-accounts", "add-iam-policy-binding")
    assert any(
        c[4] == annotated
        and _flag(c, "member") == member
        and _flag(c, "role") == "roles/iam.workloadIdentityUser"
        for c in bindings
    ), member
    printed = " ".join(" ".join(c) for c in commands)
    for path in sorted((CLOUDBUILD / "triggers").glob("*.yaml")):
        trigger = _repo.load_one(path)
        used = trigger["serviceAccount"].replace("PROJECT_ID", PROJECT).rsplit("/", 1)[1]
        assert used in created, f"{path.name} runs as {used}, which the bootstrap never creates."
    for email in created:
        uses = printed.count(email) - printed.count(f"describe {email}")
        assert uses > 1, f"{email} is created and never granted or used."
    grants = {
        (_flag(c, "member"), _flag(c, "role"))
        for c in _gcloud(commands, "projects", "add-iam-policy-binding")
    }
    for role in (
        "roles/cloudbuild.builds.editor",
        "roles/artifactregistry.writer",
        "roles/container.developer",
    ):
        assert (
            f"serviceAccount:ai-codereview-build@{PROJECT}.iam.gserviceaccount.com",
            role,
        ) in grants, role


@pytest.mark.parametrize("env", ENVS)
def test_images_registry_cluster_and_signing_key_match_the_pipelines(
    env: str, tmp_root: str
) -> None:
    commands = _commands(env, tmp_root)
    deploy = _repo.load_one(CLOUDBUILD / "deploy.yaml")["substitutions"]
    trigger = next(
        _repo.load_one(p)
        for p in (CLOUDBUILD / "triggers").glob("*.yaml")
        if _repo.load_one(p).get("substitutions", {}).get("_ENV") == env
    )
    region = trigger["substitutions"]["_REGION"]
    (repository,) = _gcloud(commands, "artifacts", "repositories", "create")
    assert repository[4] == deploy["_REPOSITORY"] and _flag(repository, "location") == region
    assert _flag(repository, "repository-format") == "docker"
    overlay = _repo.load_one(KNATIVE / "overlays" / env / "kustomization.yaml")
    for image in overlay["images"]:
        assert (
            image["newName"] == f"REGION-docker.pkg.dev/PROJECT_ID/{repository[4]}/{image['name']}"
        )
        assert (ROOT / "functions" / image["name"].replace("-", "_") / "Dockerfile").exists()
    (cluster,) = _gcloud(commands, "container", "clusters", "create")
    assert cluster[4] == trigger["substitutions"]["_CLUSTER"] and _flag(cluster, "region") == region
    assert _flag(cluster, "workload-pool") == f"{PROJECT}.svc.id.goog"
    keyring, key = re.fullmatch(
        r"gcpkms://projects/\$\{PROJECT_ID\}/locations/global/keyRings/([^/]+)/cryptoKeys/([^/]+)",
        deploy["_COSIGN_KEY"],
    ).groups()
    assert keyring in _created(commands, "kms", "keyrings")
    assert key in _created(commands, "kms", "keys")
    assert deploy["_NAMESPACE"] == NAMESPACE


def test_every_trigger_is_imported_and_every_stage_has_a_trigger(tmp_root: str) -> None:
    imported = set()
    for env in ENVS:
        for c in _gcloud(_commands(env, tmp_root), "builds", "triggers", "import"):
            imported.add(Path(_flag(c, "source") or "").name)
    files = {p.name for p in (CLOUDBUILD / "triggers").glob("*.yaml")}
    assert imported == files, f"Not imported: {files - imported}; unknown: {imported - files}."
    run = {_repo.load_one(CLOUDBUILD / "triggers" / name)["filename"] for name in files}
    for stage in ("ci", "security", "integration", "deploy"):
        assert f"cloudbuild/{stage}.yaml" in run, f"No trigger runs {stage}.yaml."


@pytest.mark.parametrize(
    "path", sorted((CLOUDBUILD / "triggers").glob("*.yaml")), ids=lambda p: p.stem
)
def test_every_trigger_substitution_is_declared_by_its_config(path: Path) -> None:
    trigger = _repo.load_one(path)
    config: dict[str, Any] = _repo.load_one(ROOT / trigger["filename"])
    undeclared = set(trigger.get("substitutions", {})) - set(config.get("substitutions", {}))
    assert not undeclared, (
        f"{path.name} sets {undeclared}, which {trigger['filename']} never declares."
    )
    placeholders = re.findall(
        r"\b(OWNER|REPOSITORY|PROJECT_ID|ENV_DOMAIN)\b", path.read_text().split("\nname:", 1)[1]
    )
    assert set(placeholders) <= {"OWNER", "REPOSITORY", "PROJECT_ID", "ENV_DOMAIN"}
    assert "OWNER" in placeholders and "REPOSITORY" in placeholders, "The bootstrap names the repo."
