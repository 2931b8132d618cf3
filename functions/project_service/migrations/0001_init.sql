-- project-service schema: projects, members, content-addressed blobs, files and snapshots.
create table projects (
    id uuid primary key,
    name text not null,
    description text not null default '',
    created_by uuid not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index projects_created on projects (created_at, id);

create table members (
    project_id uuid not null references projects (id) on delete cascade,
    user_id uuid not null,
    role text not null check (role in ('owner', 'maintainer', 'viewer')),
    created_at timestamptz not null default now(),
    primary key (project_id, user_id)
);
create index members_user on members (user_id, project_id);

-- One row per distinct content, whichever projects hold it (never deleted by a request).
create table blobs (
    sha256 text primary key check (sha256 ~ '^[0-9a-f]{64}$'),
    size bigint not null check (size >= 0),
    content bytea not null,
    created_at timestamptz not null default now()
);

create table files (
    project_id uuid not null references projects (id) on delete cascade,
    path text not null,
    sha256 text not null references blobs (sha256),
    size bigint not null,
    language text,
    updated_at timestamptz not null default now(),
    primary key (project_id, path)
);
create index files_blob on files (sha256);

create table snapshots (
    id uuid primary key,
    project_id uuid not null references projects (id) on delete cascade,
    tree_sha256 text not null,
    file_count integer not null,
    total_bytes bigint not null,
    created_by uuid,
    created_at timestamptz not null default now(),
    unique (project_id, tree_sha256)
);

create table snapshot_files (
    snapshot_id uuid not null references snapshots (id) on delete cascade,
    path text not null,
    sha256 text not null references blobs (sha256),
    size bigint not null,
    language text,
    primary key (snapshot_id, path)
);
create index snapshot_files_blob on snapshot_files (sha256);
