"""Settings: validation at load, Secret Manager references resolved lazily over REST."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from pydantic import SecretStr

from shared import config
from tests.fakes.secret_manager import FakeSecretManager
from tests.helpers import Answer, http_stub

ROOT = Path(__file__).resolve().parent.parent.parent
DB_SECRET = "projects/p/secrets/db-url/versions/3"
DB_PAYLOAD = "postgresql://app:s3cr3t-db-pass@db.internal:5432/app"


class Settings(config.BaseConfig):
    api_token: SecretStr | None = None
    greeting: str = "hello"


class OtherSettings(config.BaseConfig):
    pass


class TypedSettings(config.BaseConfig):
    worker_count: int = 1
    beta: bool = False
    ratio: float | None = None


@pytest.fixture(scope="module")
def secret_manager() -> Iterator[FakeSecretManager]:
    fake = FakeSecretManager().start()
    yield fake
    fake.stop()


@pytest.fixture
def secrets(secret_manager: FakeSecretManager) -> Iterator[FakeSecretManager]:
    """The fake, emptied, with the emulator address in the environment."""
    secret_manager.secrets = {DB_SECRET: DB_PAYLOAD}
    secret_manager.calls.clear()
    secret_manager.authorizations.clear()
    secret_manager.fail_with = None
    os.environ["SECRET_MANAGER_EMULATOR_HOST"] = secret_manager.address
    os.environ["SERVICE_NAME"] = "probe"
    os.environ.pop("GOOGLE_CLOUD_PROJECT", None)
    yield secret_manager
    secret_manager.fail_with = None
    secret_manager.delay, secret_manager.most_in_flight = 0.0, 0


def test_a_secret_reference_is_resolved_on_first_access_and_only_once(
    secrets: FakeSecretManager,
) -> None:
    os.environ["DATABASE_URL"] = f"sm://{DB_SECRET}"
    settings = config.load(Settings)
    assert secrets.call_count == 0, "loading settings must not reach Secret Manager"
    assert settings.database_url is not None
    assert settings.database_url.get_secret_value() == DB_PAYLOAD
    assert secrets.calls == [DB_SECRET]
    for _ in range(3):
        assert settings.database_url.get_secret_value() == DB_PAYLOAD
    other = config.load(OtherSettings)
    assert other.database_url is not None
    assert other.database_url.get_secret_value() == DB_PAYLOAD
    assert secrets.call_count == 1, f"resolved more than once per process: {secrets.calls}"


def test_a_short_reference_uses_the_project_and_the_latest_version(
    secrets: FakeSecretManager,
) -> None:
    secrets.secrets["projects/acme-prod/secrets/greeting/versions/latest"] = "bonjour"
    os.environ.update({"GOOGLE_CLOUD_PROJECT": "acme-prod", "GREETING": "sm://greeting"})
    settings = config.load(Settings)
    assert settings.greeting == "bonjour", "plain string settings resolve too"
    assert secrets.calls == ["projects/acme-prod/secrets/greeting/versions/latest"]


def test_references_in_numbers_flags_and_choices_resolve_once_at_load(
    secrets: FakeSecretManager,
) -> None:
    secrets.secrets.update(
        {
            "projects/p/secrets/workers/versions/1": "8",
            "projects/p/secrets/beta/versions/1": "true",
            "projects/p/secrets/ratio/versions/1": "0.25",
            "projects/p/secrets/level/versions/1": "WARNING",
        }
    )
    os.environ.update(
        {
            "WORKER_COUNT": "sm://projects/p/secrets/workers/versions/1",
            "BETA": "sm://projects/p/secrets/beta/versions/1",
            "RATIO": "sm://projects/p/secrets/ratio/versions/1",
            "LOG_LEVEL": "sm://projects/p/secrets/level/versions/1",
            "DATABASE_URL": f"sm://{DB_SECRET}",
        }
    )
    settings = config.load(TypedSettings)
    assert (settings.worker_count, settings.beta, settings.ratio) == (8, True, 0.25)
    assert settings.log_level == "WARNING"
    assert sorted(secrets.calls) == sorted(
        f"projects/p/secrets/{name}/versions/1" for name in ("workers", "beta", "ratio", "level")
    ), "typed values resolve at load; the text DATABASE_URL still waits for its first read"
    assert settings.database_url is not None
    assert settings.database_url.get_secret_value() == DB_PAYLOAD
    assert secrets.call_count == 5


def test_references_resolved_at_load_are_asked_for_concurrently(
    secrets: FakeSecretManager,
) -> None:
    secrets.secrets.update(
        {
            "projects/p/secrets/workers/versions/1": "8",
            "projects/p/secrets/beta/versions/1": "true",
            "projects/p/secrets/ratio/versions/1": "0.25",
        }
    )
    os.environ.update(
        {
            "WORKER_COUNT": "sm://projects/p/secrets/workers/versions/1",
            "BETA": "sm://projects/p/secrets/beta/versions/1",
            "RATIO": "sm://projects/p/secrets/ratio/versions/1",
        }
    )
    secrets.delay = 0.5  # each answer waits: calls made one after another never overlap
    settings = config.load(TypedSettings)
    assert (settings.worker_count, settings.beta, settings.ratio) == (8, True, 0.25)
    assert secrets.call_count == 3, secrets.calls
    assert secrets.most_in_flight >= 2, "start-up waited for one secret after another"


def test_the_first_read_of_a_text_reference_asks_for_the_others_with_it_concurrently(
    secrets: FakeSecretManager,
) -> None:
    """A cold start's first request needs its database and Redis URLs together: one round
    trip to Secret Manager, not one per secret."""
    secrets.secrets.update(
        {
            "projects/p/secrets/greeting/versions/1": "bonjour",
            "projects/p/secrets/token/versions/1": "tok-payload",
        }
    )
    os.environ.update(
        {
            "DATABASE_URL": f"sm://{DB_SECRET}",
            "GREETING": "sm://projects/p/secrets/greeting/versions/1",
            "API_TOKEN": "sm://projects/p/secrets/token/versions/1",
        }
    )
    settings = config.load(Settings)
    assert secrets.call_count == 0
    secrets.delay = 0.3
    assert settings.database_url is not None
    assert settings.database_url.get_secret_value() == DB_PAYLOAD
    assert sorted(secrets.calls) == sorted(
        [DB_SECRET, "projects/p/secrets/greeting/versions/1", "projects/p/secrets/token/versions/1"]
    )
    assert secrets.most_in_flight >= 2, "the first read waited for one secret after another"
    assert settings.greeting == "bonjour"
    assert settings.api_token is not None and settings.api_token.get_secret_value() == "tok-payload"
    assert secrets.call_count == 3, f"read again: {secrets.calls}"


def test_a_secret_that_cannot_be_read_fails_only_the_read_that_needs_it(
    secrets: FakeSecretManager,
) -> None:
    os.environ.update(
        {
            "DATABASE_URL": f"sm://{DB_SECRET}",
            "API_TOKEN": "sm://projects/p/secrets/nowhere/versions/1",
        }
    )
    settings = config.load(Settings)
    assert settings.database_url is not None
    assert settings.database_url.get_secret_value() == DB_PAYLOAD  # not stopped by the other
    assert "projects/p/secrets/nowhere/versions/1" in secrets.calls  # asked for with it
    with pytest.raises(config.ConfigError, match="projects/p/secrets/nowhere/versions/1"):
        _ = settings.api_token


def test_a_typed_reference_with_a_bad_payload_names_the_key_not_the_payload(
    secrets: FakeSecretManager,
) -> None:
    secrets.secrets["projects/p/secrets/workers/versions/1"] = "eight-s3cr3t"
    os.environ["WORKER_COUNT"] = "sm://projects/p/secrets/workers/versions/1"
    with pytest.raises(config.ConfigError) as caught:
        config.load(TypedSettings)
    message = str(caught.value)
    assert "Config 'WORKER_COUNT' is invalid" in message, message
    assert "s3cr3t" not in message, message


def test_a_typed_reference_to_a_missing_secret_stops_the_load_naming_it(
    secrets: FakeSecretManager,
) -> None:
    os.environ["BETA"] = "sm://projects/p/secrets/nowhere/versions/2"
    with pytest.raises(config.ConfigError, match="projects/p/secrets/nowhere/versions/2"):
        config.load(TypedSettings)


def test_a_short_reference_without_a_project_names_the_reference(
    secrets: FakeSecretManager,
) -> None:
    os.environ["API_TOKEN"] = "sm://api-token"
    settings = config.load(Settings)
    with pytest.raises(config.ConfigError) as caught:
        _ = settings.api_token
    assert "sm://api-token" in str(caught.value)
    assert "GOOGLE_CLOUD_PROJECT" in str(caught.value)
    assert secrets.call_count == 0, "nothing to ask Secret Manager without a project"


def test_an_unknown_secret_names_the_secret_and_leaks_no_payload(
    secrets: FakeSecretManager,
) -> None:
    os.environ["DATABASE_URL"] = "sm://projects/p/secrets/missing/versions/1"
    settings = config.load(Settings)
    with pytest.raises(config.ConfigError) as caught:
        _ = settings.database_url
    message = str(caught.value)
    assert "projects/p/secrets/missing/versions/1" in message, message
    assert "not found" in message.lower(), message
    assert DB_PAYLOAD not in message and "s3cr3t" not in message, message


def test_a_failing_secret_manager_is_a_config_error_not_a_crash_of_another_kind(
    secrets: FakeSecretManager,
) -> None:
    secrets.fail_with = grpc.StatusCode.PERMISSION_DENIED
    os.environ["DATABASE_URL"] = f"sm://{DB_SECRET}"
    settings = config.load(Settings)
    with pytest.raises(config.ConfigError) as caught:
        _ = settings.database_url
    assert DB_SECRET in str(caught.value) and "PERMISSION_DENIED" in str(caught.value), caught.value
    assert DB_PAYLOAD not in str(caught.value)


def test_the_rest_reader_reads_what_the_official_client_reads(
    secrets: FakeSecretManager,
) -> None:
    """The same secrets through google-cloud-secret-manager's own client (the fake's gRPC
    face) and through ``shared.config`` (its REST face): the same payloads, text with
    non-ASCII, blanks and newlines included, and the same refusal of a missing one."""
    from google.api_core import exceptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import secretmanager
    from google.cloud.secretmanager_v1.services.secret_manager_service.transports import (
        SecretManagerServiceGrpcTransport,
    )

    values = {
        "projects/p/secrets/plain/versions/1": "hunter2",
        "projects/p/secrets/pem/versions/2": "-----BEGIN KEY-----\nab+/=\n-----END KEY-----\n",
        "projects/p/secrets/unicode/versions/latest": " pässwört ✓ ",
    }
    secrets.secrets.update(values)
    official = secretmanager.SecretManagerServiceClient(
        transport=SecretManagerServiceGrpcTransport(
            channel=grpc.insecure_channel(secrets.grpc_address),
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        )
    )
    for name, value in values.items():
        theirs = official.access_secret_version(name=name).payload.data.decode("utf-8")
        assert config.resolve_reference(f"sm://{name}") == theirs == value
    missing = "projects/p/secrets/absent/versions/1"
    with pytest.raises(exceptions.NotFound):
        official.access_secret_version(name=missing)
    with pytest.raises(config.ConfigError, match="NOT_FOUND"):
        config.resolve_reference(f"sm://{missing}")
    assert secrets.authorizations and set(secrets.authorizations) == {""}, (
        "the emulator is unauthenticated, as the official client's emulator path is"
    )


def test_on_google_cloud_the_reader_sends_the_metadata_servers_token_once(
    secrets: FakeSecretManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the emulator, the reader asks the metadata server (``GCE_METADATA_HOST``)
    for the workload's token with ``Metadata-Flavor: Google``, keeps it while it is valid,
    and sends it to Secret Manager's API (here the fake's REST face)."""
    asked: list[str] = []
    token = b'{"access_token": "ya29.test-token", "expires_in": 3599, "token_type": "Bearer"}'

    def metadata(method: str, path: str, headers: Mapping[str, str]) -> Answer:
        asked.append(f"{path} {headers.get('Metadata-Flavor')}")
        return 200, token

    with http_stub(metadata) as host:
        os.environ.pop("SECRET_MANAGER_EMULATOR_HOST", None)
        monkeypatch.setenv("GCE_METADATA_HOST", host)
        monkeypatch.setattr(config, "SM_REST_BASE", f"http://{secrets.address}/v1")
        secrets.secrets["projects/p/secrets/other/versions/1"] = "second"
        assert config.resolve_reference(f"sm://{DB_SECRET}") == DB_PAYLOAD
        assert config.resolve_reference("sm://projects/p/secrets/other/versions/1") == "second"
    path = "/computeMetadata/v1/instance/service-accounts/default/token"
    assert asked == [f"{path} Google"], "one token for both reads"
    assert secrets.authorizations == ["Bearer ya29.test-token"] * 2


