"""context holds project-service's process-wide resources and builds its functions."""

from __future__ import annotations

from pathlib import Path

from functions.project_service.settings import ProjectConfig
from shared.service import Service

service = Service(ProjectConfig, Path(__file__).parent)
database, redis, verifier = service.database, service.redis, service.verifier
create = service.function
