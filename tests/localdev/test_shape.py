"""The platform's shape: 7 services and 12 function targets, so that a broken discovery
fails here instead of leaving the suites that iterate over it with nothing to run."""

from __future__ import annotations

from localdev import discovery

SHAPE = {
    "auth-service": ["auth_tokens", "auth_users"],
    "project-service": ["projects", "project_files"],
    "analysis-service": ["analyses", "analysis_worker"],
    "ai-orchestrator": ["orchestrator"],
    "version-control-service": ["versions"],
    "comparison-service": ["ab_tests", "comparisons"],
    "provider-service": ["providers", "quotas"],
}


def test_discovery_finds_exactly_seven_services_and_twelve_targets() -> None:
    found = {s.name: [f.target for f in s.functions] for s in discovery.discover()}

    assert found == SHAPE
    assert len(found) == 7
    assert sum(len(targets) for targets in found.values()) == 12


def test_every_target_has_its_own_port() -> None:
    ports = [f.port for s in discovery.discover() for f in s.functions]

    assert len(ports) == 12
    assert len(set(ports)) == 12
