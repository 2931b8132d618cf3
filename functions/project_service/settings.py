"""settings declares project-service's configuration (the shared variables plus its limits)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from shared import config

MiB = 1024 * 1024


class ProjectConfig(config.BaseConfig):
    database_url: SecretStr = Field(description="PostgreSQL connection URL.")
    redis_url: SecretStr = Field(description="Redis connection URL.")
    archive_max_bytes: int = Field(
        50 * MiB, gt=0, description="Largest archive body accepted by POST /archive (413 above)."
    )
    archive_max_files: int = Field(
        5000, gt=0, description="Regular files taken from one archive; later ones are skipped."
    )
    archive_max_entries: int = Field(
        20000, gt=0, description="Entries of any kind in one archive; more refuses it (413)."
    )
    archive_max_total_bytes: int = Field(
        200 * MiB, gt=0, description="Uncompressed bytes read from one archive; more refuses it."
    )
    archive_max_ratio: int = Field(
        100, gt=0, description="Largest uncompressed/compressed ratio of one archive entry."
    )
    file_max_bytes: int = Field(
        2 * MiB, gt=0, description="Largest single file, uploaded alone or inside an archive."
    )
    path_max_length: int = Field(1024, ge=16, le=4096, description="Longest file path (chars).")
    auth_users_url: str = Field(
        "http://127.0.0.1:8012",
        description="auth-users, asked whether a new project member is a user (GET /users/{id}).",
    )
    max_projects_per_user: int = Field(
        100, gt=0, description="Projects a member may create and keep (409 above; admins: any)."
    )


settings = config.loader(ProjectConfig)
