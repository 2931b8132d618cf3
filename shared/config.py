"""config loads typed settings from the environment, resolving Secret Manager references lazily.

Any setting may hold a reference instead of a value:

* ``sm://projects/<project>/secrets/<name>/versions/<version>`` (full resource name), or
* ``sm://<name>`` (project from ``GOOGLE_CLOUD_PROJECT``, version ``latest``).

A text setting (``str`` or ``SecretStr``) keeps its reference and resolves it on first
access, once per process, so a function that never reads a secret never calls Secret
Manager; the first such access reads all of the settings' text references together,
concurrently (``prefetch``), since a cold start's first request needs most of them at
once (its database and Redis URLs). Any other
setting (a number, a flag, a choice) cannot hold a reference and still be checked, so its
reference is resolved once when the settings load (all such references concurrently, see
``resolve_references``) and the payload is validated like any
value: a bad one stops start-up naming the key, never the value.

How a reference is read: Secret Manager's REST API (``GET v1/{name}:access``) through
httpx, which every function has loaded anyway, with an access token of the workload's
service account from the metadata server (GKE Workload Identity, Cloud Run, GCE; the
host is ``GCE_METADATA_HOST`` when set, as google-auth reads it). Not the
``google-cloud-secret-manager`` client the design card names, because that client costs
every cold start that reads a reference 24-27 MiB of RSS and ~0.2-0.3 s of imports (grpc,
protobuf, api-core), for one call per secret per process, and its grpcio is most of what
the runtime images install beyond the server (README, "Configuration"; RESULTS.md, "Cold
start"). The payload is the same: ``tests/shared/test_config.py`` reads the same secrets
through the official client from the fake's gRPC face and through this reader from its
REST face. Off Google Cloud there is no metadata server: give values, not references.
``SECRET_MANAGER_EMULATOR_HOST`` (``host:port``) points the reader at a plaintext,
unauthenticated REST endpoint instead of Google (tests, local runs).
"""

from __future__ import annotations

import base64
import os
import threading
import time
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
    runtime_stats_seconds: float = Field(
        0,
        ge=0,
        description="Log the process's asyncio task and thread counts this often (0: never);"
        " make soak reads them to tell a task leak.",
    )
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
            return self._read(value)
        if isinstance(value, SecretStr):
            raw = value.get_secret_value()
            if raw.startswith(REF_PREFIX):
                return SecretStr(self._read(raw))
        return value

    def _read(self, reference: str) -> str:
        """The payload of ``reference``. The first read of a reference not cached yet
        asks for all of these settings' text references at once (``prefetch``): a cold
        start's first request needs its database and Redis URLs together, and waits for
        one round trip to Secret Manager instead of one per secret."""
        if reference not in _resolved:
            prefetch(self._references())
        return resolve_reference(reference)

    def _references(self) -> list[str]:
        """The references these settings still hold (text settings keep theirs)."""
        found = []
        for value in self.__dict__.values():
            raw = value.get_secret_value() if isinstance(value, SecretStr) else value
            if isinstance(raw, str) and raw.startswith(REF_PREFIX):
                found.append(raw)
        return found

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
    concurrently (``prefetch``), so start-up waits for one round trip to Secret Manager,
    not one per reference (one that failed is asked once more, by the read reporting it).

    Raises:
        ConfigError: a reference is malformed or Secret Manager refused it.
    """
    prefetch(list(references.values()))
    return {key: resolve_reference(reference) for key, reference in references.items()}


def prefetch(references: list[str]) -> None:
    """Read the references not cached yet, concurrently (one thread each, up to 8), and
    cache their payloads. A reference that cannot be read is left alone: the read that
    needs it asks again and reports it, so a secret a function never uses cannot stop it.
    """
    missing = sorted({r for r in references if r not in _resolved})
    if len(missing) < 2:
        return
    from concurrent.futures import ThreadPoolExecutor

    _http()  # one client, made before the threads share it
    with ThreadPoolExecutor(max_workers=min(8, len(missing))) as pool:
        for reading in [pool.submit(resolve_reference, r) for r in missing]:
            reading.exception()  # waits; a failure is the needing read's to report


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


SM_REST_BASE = "https://secretmanager.googleapis.com/v1"
_METADATA_PATH = "/computeMetadata/v1/instance/service-accounts/default/token"
_token: tuple[float, str] | None = None  # (expires at, access token)
_token_lock = threading.Lock()


def _access(name: str) -> str:
    import httpx

    emulator = os.environ.get("SECRET_MANAGER_EMULATOR_HOST")
    base = f"http://{emulator}/v1" if emulator else SM_REST_BASE
    headers = {} if emulator else {"Authorization": f"Bearer {_access_token()}"}
    try:
        response = _http().get(f"{base}/{name}:access", headers=headers)
    except httpx.HTTPError as e:
        raise ConfigError(f"Secret '{name}' could not be read: {type(e).__name__}.") from e
    if response.status_code != 200:
        raise ConfigError(f"Secret '{name}' could not be read: {_google_error(response)}")
    try:
        data = base64.b64decode(response.json()["payload"]["data"], validate=True)
        return data.decode("utf-8")
    except (ValueError, KeyError, TypeError) as e:
        raise ConfigError(f"Secret '{name}' could not be read: not a secret version.") from e


def _google_error(response: Any) -> str:
    """Google's error (``{"error": {"status", "message"}}``) as ``STATUS: message``."""
    try:
        error = response.json()["error"]
        return f"{error['status']}: {error['message']}"[:300]
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}."


def _access_token() -> str:
    """The workload's access token from the metadata server, kept until a minute before
    it expires (tokens last about an hour; secrets are read at start-up and on first use).

    Raises:
        ConfigError: no metadata server answered (not on Google Cloud).
    """
    import httpx

    global _token
    with _token_lock:
        now = time.monotonic()
        if _token is not None and _token[0] > now:
            return _token[1]
        host = os.environ.get("GCE_METADATA_HOST", "metadata.google.internal")
        try:
            response = _http().get(
                f"http://{host}{_METADATA_PATH}", headers={"Metadata-Flavor": "Google"}
            )
            response.raise_for_status()
            answer = response.json()
            token, lifetime = str(answer["access_token"]), float(answer["expires_in"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as e:
            raise ConfigError(
                "Secret Manager references need the metadata server's access token "
                f"(GKE, Cloud Run, GCE), and it could not be had: {type(e).__name__}."
            ) from e
        _token = (now + max(0.0, lifetime - 60), token)
        return token


@cache
def _http() -> Any:
    import httpx

    from shared import clients

    return httpx.Client(verify=clients.tls(), timeout=httpx.Timeout(10.0, connect=3.0))


def reset_caches() -> None:
    """Forget loaded settings and resolved secrets (tests)."""
    global _token
    load.cache_clear()
    _token = None
    with _secret_lock:
        _resolved.clear()
        _reference_locks.clear()
