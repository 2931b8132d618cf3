"""Scenario functions for tests of ``shared/``, loaded through functions-framework."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
from functions_framework.aio import create_asgi_app

from shared import config

HERE = Path(__file__).resolve().parent


@dataclass
class Sample:
    """A loaded scenario: its ASGI app, an in-process client and the module (for its state)."""

    app: Any
    client: httpx.AsyncClient
    module: ModuleType


def source(scenario: str) -> Path:
    return HERE / scenario / "main.py"


@asynccontextmanager
async def open_sample(scenario: str, env: dict[str, str], **extra: str) -> AsyncIterator[Sample]:
    """Load ``<scenario>/main.py`` (target named after the scenario) as ff's tests do."""
    os.environ.update({**env, "SERVICE_NAME": f"sample-{scenario}", **extra})
    config.reset_caches()
    app = create_asgi_app(scenario, str(source(scenario)))
    module = sys.modules["main"]  # ff loads every source as the module ``main``
    transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Sample(app, client, module)
