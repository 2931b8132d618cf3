"""settings declares auth-service's configuration (the shared variables plus its own)."""

from __future__ import annotations

import os

from pydantic import Field, SecretStr

from shared import config

KNATIVE_POD_HOPS = "127.0.0.0/8,::1/128"
"""The hop inside a Knative pod: the queue-proxy (127.0.0.1), an Istio sidecar (127.0.0.6)."""


class AuthConfig(config.BaseConfig):
    database_url: SecretStr = Field(description="PostgreSQL connection URL.")
    redis_url: SecretStr = Field(description="Redis connection URL.")
    auth_signing_keys: SecretStr | None = Field(
        None,
        description="PEM private keys (EC P-256 or Ed25519), current first, previous after, "
        "as a JSON list or concatenated PEM; unset in development = generated dev key.",
    )
    access_token_ttl_seconds: int = Field(
        900, gt=0, le=900, description="Access-token lifetime (at most 15 min)."
    )
    refresh_token_ttl_seconds: int = Field(
        30 * 24 * 3600, gt=0, description="Refresh-token lifetime (a family ends with it)."
    )
    registration_open: bool | None = Field(
        None, description="Open self-registration; unset = open only in development."
    )
    admin_email: str | None = Field(
        None, description="First admin, created at auth-tokens' start-up if missing."
    )
    admin_password: SecretStr | None = Field(None, description="The first admin's password.")
    password_min_length: int = Field(
        12, ge=8, le=64, description="Password policy minimum (max 128)."
    )
    password_min_score: int = Field(
        3, ge=0, le=4, description="Least zxcvbn strength score (0-4) of a new password."
    )
    login_window_seconds: int = Field(
        900, gt=0, description="Login counters expire this long after the last attempt."
    )
    login_max_failures_per_account: int = Field(
        5, gt=0, description="Free failures per account from one address before backoff."
    )
    login_account_wide_failures: int = Field(
        20, gt=0, description="Free failures per account from all addresses before backoff."
    )
    login_account_backoff_max_seconds: int = Field(
        60, gt=0, description="Longest account-wide delay (what a stranger can impose)."
    )
    login_max_failures_per_ip: int = Field(
        30, gt=0, description="Free failures per client address before backoff."
    )
    projects_url: str = Field(
        "http://127.0.0.1:8021",
        description="projects, asked before a user is deleted whether they solely own a"
        " project, and told to remove a deleted user's memberships.",
    )
    trusted_proxies: str | None = Field(
        None,
        description="Comma-separated addresses/CIDRs of proxies whose X-Forwarded-For is"
        " believed; unset = the pod's own hop in Knative (K_SERVICE set: the queue-proxy,"
        " an Istio sidecar, on loopback), none elsewhere; empty = the peer is the client.",
    )

    @property
    def trusted_hops(self) -> str:
        """``TRUSTED_PROXIES``, or its default for where the function runs: in a Knative
        pod the container is only ever called by the queue-proxy on loopback, which
        appends the address that called it; outside one (``make run``) a loopback peer may
        be any local client, so nothing is trusted."""
        if self.trusted_proxies is not None:
            return self.trusted_proxies
        return KNATIVE_POD_HOPS if os.environ.get("K_SERVICE") else ""

    @property
    def registration_is_open(self) -> bool:
        if self.registration_open is None:
            return self.is_development
        return self.registration_open


settings = config.loader(AuthConfig)