def test_off_google_cloud_a_reference_is_a_config_error_saying_why(
    secrets: FakeSecretManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    from localdev import local

    os.environ.pop("SECRET_MANAGER_EMULATOR_HOST", None)
    monkeypatch.setenv("GCE_METADATA_HOST", f"127.0.0.1:{local.free_port()}")
    with pytest.raises(config.ConfigError, match="metadata server"):
        config.resolve_reference(f"sm://{DB_SECRET}")
    assert secrets.call_count == 0


def test_secrets_never_appear_in_reprs(secrets: FakeSecretManager) -> None:
    secrets.secrets["projects/p/secrets/token/versions/latest"] = "tok-very-secret"
    os.environ.update(
        {
            "GOOGLE_CLOUD_PROJECT": "p",
            "API_TOKEN": "sm://token",
            "DATABASE_URL": f"sm://{DB_SECRET}",
        }
    )
    settings = config.load(Settings)
    assert settings.api_token is not None and settings.database_url is not None
    assert settings.api_token.get_secret_value() == "tok-very-secret"
    assert repr(settings.api_token) == "SecretStr('**********')"
    assert repr(settings.database_url) == "SecretStr('**********')"
    shown = repr(settings) + str(settings)
    assert "tok-very-secret" not in shown and "s3cr3t" not in shown, shown


def test_a_missing_required_value_names_the_key() -> None:
    os.environ.pop("SERVICE_NAME", None)
    with pytest.raises(config.ConfigError, match="Config 'SERVICE_NAME' is missing"):
        config.load(Settings)


@pytest.mark.parametrize(("key", "value"), [("PORT", "abc"), ("LOG_LEVEL", "LOUD")])
def test_an_invalid_value_names_the_key_but_not_the_value(key: str, value: str) -> None:
    os.environ.update({"SERVICE_NAME": "probe", key: value})
    with pytest.raises(config.ConfigError) as caught:
        config.load(Settings)
    message = str(caught.value)
    assert f"Config '{key}' is invalid" in message, message
    assert value not in message, f"the value leaked into: {message}"


def _cli_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"PYTHONPATH": str(ROOT), **overrides})
    return env


