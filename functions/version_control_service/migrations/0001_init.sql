-- version-control-service: experiments, content-addressed config versions, aliases + history.
create table experiments (
    id uuid primary key,
    name text not null unique,
    description text not null default '',
    created_by text,
    created_at timestamptz not null default now()
);

create table versions (
    id uuid primary key,
    experiment_id uuid not null references experiments (id) on delete cascade,
    number integer not null,
    sha256 text not null,
    config jsonb not null,
    message text not null default '',
    parent_id uuid references versions (id),
    created_by text,
    created_at timestamptz not null default now(),
    unique (experiment_id, number),
    unique (experiment_id, sha256)
);

create table aliases (
    experiment_id uuid not null references experiments (id) on delete cascade,
    name text not null,
    version_id uuid not null references versions (id),
    updated_by text,
    updated_at timestamptz not null default now(),
    primary key (experiment_id, name)
);

-- Append-only: every move of an alias (who, when, from, to, why).
create table alias_history (
    id bigserial primary key,
    experiment_id uuid not null references experiments (id) on delete cascade,
    alias text not null,
    from_version_id uuid references versions (id),
    to_version_id uuid not null references versions (id),
    changed_by text,
    reason text not null default '',
    rollback boolean not null default false,
    changed_at timestamptz not null default now()
);
create index alias_history_lookup on alias_history (experiment_id, alias, id desc);
