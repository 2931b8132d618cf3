"""config loads typed settings from the environment, resolving Secret Manager references lazily.

Any setting may hold a reference instead of a value:

* ``sm://projects/<project>/secrets/<name>/versions/<version>`` (full resource name), or
* ``sm://<name>`` (project from ``GOOGLE_CLOUD_PROJECT``, version ``latest``).

A text setting (``str`` or ``SecretStr``) keeps its reference and resolves it on first
access of that setting, once per process, with ``google-cloud-secret-manager`` (imported
only then), so a function that never reads a secret never calls Secret Manager. Any other
setting (a number, a flag, a choice) cannot hold a reference and still be checked, so its
reference is resolved once when the settings load (all such references concurrently, see
``resolve_references``) and the payload is validated like any
value: a bad one stops start-up naming the key, never the value.
``SECRET_MANAGER_EMULATOR_HOST`` points the client at a plaintext gRPC endpoint instead of
Google (tests, local runs).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from functools import cache
from types import UnionType
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

REF_PREFIX = "sm://"
_T = TypeVar("_T", bound="BaseConfig")


class ConfigError(RuntimeError):
    """Configuration is missing or invalid; the message names every offending key."""


class BaseConfig(BaseModel):
    """The seed's variables plus the platform-wide ones. Services subclass it.

    Each field reads the environment variable of its name, in any case (``DATABASE_URL``
    or ``database_url``); keyword arguments win over the environment. Values are checked
    by pydantic as any input is (``"8"`` is an ``int``, ``"true"`` a ``bool``). This is all
    pydantic-settings did here, and it is done without it: importing pydantic-settings
    cost every cold start ~0.1 s (its dotenv, CLI and cloud sources, measured in
    ``tests/bench/RESULTS.md``) for settings that are scalars read from the environment.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    def __init__(self, **values: Any) -> None:
        names = type(self).model_fields
        environment = {
            key.lower(): value for key, value in os.environ.items() if key.lower() in names
        }
        super().__init__(**{**environment, **values})

    service_name: str = Field(description="Service identifier, e.g. auth-service.")
    port: int = Field(8000, description="HTTP port.")
    database_url: SecretStr | None = Field(None, description="PostgreSQL connection URL.")
    redis_url: SecretStr | None = Field(None, description="Redis connection URL.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    environment: Literal["development", "test", "staging", "production"] = "development"
    log_format: Literal["auto", "json", "text"] = Field(
        "auto", description="json in the cluster (K_SERVICE set), text otherwise."
    )
    shutdown_timeout_seconds: float = Field(15.0, ge=0, description="In-flight drain limit.")
    max_body_bytes: int = Field(1_048_576, gt=0, description="Default request body limit.")
    db_pool_max_size: int = Field(10, gt=0)
    db_statement_timeout_ms: int = Field(5000, gt=0)
    db_connect_timeout_seconds: float = Field(3.0, gt=0)
    migrate_on_start: bool = Field(
        True, description="Apply the service's migrations at start-up (false when a Job does)."
    )
    redis_key_prefix: str = Field("acr:", description="Prefix of every Redis key.")
    jwt_issuer: str = "https://auth.ai-codereview.dev"
    jwt_audience: str = "ai-codereview"
    jwks_url: str = Field(
        "http://127.0.0.1:8011/.well-known/jwks.json",
        description="auth-tokens' JWKS, used by every function to verify access tokens.",
    )
    jwks_cache_seconds: int = Field(300, ge=0)
    cluster_domain: str = Field(
        "cluster.local",
        description="Kubernetes cluster domain: internal routes (event deliveries) answer"
        " only at the function's cluster-local address, <name>.<namespace>.svc.<domain>.",
    )
    auth_tokens_url: str = Field(
        "http://127.0.0.1:8011", description="auth-tokens, for the platform service account."
    )
    platform_client_id: str | None = Field(
        None, description="The platform service account (client_credentials, scope internal)."
    )
    platform_client_secret: SecretStr | None = None
    service_token: SecretStr | None = Field(
        None, description="A ready bearer token used instead of the service account."
    )
    token_revocation_cache_seconds: float = Field(
        1.0,
        ge=0,
        description="How long a function reuses a user's published token generation"
        " (revocation delay at most this).",
    )
    event_signing_key: SecretStr | None = Field(
        None,
        description="HMAC key(s) signing and verifying CloudEvents, comma-separated, current"
        " first; unset = events are neither sent nor accepted (make run generates one).",
    )
    event_max_age_seconds: int = Field(
        3600,
        gt=0,
        description="Oldest event (by its signed time) a consumer accepts; ids are remembered"
        " this long against replays.",
    )

    @model_validator(mode="before")
    @classmethod
    def _resolve_typed_references(cls, data: Any) -> Any:
        """Resolve references of non-text settings now (text ones wait for first access)."""
        if not isinstance(data, dict):
            return data
        fields = {name.lower(): field for name, field in cls.model_fields.items()}
        wanted = {
            key: value
            for key, value in data.items()
            if (field := fields.get(str(key).lower())) is not None
            and isinstance(value, str)
            and value.startswith(REF_PREFIX)
            and not _is_text(field.annotation)
        }
        return {**data, **resolve_references(wanted)}

    def __getattribute__(self, name: str) -> Any:
        value = super().__getattribute__(name)
        if name.startswith("_") or name.startswith("model_"):
            return value
        if isinstance(value, str) and value.startswith(REF_PREFIX):
            return resolve_reference(value)
        if isinstance(value, SecretStr):
            raw = value.get_secret_value()
            if raw.startswith(REF_PREFIX):
                return SecretStr(resolve_reference(raw))
        return value

    @property
    def is_development(self) -> bool:
        return self.environment in ("development", "test")

    @property
    def schema_name(self) -> str:
        """The PostgreSQL schema this service owns (``auth-service`` -> ``auth_service``)."""
        return self.service_name.replace("-", "_")


def _is_text(annotation: Any) -> bool:
    """``str``, ``SecretStr`` or either of them ``| None``: kept as a reference until read."""
    options = (
        get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)
    )
    return all(option in (str, SecretStr, type(None)) for option in options)


