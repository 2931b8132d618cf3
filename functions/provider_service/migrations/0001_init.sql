-- provider-service schema: providers and their priced models, quota rules, the usage ledger.
create table providers (
    id uuid primary key,
    name text not null unique,
    kind text not null check (kind in ('openai', 'anthropic', 'local')),
    base_url text,
    -- A reference (env://NAME or a Secret Manager name), never the key itself.
    api_key_secret text,
    priority integer not null default 100,
    enabled boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table models (
    provider_id uuid not null references providers (id) on delete cascade,
    name text not null,
    input_usd_per_mtok numeric(20, 10) not null check (input_usd_per_mtok >= 0),
    output_usd_per_mtok numeric(20, 10) not null check (output_usd_per_mtok >= 0),
    context_window integer not null check (context_window > 0),
    rpm integer check (rpm > 0),
    tpm integer check (tpm > 0),
    position integer not null default 0,
    primary key (provider_id, name)
);

-- One rule per (scope, scope_id, provider, model); '*' means any (and the global scope_id).
create table quota_rules (
    id uuid primary key,
    scope text not null check (scope in ('global', 'project', 'user')),
    scope_id text not null,
    provider text not null default '*',
    model text not null default '*',
    requests_per_minute integer check (requests_per_minute >= 0),
    tokens_per_day bigint check (tokens_per_day >= 0),
    cost_usd_per_month numeric(20, 10) check (cost_usd_per_month >= 0),
    updated_at timestamptz not null default now(),
    unique (scope, scope_id, provider, model)
);

-- Append-only: one row per committed reservation; commits are idempotent by reservation_id.
create table usage_ledger (
    reservation_id uuid primary key,
    user_id uuid not null,
    project_id uuid not null,
    provider text not null,
    model text not null,
    input_tokens bigint not null check (input_tokens >= 0),
    output_tokens bigint not null check (output_tokens >= 0),
    cost_usd numeric(20, 10) not null check (cost_usd >= 0),
    committed_at timestamptz not null default now()
);
create index usage_ledger_user_time on usage_ledger (user_id, committed_at);
create index usage_ledger_project_time on usage_ledger (project_id, committed_at);
create index usage_ledger_time on usage_ledger (committed_at);

create function usage_ledger_is_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'usage_ledger is append-only (% refused)', tg_op;
end;
$$;
create trigger usage_ledger_append_only before update or delete on usage_ledger
    for each row execute function usage_ledger_is_append_only();
create trigger usage_ledger_no_truncate before truncate on usage_ledger
    for each statement execute function usage_ledger_is_append_only();
