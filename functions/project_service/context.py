"""context holds project-service's process-wide resources and builds its functions."""

from __future__ import annotations

from pathlib import Path

from functions.project_service.settings import ProjectConfig, settings
from shared import auth, cache, clients, db, migrations
from shared.function import Function, Router

database = db.Database(settings)
redis = cache.Cache(settings)
verifier = auth.Verifier(settings)


def create(name: str, *routers: Router) -> Function:
    """A project-service function serving the routes of ``routers``; migrations at start-up."""
    router = Router()
    for part in routers:
        router.routes.extend(part.routes)
    return Function(
        name,
        router,
        settings=ProjectConfig,
        checks={"database": database.check, "redis": redis.check},
        startup=[migrations.startup_hook(database, Path(__file__).parent / "migrations")],
        shutdown=[database.close, redis.close, clients.close],
        cache=redis,
    )
