"""providers are the code reviewers behind one interface: openai, anthropic and local."""

from __future__ import annotations

from functions.ai_orchestrator.providers.anthropic import AnthropicProvider
from functions.ai_orchestrator.providers.base import (
    AuthError,
    BadResponse,
    InvalidRequest,
    Overloaded,
    Provider,
    ProviderError,
    RateLimited,
    ReviewResult,
    ServerError,
    SkippedAnalyzer,
    Timeout,
)
from functions.ai_orchestrator.providers.local import LocalProvider
from functions.ai_orchestrator.providers.openai import OpenAIProvider

__all__ = [
    "NAMES",
    "AnthropicProvider",
    "AuthError",
    "BadResponse",
    "InvalidRequest",
    "LocalProvider",
    "OpenAIProvider",
    "Overloaded",
    "Provider",
    "ProviderError",
    "RateLimited",
    "ReviewResult",
    "ServerError",
    "SkippedAnalyzer",
    "Timeout",
    "create",
]

NAMES = ("openai", "anthropic", "local")


def create(
    name: str, *, api_key: str | None = None, base_url: str | None = None, timeout: float = 60.0
) -> Provider:
    """The provider called ``name``; ``openai``/``anthropic`` need ``api_key``.

    Raises:
        ValueError: unknown name, or a remote provider without a key.
    """
    if name == "local":
        return LocalProvider(timeout=timeout)
    if name not in NAMES:
        raise ValueError(f"Provider '{name}' is unknown; expected one of {', '.join(NAMES)}.")
    if not api_key:
        raise ValueError(f"Provider '{name}' needs an API key.")
    remote = OpenAIProvider if name == "openai" else AnthropicProvider
    if base_url:
        return remote(api_key=api_key, base_url=base_url, timeout=timeout)
    return remote(api_key=api_key, timeout=timeout)
