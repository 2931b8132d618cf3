"""The API host (cloudbuild/edge/api.yaml) serves every contract path of every function
unchanged, at the function that owns it, and no internal event route, as the local
gateway does. Rules are tried in order and the first match wins, as in Istio; paths are
matched like Envoy's RE2 matcher (the whole path, no query string)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.deploy import _repo
from tests.deploy._repo import CLOUDBUILD, NAMESPACE, Target

EDGE = CLOUDBUILD / "edge" / "api.yaml"
TARGETS = _repo.targets()
HEALTH = {"/health", "/ready", "/health/startup"}
SAMPLES = {
    "sha256": "a" * 64,
    "path": "app/db.py",
    "alias": "production",
    "scope": "project",
}
UUID = "0b8f2f55-6c1e-4a57-9a38-2d0c8f1f7e11"


def _virtual_service() -> dict[str, Any]:
    (service,) = [d for d in _repo.load_all(EDGE) if d["kind"] == "VirtualService"]
    return service


def _route(path: str) -> dict[str, Any] | None:
    for rule in _virtual_service()["spec"]["http"]:
        for match in rule["match"]:
            uri = match["uri"]
            if ("exact" in uri and uri["exact"] == path) or (
                "regex" in uri and re.fullmatch(uri["regex"], path)
            ):
                return dict(rule)
    return None


def _sample(template: str) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: SAMPLES.get(m[1], UUID), template)


def _cluster_local(target: Target) -> bool:
    labels = _repo.load_one(_repo.BASE / f"{target.knative_name}.yaml")["metadata"]["labels"]
    return labels.get("networking.knative.dev/visibility") == "cluster-local"


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.knative_name)
async def test_every_contract_path_reaches_its_function(target: Target, client_for: Any) -> None:
    document = (await client_for(target.name).get("/openapi.json")).json()
    public = [
        path
        for path, methods in document["paths"].items()
        if path not in HEALTH
        and not all(op.get("x-internal") for m, op in methods.items() if not m.startswith("x-"))
    ]
    internal = [p for p in document["paths"] if p not in HEALTH and p not in public]
    expected = f"{target.knative_name}.{NAMESPACE}.svc.cluster.local"
    for template in public:
        rule = _route(_sample(template))
        assert rule is not None, f"{template} ({target.knative_name}) has no rule."
        assert rule["rewrite"]["authority"] == expected, (template, rule["name"])
    for template in internal:
        rule = _route(_sample(template))
        assert rule is None or "directResponse" in rule, f"{template} is internal: {rule}."
        if rule is not None:
            assert rule["directResponse"]["status"] == 404


def test_the_rules_name_only_public_functions_and_send_them_to_knative() -> None:
    public = {t.knative_name for t in TARGETS if not _cluster_local(t)}
    routed = set()
    for rule in _virtual_service()["spec"]["http"]:
        if "directResponse" in rule:
            continue
        name = rule["rewrite"]["authority"].split(".")[0]
        assert rule["name"] == name and name in public, rule["name"]
        (route,) = rule["route"]
        assert (
            route["destination"]["host"] == "knative-local-gateway.istio-system.svc.cluster.local"
        )
        routed.add(name)
    assert routed == public, f"Unrouted: {sorted(public - routed)}."


@pytest.mark.parametrize("path", ["/projectsx", "/tokens", "/", "/requeue", "/dead-letter"])
def test_paths_no_function_owns_are_not_routed(path: str) -> None:
    assert _route(path) is None, path


def test_the_api_host_is_https_with_its_own_certificate() -> None:
    docs = {d["kind"]: d for d in _repo.load_all(EDGE)}
    servers = {s["port"]["number"]: s for s in docs["Gateway"]["spec"]["servers"]}
    assert servers[443]["tls"]["credentialName"] == docs["Certificate"]["spec"]["secretName"]
    assert servers[80]["tls"] == {"httpsRedirect": True}
    hosts = {"api.DOMAIN"}
    assert set(docs["Certificate"]["spec"]["dnsNames"]) == hosts
    assert set(docs["VirtualService"]["spec"]["hosts"]) == hosts
    gateway = docs["Gateway"]["metadata"]
    assert docs["VirtualService"]["spec"]["gateways"] == [
        f"{gateway['namespace']}/{gateway['name']}"
    ]
