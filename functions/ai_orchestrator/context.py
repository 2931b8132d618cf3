"""context holds ai-orchestrator's process-wide resources and builds its function."""

from __future__ import annotations

from pathlib import Path

from functions.ai_orchestrator.providers import local, upstream
from functions.ai_orchestrator.settings import OrchestratorConfig, settings
from shared import service_token
from shared.service import Service

service = Service(
    OrchestratorConfig, Path(__file__).parent, shutdown=[upstream.close, local.offload.close]
)
database, redis, verifier = service.database, service.redis, service.verifier
create = service.function
platform_token = service_token.ServiceToken(settings)
local.offload.configure(lambda: settings().local_analyzer_processes)
