"""context holds provider-service's process-wide resources and builds its functions."""

from __future__ import annotations

from pathlib import Path

from functions.provider_service.settings import ProviderConfig, settings
from shared import auth, cache, db, service
from shared.function import Function, Router

database = db.Database(settings)
redis = cache.Cache(settings)
verifier = auth.Verifier(settings)


def create(name: str, router: Router) -> Function:
    """A provider-service function: migrations run at start-up, pools close on SIGTERM."""
    return service.function(
        name,
        router,
        settings=ProviderConfig,
        database=database,
        redis=redis,
        migrations_dir=Path(__file__).parent / "migrations",
        verifier=verifier,
    )
