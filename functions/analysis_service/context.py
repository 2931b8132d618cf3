"""context holds analysis-service's process-wide resources and builds its functions."""

from __future__ import annotations

from pathlib import Path

from functions.analysis_service.settings import AnalysisConfig, settings
from shared import service_token
from shared.service import Service

service = Service(AnalysisConfig, Path(__file__).parent)
database, redis, verifier = service.database, service.redis, service.verifier
create = service.function
platform = service_token.ServiceToken(settings)
"""The worker's identity: the platform service account acting for the requester."""
