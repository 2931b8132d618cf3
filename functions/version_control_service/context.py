"""context holds version-control-service's process-wide resources and start-up."""

from __future__ import annotations

import logging
from pathlib import Path

from functions.version_control_service import repository
from functions.version_control_service.schemas import ReviewerConfig, canonical_json, config_sha256
from functions.version_control_service.settings import VersionsConfig, settings
from shared.service import Service

logger = logging.getLogger(__name__)

PRODUCTION = "production"


async def ensure_default_experiment() -> None:
    """The default experiment with version 1 = the default config, aliased ``production``.

    Every start but the first finds them: one read says so, and the start skips the
    transaction (which locks the experiment's row, so its commit waits for a WAL flush).
    """
    name = settings().default_experiment
    config = ReviewerConfig()
    async with database.connection() as conn:
        if await repository.has_version_and_alias(
            conn, name=name, sha256=config_sha256(config), alias=PRODUCTION
        ):
            return
    async with database.transaction() as conn:
        experiment_id = await repository.ensure_experiment(conn, name=name)
        version, created = await repository.insert_version(
            conn,
            experiment_id=experiment_id,
            sha256=config_sha256(config),
            config_json=canonical_json(config),
            message="Default reviewer configuration",
            parent_id=None,
            created_by="system",
        )
        aliases = {a.name for a in await repository.list_aliases(conn, experiment_id)}
        if PRODUCTION not in aliases:
            await repository.move_alias(
                conn,
                experiment_id=experiment_id,
                alias=PRODUCTION,
                version_id=version.id,
                changed_by="system",
                reason="Created at start-up",
            )
            logger.info(
                "Default experiment '%s' created with production = v%s", name, version.number
            )


service = Service(VersionsConfig, Path(__file__).parent, startup=[ensure_default_experiment])
database, redis, verifier = service.database, service.redis, service.verifier
create = service.function
