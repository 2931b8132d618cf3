"""service holds a service's process-wide resources and builds its functions.

A service owns a PostgreSQL schema and Redis keys and verifies tokens: its ``context.py``
declares one :class:`Service` and only what is its own (start-up hooks, other clients)::

    service = Service(ProviderConfig, Path(__file__).parent)
    database, redis, verifier = service.database, service.redis, service.verifier

and its ``main.py`` asks ``service.function(name, router)`` for each target.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Generic, TypeVar

from shared import auth, cache, clients, config, db, migrations
from shared.function import Function, Router, StartupHook
from shared.lifecycle import ShutdownCallback

C = TypeVar("C", bound=config.BaseConfig)


class Service(Generic[C]):
    """The resources of one service, created once per process and shared by its functions.

    Args:
        settings_class: The service's settings class (loaded once, on first use).
        package: The service's folder (its ``migrations/`` is applied at start-up).
        keys: Where the verifier gets its JWKS (auth-tokens serves its own keys);
            by default ``JWKS_URL``.
        startup: Start-up hooks of every function of the service, after the migrations.
        shutdown: More callbacks closing the service's own pools on SIGTERM, after the
            in-flight requests drained (the stores and the HTTP client are closed anyway).
    """

    def __init__(
        self,
        settings_class: type[C],
        package: Path,
        *,
        keys: auth.KeySource | None = None,
        startup: Sequence[StartupHook] = (),
        shutdown: Sequence[ShutdownCallback] = (),
    ) -> None:
        self.settings_class = settings_class
        self.settings: Callable[[], C] = config.loader(settings_class)
        self.database = db.Database(self.settings)
        self.redis = cache.Cache(self.settings)
        self.verifier = auth.Verifier(self.settings, keys=keys)
        self.migrations_dir = package / "migrations"
        self.startup = list(startup)
        self.shutdown = list(shutdown)

    def function(
        self, name: str, *routers: Router, startup: Sequence[StartupHook] = ()
    ) -> Function:
        """The function ``name`` serving the routes of ``routers`` (in their order).

        ``startup``: hooks of this function only, after the service's (work that only this
        function's requests need should not make its siblings' cold starts longer).
        """
        router = routers[0] if len(routers) == 1 else Router().include(*routers)
        return function(
            name,
            router,
            settings=self.settings_class,
            database=self.database,
            redis=self.redis,
            migrations_dir=self.migrations_dir,
            startup=[*self.startup, *startup],
            shutdown=self.shutdown,
            verifier=self.verifier,
        )


def function(
    name: str,
    router: Router,
    *,
    settings: type[config.BaseConfig],
    database: db.Database,
    redis: cache.Cache,
    migrations_dir: Path,
    startup: Sequence[StartupHook] = (),
    shutdown: Sequence[ShutdownCallback] = (),
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
        shutdown: More callbacks closing pools on SIGTERM, after the stores' and the client's.
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
        shutdown=[database.close, redis.close, clients.close, *shutdown],
        cache=redis,
        authenticate=verifier.authenticate if verifier is not None else None,
    )
