"""context holds comparison-service's process-wide resources and builds its functions."""

from __future__ import annotations

from pathlib import Path

from functions.comparison_service.settings import ComparisonConfig
from shared.service import Service

service = Service(ComparisonConfig, Path(__file__).parent)
database, redis, verifier = service.database, service.redis, service.verifier
create = service.function