@cache
def load(cls: type[_T]) -> _T:
    """Build the settings object of ``cls`` once per process.

    Raises:
        ConfigError: a required value is missing or a value is invalid; the
            message names each key, never its value.
    """
    try:
        return cls()
    except ValidationError as e:
        raise ConfigError(_describe(e)) from None


def loader(cls: type[_T]) -> Callable[[], _T]:
    """A service's ``settings()``: ``cls`` loaded once per process (see :func:`load`).

    Each service's ``settings.py`` declares its class and ``settings = config.loader(cls)``;
    the result is typed as ``cls``, so callers need no cast.
    """

    def settings() -> _T:
        loaded: _T = load(cls)
        return loaded

    settings.__doc__ = f"The process's {cls.__name__}, loaded once (shared.config.load)."
    return settings


def _describe(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        key = ".".join(str(p) for p in item["loc"]).upper()
        if item["type"] == "missing":
            problems.append(f"Config '{key}' is missing, and has no default.")
        else:
            problems.append(f"Config '{key}' is invalid: {item['msg']}.")
    return " ".join(problems)


_secret_lock = threading.Lock()
_resolved: dict[str, str] = {}
_reference_locks: dict[str, threading.Lock] = {}


def resolve_reference(reference: str) -> str:
    """Return the secret payload behind ``reference`` (cached once per process).

    Raises:
        ConfigError: the reference is malformed or Secret Manager refused it.
    """
    cached = _resolved.get(reference)
    if cached is not None:
        return cached
    with _secret_lock:  # one lock per reference: different secrets are read concurrently
        lock = _reference_locks.setdefault(reference, threading.Lock())
    with lock:
        if reference not in _resolved:
            _resolved[reference] = _access(_resource_name(reference))
    return _resolved[reference]


def resolve_references(references: dict[str, str]) -> dict[str, str]:
    """Resolve several references at once: the same keys, their payloads.

    Each is still read once per process; the ones not cached yet are asked for
    concurrently (one thread each, up to 8), so start-up waits for one round trip to
    Secret Manager, not one per reference.

    Raises:
        ConfigError: a reference is malformed or Secret Manager refused it.
    """
    missing = sorted({r for r in references.values() if r not in _resolved})
    if len(missing) > 1:
        from concurrent.futures import ThreadPoolExecutor

        _secret_client()  # one client, made before the threads share it
        with ThreadPoolExecutor(max_workers=min(8, len(missing))) as pool:
            list(pool.map(resolve_reference, missing))
    return {key: resolve_reference(reference) for key, reference in references.items()}


def _resource_name(reference: str) -> str:
    name = reference[len(REF_PREFIX) :]
    if name.startswith("projects/"):
        parts = name.split("/")
        if len(parts) == 4:
            return f"{name}/versions/latest"
        if len(parts) == 6 and parts[2] == "secrets" and parts[4] == "versions":
            return name
        raise ConfigError(f"Secret reference '{reference}' is not a secret version name.")
    project = os.environ.get("GOOGLE_CLOUD_PROJECT")
    if not project or not name or "/" in name:
        raise ConfigError(
            f"Secret reference '{reference}' needs GOOGLE_CLOUD_PROJECT or a full resource name."
        )
    return f"projects/{project}/secrets/{name}/versions/latest"


def _access(name: str) -> str:
    from google.api_core import exceptions

    try:
        response = _secret_client().access_secret_version(name=name, timeout=10)
    except exceptions.GoogleAPICallError as e:
        raise ConfigError(f"Secret '{name}' could not be read: {e.message}") from e
    data: bytes = response.payload.data
    return data.decode("utf-8")


@cache
def _secret_client() -> Any:
    from google.cloud import secretmanager

    emulator = os.environ.get("SECRET_MANAGER_EMULATOR_HOST")
    if not emulator:
        return secretmanager.SecretManagerServiceClient()
    import grpc
    from google.auth.credentials import AnonymousCredentials
    from google.cloud.secretmanager_v1.services.secret_manager_service.transports import (
        SecretManagerServiceGrpcTransport,
    )

    transport = SecretManagerServiceGrpcTransport(
        channel=grpc.insecure_channel(emulator),
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
    )
    return secretmanager.SecretManagerServiceClient(transport=transport)


def reset_caches() -> None:
    """Forget loaded settings and resolved secrets (tests)."""
    load.cache_clear()
    _secret_client.cache_clear()
    with _secret_lock:
        _resolved.clear()
        _reference_locks.clear()
