"""The overlays rendered the way the pipeline renders them (cloudbuild/scripts/render.sh):
eventing included, the platform client wired, and no placeholder left for the cluster.

Rendering needs `kubectl` (its built-in kustomize), which every machine of this kind has:
without it these tests fail, never skip."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from typing import Any

import pytest
import yaml

from tests.deploy import _repo
from tests.deploy._repo import NAMESPACE, ROOT

RENDER = ROOT / "cloudbuild" / "scripts" / "render.sh"
OVERLAYS = ("staging", "production")
PLATFORM_CLIENT = {"PLATFORM_CLIENT_ID", "PLATFORM_CLIENT_SECRET"}

# kubectl comes with every machine of this project's kind (and Cloud Build's image): a
# missing one fails the render tests rather than skipping them unseen.
if shutil.which("kubectl") is None:
    raise RuntimeError("kubectl (its kustomize renders the overlays) is not on PATH.")


@cache
def _render(overlay: str, project: str = "acr-test-1", tag: str = "abc1234") -> tuple[Any, ...]:
    done = subprocess.run(
        [str(RENDER), overlay, project, tag, "europe-west1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return tuple(d for d in yaml.safe_load_all(done.stdout) if d)


def _of_kind(overlay: str, kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in _render(overlay) if d["kind"] == kind}


def _services(overlay: str) -> dict[str, dict[str, Any]]:
    return {
        name: doc
        for name, doc in _of_kind(overlay, "Service").items()
        if doc["apiVersion"].startswith("serving.knative.dev/")
    }


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_placeholder_reaches_the_cluster(overlay: str) -> None:
    text = yaml.safe_dump_all(_render(overlay))
    for placeholder in ("REGION-docker", "PROJECT_ID", "SHORT_SHA"):
        assert placeholder not in text, f"{overlay}: {placeholder} left in the manifests."
    for name, service in _services(overlay).items():
        image = _repo.container(service)["image"]
        component = service["metadata"]["labels"]["app.kubernetes.io/component"]
        expected = f"europe-west1-docker.pkg.dev/acr-test-1/{NAMESPACE}/{component}:abc1234"
        assert image == expected, f"{name}: {image}"
    platform = _of_kind(overlay, "ConfigMap")["platform-config"]["data"]
    assert platform["GOOGLE_CLOUD_PROJECT"] == "acr-test-1"
    assert platform["ENVIRONMENT"] == overlay


def test_the_render_refuses_a_value_that_is_not_a_name() -> None:
    done = subprocess.run(
        [str(RENDER), "staging", "PROJECT_ID", "abc1234"], capture_output=True, text=True
    )
    assert done.returncode == 2, done.stdout
    assert "Not a valid name" in done.stderr
    done = subprocess.run([str(RENDER), "qa", "p", "t"], capture_output=True, text=True)
    assert done.returncode == 2 and "No overlay" in done.stderr


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_eventing_goes_out_with_every_deploy(overlay: str) -> None:
    kinds = {(d["kind"], d["metadata"]["name"]) for d in _render(overlay)}
    eventing = {
        (d["kind"], d["metadata"]["name"])
        for path in sorted((ROOT / "knative" / "eventing").glob("*.yaml"))
        if path.name != "kustomization.yaml"
        for d in _repo.load_all(path)
    }
    assert {kind for kind, _ in eventing} == {"Broker", "Trigger", "SinkBinding", "PingSource"}
    assert eventing <= kinds, f"{overlay} lacks {sorted(eventing - kinds)}."
    for doc in _render(overlay):
        assert doc["kind"] == "Namespace" or doc["metadata"]["namespace"] == NAMESPACE


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_event_sender_gets_k_sink_and_every_subscriber_exists(overlay: str) -> None:
    services = _services(overlay)
    binding = _of_kind(overlay, "SinkBinding")["platform-events"]
    selector = binding["spec"]["subject"]["selector"]["matchLabels"]
    bound = {n for n, s in services.items() if selector.items() <= s["metadata"]["labels"].items()}
    assert {"analyses", "analysis-worker"} <= bound, f"K_SINK reaches only {sorted(bound)}."
    assert binding["spec"]["sink"]["ref"]["name"] in _of_kind(overlay, "Broker")
    for trigger in _of_kind(overlay, "Trigger").values():
        assert trigger["spec"]["subscriber"]["ref"]["name"] in services, trigger["metadata"]
    ping = _of_kind(overlay, "PingSource")["requeue-stale-analyses"]
    assert ping["spec"]["sink"]["ref"]["name"] in services


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_platform_client_is_wired_where_it_is_created_and_used(overlay: str) -> None:
    """auth-tokens creates the account from these values; the others log in with them."""
    wired = set()
    for name, service in _services(overlay).items():
        env = _repo.env_values(_repo.container(service))
        refs = {
            key: value["secretKeyRef"]
            for key, value in env.items()
            if isinstance(value, dict) and "secretKeyRef" in value
        }
        if PLATFORM_CLIENT <= set(refs):
            assert {refs[k]["name"] for k in PLATFORM_CLIENT} == {"platform-service-account"}
            assert {refs[k]["key"] for k in PLATFORM_CLIENT} == PLATFORM_CLIENT
            wired.add(name)
    users = {"analyses", "analysis-worker", "orchestrator", "projects", "auth-users"}
    creators = {"auth-tokens"}
    assert users | creators <= wired, f"Wired only in {sorted(wired)}."


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_first_admins_password_reaches_only_auth_tokens(overlay: str) -> None:
    """auth-tokens alone bootstraps the first admin, so no other pod holds its password."""
    holders = {
        name
        for name, service in _services(overlay).items()
        if "ADMIN_PASSWORD" in _repo.env_values(_repo.container(service))
    }
    assert holders == {"auth-tokens"}
