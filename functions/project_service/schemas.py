"""schemas holds project-service's request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Role = Literal["owner", "maintainer", "viewer"]
AccessRole = Literal["owner", "maintainer", "viewer", "admin"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=4096)


def _strip_name(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


class ProjectCreate(_Body):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)

    _name = field_validator("name")(_strip_name)


class ProjectUpdate(_Body):
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)

    _name = field_validator("name")(_strip_name)


class ProjectOut(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    owner_id: uuid.UUID | None = Field(description="The longest-standing owner.")
    role: AccessRole | None = Field(None, description="The caller's role in the project.")
    created_at: datetime
    updated_at: datetime


class ProjectPage(BaseModel):
    items: list[ProjectOut]
    next_cursor: str | None


class MemberPut(_Body):
    role: Role


class MemberOut(BaseModel):
    project_id: uuid.UUID
    user_id: uuid.UUID
    role: Role
    created_at: datetime


class MemberPage(BaseModel):
    items: list[MemberOut]
    next_cursor: str | None


class OwnedProject(BaseModel):
    id: uuid.UUID
    name: str


class SoleOwnerships(BaseModel):
    """Internal: the projects a user is the only owner of (auth-users asks before deleting
    the user)."""

    user_id: uuid.UUID
    total: int = Field(description="How many projects; ``projects`` lists the oldest 50.")
    projects: list[OwnedProject]


class MembershipsRemoved(BaseModel):
    """Internal: the memberships of a deleted user that were removed (0 on a retry)."""

    user_id: uuid.UUID
    removed: int


class AccessOut(BaseModel):
    project_id: uuid.UUID
    role: AccessRole


class FileOut(BaseModel):
    path: str
    sha256: str
    size: int
    language: str | None


class FilePage(BaseModel):
    items: list[FileOut]
    next_cursor: str | None


class SkippedOut(BaseModel):
    path: str
    reason: str


class ArchiveResult(BaseModel):
    added: int = Field(description="Files that did not exist before.")
    updated: int = Field(description="Files whose content changed.")
    unchanged: int = Field(description="Files already stored with the same content.")
    skipped: list[SkippedOut]


class SnapshotSummary(BaseModel):
    id: uuid.UUID
    project_id: uuid.UUID
    tree_sha256: str
    file_count: int
    total_bytes: int
    created_at: datetime


class SnapshotOut(SnapshotSummary):
    files: list[FileOut]


class SnapshotPage(BaseModel):
    items: list[SnapshotSummary]
    next_cursor: str | None
