"""Tests that knative/ deploys every function target the way the seed and STYLE ask."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.deploy import _repo
from tests.deploy._repo import BASE, JOBS, KNATIVE, NAMESPACE, ROOT, Target

# The seed's "Production (Kubernetes)" table (dockerization-guide.md).
SEED_RESOURCES = {
    "auth-service": ("100m", "500m", "256Mi", "512Mi"),
    "project-service": ("100m", "500m", "256Mi", "512Mi"),
    "analysis-service": ("250m", "1000m", "512Mi", "1Gi"),
    "ai-orchestrator": ("500m", "2000m", "1Gi", "4Gi"),
    "version-control-service": ("100m", "500m", "256Mi", "512Mi"),
    "comparison-service": ("100m", "500m", "256Mi", "512Mi"),
    "provider-service": ("100m", "500m", "256Mi", "512Mi"),
}
OVERLAYS = ("staging", "production")
TARGETS = _repo.targets()


def _ids(target: Target) -> str:
    return target.knative_name


def _manifest(target: Target) -> dict[str, Any]:
    path = BASE / f"{target.knative_name}.yaml"
    assert path.exists(), f"Function target '{target.name}' has no Knative Service file {path}."
    return _repo.load_one(path)


def _resources(service: str) -> dict[str, dict[str, str]]:
    cpu_request, cpu_limit, memory_request, memory_limit = SEED_RESOURCES[service]
    return {
        "requests": {"cpu": cpu_request, "memory": memory_request},
        "limits": {"cpu": cpu_limit, "memory": memory_limit},
    }


def _kustomization(folder: Path) -> dict[str, Any]:
    return _repo.load_one(folder / "kustomization.yaml")


def test_every_service_folder_exposes_function_targets() -> None:
    for folder in _repo.dockerized_folders():
        assert _repo.targets_of(folder), (
            f"functions/{folder}/main.py should define decorated async function targets."
        )


@pytest.mark.parametrize("target", TARGETS, ids=_ids)
def test_each_target_has_a_knative_service_named_after_it(target: Target) -> None:
    manifest = _manifest(target)
    assert manifest["apiVersion"] == "serving.knative.dev/v1", "Should be a Knative Service."
    assert manifest["kind"] == "Service", "Should be a Knative Service."
    assert manifest["metadata"]["name"] == target.knative_name, "Name should be the target's."
    assert manifest["metadata"]["namespace"] == NAMESPACE, f"Namespace should be {NAMESPACE}."


@pytest.mark.parametrize("target", TARGETS, ids=_ids)
def test_each_service_runs_its_own_target_from_its_service_image(target: Target) -> None:
    container = _repo.container(_manifest(target))
    env = _repo.env_values(container)
    assert env.get("FUNCTION_TARGET") == target.name, (
        f"FUNCTION_TARGET should be '{target.name}', is '{env.get('FUNCTION_TARGET')}'."
    )
    assert env.get("SERVICE_NAME") == target.service, f"SERVICE_NAME should be {target.service}."
    assert container["image"] == target.service, (
        f"Image should be '{target.service}' (the overlays rewrite it), is '{container['image']}'."
    )
    assert [p["containerPort"] for p in container["ports"]] == [8080], "Should serve on 8080."
    assert "PORT" not in env, "PORT is reserved by Knative."


@pytest.mark.parametrize("target", TARGETS, ids=_ids)
def test_each_service_has_labels_of_its_function_and_service(target: Target) -> None:
    manifest = _manifest(target)
    expected = {
        "app.kubernetes.io/name": target.knative_name,
        "app.kubernetes.io/part-of": NAMESPACE,
        "app.kubernetes.io/component": target.service,
    }
    for where, labels in (
        ("metadata", manifest["metadata"].get("labels", {})),
        ("template", manifest["spec"]["template"]["metadata"].get("labels", {})),
    ):
        assert expected.items() <= labels.items(), f"{where} labels should include {expected}."


@pytest.mark.parametrize("target", TARGETS, ids=_ids)
def test_each_service_probes_the_three_health_paths(target: Target) -> None:
    container = _repo.container(_manifest(target))
    for probe, path in _repo.HEALTH_PATHS.items():
        assert probe in container, f"{target.knative_name} should set {probe}."
        http_get = container[probe].get("httpGet", {})
        assert http_get.get("path") == path, f"{probe} should GET {path}."
        assert "port" not in http_get, f"{probe} should use the serving port (none named)."


@pytest.mark.parametrize("target", TARGETS, ids=_ids)
def test_each_service_gets_the_seed_production_resources(target: Target) -> None:
    assert target.service in SEED_RESOURCES, f"{target.service} is not in the seed's table."
    resources = _repo.container(_manifest(target))["resources"]
    assert resources == _resources(target.service), (
        f"{target.knative_name} resources should be the seed's {_resources(target.service)}."
    )


@pytest.mark.parametrize("target", TARGETS, ids=_ids)
def test_each_service_runs_hardened_with_only_tmp_writable(target: Target) -> None:
    manifest = _manifest(target)
    container = _repo.container(manifest)
    context = container.get("securityContext", {})
    assert _repo.HARDENED_CONTAINER.items() <= context.items(), (
        f"securityContext should include {_repo.HARDENED_CONTAINER}, is {context}."
    )
    mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
    assert set(mounts) <= {"/tmp"}, f"Only /tmp should be writable, mounts are {sorted(mounts)}."
    volumes = {v["name"]: v for v in manifest["spec"]["template"]["spec"].get("volumes", [])}
    for name in mounts.values():
        assert "emptyDir" in volumes[name], f"Volume '{name}' should be an emptyDir."


@pytest.mark.parametrize("target", TARGETS, ids=_ids)
def test_each_service_scales_to_zero_with_a_ceiling(target: Target) -> None:
    template = _manifest(target)["spec"]["template"]
    annotations = template["metadata"].get("annotations", {})
    assert annotations.get("autoscaling.knative.dev/min-scale") == "0", "Should scale to zero."
    assert int(annotations.get("autoscaling.knative.dev/max-scale", "0")) > 0, (
        "Should cap its instances with max-scale."
    )
    assert template["spec"].get("containerConcurrency", 0) > 0, "Should cap concurrency."
    assert template["spec"].get("timeoutSeconds", 0) > 0, "Should set a request timeout."


@pytest.mark.parametrize("target", TARGETS, ids=_ids)
def test_each_service_reads_config_and_secrets_that_are_declared(target: Target) -> None:
    spec = _manifest(target)["spec"]["template"]["spec"]
    container = _repo.container(_manifest(target))
    config_maps = _repo.objects(BASE / "config.yaml", "ConfigMap")
    secrets = _repo.objects(BASE / "secrets.yaml", "Secret")
    accounts = _repo.objects(BASE / "service-account.yaml", "ServiceAccount")
    assert spec.get("serviceAccountName") in accounts, "ServiceAccount should be declared."
    names = [e["configMapRef"]["name"] for e in container.get("envFrom", [])]
    assert "platform-config" in names, "Should read the shared platform-config."
    for name in names:
        assert name in config_maps, f"ConfigMap '{name}' is not declared in config.yaml."
    for env in container.get("env", []):
        ref = env.get("valueFrom", {}).get("secretKeyRef")
        if ref is None:
            continue
        assert ref["name"] in secrets, f"Secret '{ref['name']}' is not declared in secrets.yaml."
        keys = secrets[ref["name"]]["metadata"]["annotations"]["ai-codereview.dev/keys"]
        assert ref["key"] in keys.split(","), (
            f"Key '{ref['key']}' of '{ref['name']}' is undeclared."
        )


def test_every_knative_service_file_belongs_to_a_target_and_to_the_base() -> None:
    expected = {f"{t.knative_name}.yaml" for t in TARGETS}
    files = {path.name for path in _repo.knative_services()}
    assert files <= expected, f"Knative Services without a function target: {files - expected}."
    resources = _kustomization(BASE)["resources"]
    for name in sorted(files):
        assert name in resources, f"{name} should be listed in knative/base/kustomization.yaml."


def test_every_file_of_the_base_kustomization_exists() -> None:
    for name in _kustomization(BASE)["resources"]:
        assert (BASE / name).exists(), f"knative/base/{name} is listed but missing."


def test_secrets_are_declared_but_never_applied() -> None:
    assert "secrets.yaml" not in _kustomization(BASE)["resources"], (
        "Applying data-less Secrets could delete real keys; secrets.yaml is a declaration."
    )
    for name, secret in _repo.objects(BASE / "secrets.yaml", "Secret").items():
        assert not secret.get("data") and not secret.get("stringData"), (
            f"Secret '{name}' must carry no values in git."
        )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_overlay_sets_its_environment_and_every_image(overlay: str) -> None:
    kustomization = _kustomization(KNATIVE / "overlays" / overlay)
    assert "../../base" in kustomization["resources"], f"{overlay} should build on the base."
    images = {i["name"]: i for i in kustomization.get("images", [])}
    for folder in _repo.dockerized_folders():
        image = _repo.image_name(folder)
        assert image in images, f"Overlay {overlay} should rewrite image '{image}'."
        assert images[image]["newName"].endswith(f"-docker.pkg.dev/PROJECT_ID/{NAMESPACE}/{image}")
    patches = str(kustomization.get("patches", []))
    assert "/data/ENVIRONMENT" in patches and f"value: {overlay}" in patches, (
        f"Overlay {overlay} should set ENVIRONMENT={overlay} in platform-config."
    )
    assert "min-scale" not in patches, f"Overlay {overlay} should keep scale-to-zero."


@pytest.mark.parametrize("folder", _repo.dockerized_folders())
def test_each_service_has_a_migration_job_outside_the_kustomization(folder: str) -> None:
    image = _repo.image_name(folder)
    path = JOBS / f"migrate-{image}.yaml"
    assert path.exists(), f"Service {folder} should have its migration Job {path}."
    job = _repo.load_one(path)
    container = _repo.container(job)
    assert container["name"] == "migrate", "deploy.yaml sets the image of container 'migrate'."
    assert container["image"] == image, f"The Job should run image '{image}'."
    assert container["command"] == ["python", "-m", "shared.migrations", f"functions/{folder}"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never", "Jobs never restart."
    assert _repo.HARDENED_CONTAINER.items() <= container["securityContext"].items()
    assert container["resources"] == _resources(image), "Same resources as the service."
    for kustomization in KNATIVE.rglob("kustomization.yaml"):
        assert path.name not in kustomization.read_text(), (
            f"{path.name} is run per release, not applied by {kustomization.relative_to(ROOT)}."
        )


def test_every_function_url_a_service_reads_is_set_for_the_cluster() -> None:
    """A ``<FUNCTION>_URL`` setting left at its local default would point at 127.0.0.1."""
    import importlib

    import yaml

    documents = yaml.safe_load_all((ROOT / "knative" / "base" / "config.yaml").read_text())
    platform = next(d for d in documents if d["metadata"]["name"] == "platform-config")["data"]
    for path in sorted(ROOT.glob("functions/*/settings.py")):
        module = importlib.import_module(f"functions.{path.parent.name}.settings")
        for value in vars(module).values():
            fields = getattr(value, "model_fields", {})
            for name in fields:
                if name.endswith("_url") and name not in ("database_url", "redis_url"):
                    assert name.upper() in platform, (
                        f"{name.upper()} ({path}) not in platform-config"
                    )
                    assert "127.0.0.1" not in platform[name.upper()], name


@pytest.mark.parametrize("target", TARGETS, ids=_ids)
async def test_only_a_function_serving_nothing_but_internal_routes_is_cluster_local(
    target: Target, client_for: Any
) -> None:
    document = (await client_for(target.name).get("/openapi.json")).json()
    operations = [
        operation
        for path, methods in document["paths"].items()
        if path not in ("/health", "/ready", "/health/startup")
        for method, operation in methods.items()
        if not method.startswith("x-")
    ]
    assert operations, target.name
    internal_only = all(operation.get("x-internal") for operation in operations)
    labels = _manifest(target)["metadata"]["labels"]
    visibility = labels.get("networking.knative.dev/visibility")
    assert visibility in (None, "cluster-local"), visibility
    assert (visibility == "cluster-local") == internal_only, (target.name, visibility)
