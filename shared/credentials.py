"""credentials resolves an API key reference at the moment a call is made.

Providers store a reference, never a key (provider-service keeps it; ai-orchestrator
resolves it right before calling the provider): ``env://NAME`` reads ``os.environ`` at call
time (local runs), and only for names ending in ``_API_KEY`` (``OPENAI_API_KEY``): an
admin's reference must not read the platform's own secrets or any other variable and send
it to a URL of their choosing. Anything else is a Secret Manager name (``sm://name``, ``name`` or a
full resource name) resolved by ``shared.config.resolve_reference`` (cached once per
process). The resolved key is handed to the caller and never stored, returned or logged.
"""

from __future__ import annotations

import asyncio
import os
import re

from shared import config

ENV_PREFIX = "env://"
ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,119}_API_KEY")
"""The only environment variables an ``env://`` reference may name."""


class KeyUnavailable(Exception):
    """The reference could not be resolved; the message names the reference, not a key."""


async def resolve(reference: str) -> str:
    """The API key behind ``reference``.

    Raises:
        KeyUnavailable: the variable is unset/empty, or Secret Manager refused the name.
    """
    if reference.startswith(ENV_PREFIX):
        name = reference[len(ENV_PREFIX) :]
        if not ENV_NAME.fullmatch(name):
            raise KeyUnavailable(f"'{name}' is not a provider key variable (NAME_API_KEY).")
        value = os.environ.get(name, "")
        if not value:
            raise KeyUnavailable(f"Environment variable '{name}' is not set.")
        return value
    ref = reference if reference.startswith(config.REF_PREFIX) else config.REF_PREFIX + reference
    try:
        # The Secret Manager client is synchronous (gRPC): keep it off the event loop.
        return await asyncio.to_thread(config.resolve_reference, ref)
    except config.ConfigError as e:
        raise KeyUnavailable(f"Secret '{reference}' could not be read.") from e