def test_a_function_missing_database_url_refuses_to_start(redis_url: str) -> None:
    command = [
        str(Path(sys.executable).parent / "functions-framework"),
        "--target",
        "auth_users",
        "--source",
        "functions/auth_service/main.py",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
    ]
    env = _cli_env(SERVICE_NAME="auth-service", REDIS_URL=redis_url)
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv
            command, env=env, cwd=ROOT, capture_output=True, timeout=30
        )
    except subprocess.TimeoutExpired:
        raise AssertionError("the function kept running without DATABASE_URL") from None
    output = (done.stdout + done.stderr).decode(errors="replace")
    assert done.returncode != 0, output
    assert "Config 'DATABASE_URL' is missing" in output, output


async def test_auth_service_reads_its_secrets_from_secret_manager(
    secret_manager: FakeSecretManager,
    start_function: Callable[..., Any],
    database_url: str,
) -> None:
    password = f"from-secret-manager-{uuid.uuid4().hex}"
    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    secret_manager.fail_with = None
    secret_manager.secrets.update(
        {DB_SECRET: database_url, "projects/p/secrets/admin-password/versions/latest": password}
    )
    secret_manager.calls.clear()
    fn = start_function(
        "auth_tokens",
        DATABASE_URL=f"sm://{DB_SECRET}",
        ADMIN_EMAIL=email,
        ADMIN_PASSWORD="sm://admin-password",
        SECRET_MANAGER_EMULATOR_HOST=secret_manager.address,
        GOOGLE_CLOUD_PROJECT="p",
    )
    assert sorted(set(secret_manager.calls)) == [
        "projects/p/secrets/admin-password/versions/latest",
        DB_SECRET,
    ], secret_manager.calls
    async with httpx.AsyncClient(base_url=fn.url, timeout=10) as client:
        literal = await client.post(
            "/token",
            data={"grant_type": "password", "username": email, "password": "sm://admin-password"},
        )
        assert literal.status_code == 400, "the reference itself must not be the password"
        answer = await client.post(
            "/token", data={"grant_type": "password", "username": email, "password": password}
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["token_type"].lower() == "bearer", answer.json()
    assert answer.json()["access_token"], answer.json()
    assert password not in fn.output(), "the secret leaked into the logs"
