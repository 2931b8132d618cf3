"""service builds the usual function of a service that owns a PostgreSQL schema and Redis."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from shared import auth, cache, clients, config, db, migrations
from shared.function import Function, Router, StartupHook


def function(
    name: str,
    router: Router,
    *,
    settings: type[config.BaseConfig],
    database: db.Database,
    redis: cache.Cache,
    migrations_dir: Path,
    startup: Sequence[StartupHook] = (),
    verifier: auth.Verifier | None = None,
) -> Function:
    """A function whose readiness checks both stores, whose start-up applies the service's
    migrations and then ``startup``, and whose SIGTERM closes both pools and the HTTP client.

    Args:
        name: The Knative Service name.
        router: The function's routes.
        settings: The service's settings class.
        database: The service's pool holder.
        redis: The service's Redis holder (also keeps ``Idempotency-Key`` answers).
        migrations_dir: The service's ``migrations/`` folder.
        startup: More start-up hooks, run after the migrations.
        verifier: The service's token verifier: every route that is not public is
            authenticated before its body is read.
    """
    if verifier is not None:
        verifier.watch_revocations(redis)
    return Function(
        name,
        router,
        settings=settings,
        checks={"database": database.check, "redis": redis.check},
        startup=[migrations.startup_hook(database, migrations_dir), *startup],
        shutdown=[database.close, redis.close, clients.close],
        cache=redis,
        authenticate=verifier.authenticate if verifier is not None else None,
    )
