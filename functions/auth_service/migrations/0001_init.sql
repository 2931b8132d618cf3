-- auth-service schema: users, refresh-token families, service accounts, dev signing keys.
create table users (
    id uuid primary key,
    email text not null unique,
    name text not null default '',
    role text not null default 'member' check (role in ('admin', 'member')),
    password_hash text not null,
    disabled boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table service_accounts (
    id uuid primary key,
    name text not null,
    client_id text not null unique,
    secret_hash text not null,
    scopes text[] not null default '{}',
    disabled boolean not null default false,
    created_by uuid references users (id) on delete set null,
    created_at timestamptz not null default now()
);

-- One row per issued refresh token; a family is one login's chain of rotations.
create table refresh_tokens (
    id uuid primary key,
    family_id uuid not null,
    user_id uuid not null references users (id) on delete cascade,
    token_hash bytea not null unique,
    scope text not null default '',
    issued_at timestamptz not null default now(),
    expires_at timestamptz not null,
    used_at timestamptz,
    revoked_at timestamptz
);
create index refresh_tokens_family on refresh_tokens (family_id);
create index refresh_tokens_user on refresh_tokens (user_id) where revoked_at is null;

-- Only used when AUTH_SIGNING_KEYS is unset in development: a generated key, persisted.
create table dev_signing_keys (
    kid text primary key,
    private_pem text not null,
    created_at timestamptz not null default now()
);
