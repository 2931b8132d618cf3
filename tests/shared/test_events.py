"""events: which Host is a cluster-local Service address (internal routes answer there)."""

from __future__ import annotations

import pytest

from shared import events


@pytest.mark.parametrize(
    "host",
    [
        "ab-tests.ai-codereview.svc.cluster.local",
        "ab-tests.ai-codereview.svc.cluster.local:80",
        "ab-tests.ai-codereview.svc.cluster.local.",  # fully qualified
        "ab-tests.ai-codereview.svc",
        "AB-TESTS.AI-CODEREVIEW.SVC.CLUSTER.LOCAL",
        "analysis-worker.staging-1.svc:8080",
    ],
)
def test_cluster_local_addresses_are_recognised(host: str) -> None:
    assert events.is_cluster_local(host)


@pytest.mark.parametrize(
    "host",
    [
        "",
        "testserver",
        "127.0.0.1:8061",
        "localhost",
        "[::1]:8061",
        "ab-tests.ai-codereview.example.com",  # the public domain
        "ab-tests.ai-codereview.svc.cluster.local.attacker.example",  # a suffix lookalike
        "svc.cluster.local",
        "ai-codereview.svc.cluster.local",  # no service name
        "x.ab-tests.ai-codereview.svc.cluster.local",  # one label too many
        "ab_tests.ai-codereview.svc.cluster.local",  # not a DNS label
        "-ab.ai-codereview.svc",
        "ab-tests.ai-codereview.svc.other.domain",  # another cluster domain
        "ab-tests.ai-codereview.svc.cluster.local\r\nx-evil: 1",
    ],
)
def test_anything_else_is_not(host: str) -> None:
    assert not events.is_cluster_local(host)


def test_the_cluster_domain_is_configurable() -> None:
    host = "ab-tests.ai-codereview.svc.corp.internal"
    assert events.is_cluster_local(host, domain="corp.internal")
    assert not events.is_cluster_local(host)
    assert not events.is_cluster_local(
        "ab-tests.ai-codereview.svc.cluster.local", domain="corp.internal"
    )
    assert events.is_cluster_local("ab-tests.ai-codereview.svc", domain="corp.internal")


def test_the_trigger_host_of_a_function_is_cluster_local() -> None:
    host = events.cluster_local_host("ab-tests")
    assert host == "ab-tests.ai-codereview.svc.cluster.local"
    assert events.is_cluster_local(host)
