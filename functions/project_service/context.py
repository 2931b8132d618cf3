"""context holds project-service's process-wide resources and builds its functions."""

from __future__ import annotations

from pathlib import Path

from functions.project_service.settings import ProjectConfig, settings
from shared import service_token
from shared.service import Service

service = Service(ProjectConfig, Path(__file__).parent)
database, redis, verifier = service.database, service.redis, service.verifier
create = service.function
platform = service_token.ServiceToken(settings)
"""The platform service account's token: asking auth-users whether a new member exists."""
