"""egress: which provider URLs may receive a secret key (issue 9 item 8)."""

from __future__ import annotations

import pytest

from shared import credentials, egress


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/computeMetadata/v1",
        "http://metadata.google.internal/",
        "http://METADATA.GOOGLE.INTERNAL./x",
        "http://user:pass@api.example.com/v1",
        "http://api.example.com@evil.example/v1",
        "http://2130706433/v1",
        "http://0x7f.1/v1",
        "http://0177.0.0.1/v1",
        "http://[fe80::1]/v1",
        "http://[::ffff:169.254.169.254]/",
        "http://0.0.0.0:8080/",
        "http://127.0.0.1:8011/",
        "http://localhost:9000/",
        "http://[::1]/",
        "ftp://api.example.com/",
    ],
)
def test_hostile_base_urls_are_refused(url: str) -> None:
    with pytest.raises(egress.Refused):
        egress.check_url(url, allow_loopback=False)


@pytest.mark.parametrize(
    "url",
    ["https://api.openai.com/v1", "https://api.anthropic.com", "http://10.3.0.7:4000/v1"],
)
def test_vendor_and_private_gateway_urls_are_allowed(url: str) -> None:
    assert egress.check_url(url, allow_loopback=False) == url


def test_loopback_is_allowed_only_in_development() -> None:
    assert egress.check_url("http://127.0.0.1:9999/v1", allow_loopback=True)
    with pytest.raises(egress.Refused):
        egress.check_url("http://169.254.169.254/", allow_loopback=True)


@pytest.mark.parametrize("name", ["HOME", "PATH", "EVENT_SIGNING_KEY", "PLATFORM_CLIENT_SECRET"])
async def test_env_references_may_name_only_provider_key_variables(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, "a secret of the platform")
    with pytest.raises(credentials.KeyUnavailable, match="not a provider key"):
        await credentials.resolve(f"env://{name}")
    monkeypatch.setenv("VENDOR_API_KEY", "sk-1")
    assert await credentials.resolve("env://VENDOR_API_KEY") == "sk-1"
