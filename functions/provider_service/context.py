"""context holds provider-service's process-wide resources and builds its functions."""

from __future__ import annotations

from pathlib import Path

from functions.provider_service.settings import ProviderConfig
from shared.service import Service

service = Service(ProviderConfig, Path(__file__).parent)
database, redis, verifier = service.database, service.redis, service.verifier
create = service.function
