"""events: which Host is a cluster-local Service address (internal routes answer there)."""

from __future__ import annotations

from typing import Any

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


class _Settings:
    """The two settings ``verify`` reads."""

    def __init__(self, key: str, max_age: int = 3600) -> None:
        from pydantic import SecretStr

        self.event_signing_key = SecretStr(key)
        self.event_max_age_seconds = max_age


def _event(key: bytes, **attributes: Any) -> Any:
    from cloudevents.http import CloudEvent

    base = {"id": "e1", "type": "t", "source": "//ai-codereview.dev/x", **attributes}
    data = {"b": 1, "a": [1, "x"]}
    return CloudEvent(events.signed(base, data, key), data)


def test_a_signed_event_verifies_and_survives_key_order_of_its_data() -> None:
    event = _event(b"k1")
    events.verify(event, _Settings("k1"))  # type: ignore[arg-type]
    reordered = {"a": [1, "x"], "b": 1}
    attributes = {name: event[name] for name in ("id", "type", "source", "time")}
    assert events.signature(b"k1", attributes, reordered) == event["acrsignature"]


def test_rotation_verifies_with_a_previous_key_and_signs_with_the_first() -> None:
    events.verify(_event(b"old"), _Settings("new, old"))  # type: ignore[arg-type]
    assert events.signing_keys(_Settings("new,old")) == [b"new", b"old"]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda: _event(b"other"), "signature"),
        (lambda: _event(b"k1", time="2020-01-01T00:00:00+00:00"), "window"),
        (lambda: _event(b"k1", time="9999-01-01T00:00:00+00:00"), "window"),
        (lambda: _event(b"k1", time="yesterday"), "time"),
    ],
)
def test_forged_stale_and_future_events_are_refused(make: Any, why: str) -> None:
    from shared.errors import Forbidden

    with pytest.raises(Forbidden, match=why):
        events.verify(make(), _Settings("k1"))  # type: ignore[arg-type]


def test_an_unsigned_event_or_an_empty_key_set_refuses() -> None:
    from cloudevents.http import CloudEvent

    from shared.errors import Forbidden

    bare = CloudEvent({"id": "e", "type": "t", "source": "s"}, {"x": 1})
    with pytest.raises(Forbidden, match="not signed"):
        events.verify(bare, _Settings("k1"))  # type: ignore[arg-type]
    with pytest.raises(Forbidden):
        events.verify(_event(b""), _Settings(""))  # type: ignore[arg-type]
