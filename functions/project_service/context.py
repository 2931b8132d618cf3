"""context holds project-service's process-wide resources and builds its functions."""

from __future__ import annotations

from pathlib import Path

from functions.project_service.settings import ProjectConfig, settings
from shared import auth, cache, db, service
from shared.function import Function, Router

database = db.Database(settings)
redis = cache.Cache(settings)
verifier = auth.Verifier(settings)


def create(name: str, *routers: Router) -> Function:
    """A project-service function serving the routes of ``routers``; migrations at start-up."""
    return service.function(
        name,
        Router().include(*routers),
        settings=ProjectConfig,
        database=database,
        redis=redis,
        migrations_dir=Path(__file__).parent / "migrations",
        verifier=verifier,
    )
