"""context holds analysis-service's process-wide resources and builds its functions."""

from __future__ import annotations

from pathlib import Path

from functions.analysis_service.settings import AnalysisConfig, settings
from shared import auth, cache, db, service, service_token
from shared.function import Function, Router

database = db.Database(settings)
redis = cache.Cache(settings)
verifier = auth.Verifier(settings)
platform = service_token.ServiceToken(settings)
"""The worker's identity: the platform service account acting for the requester."""


def create(name: str, router: Router) -> Function:
    return service.function(
        name,
        router,
        settings=AnalysisConfig,
        database=database,
        redis=redis,
        migrations_dir=Path(__file__).parent / "migrations",
        verifier=verifier,
    )
