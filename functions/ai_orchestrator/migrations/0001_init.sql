-- ai-orchestrator: the call log (one row per provider attempt or cache hit) and the
-- response cache keys (the answers themselves live in Redis with a TTL).
create table calls (
    id uuid primary key,
    user_id text not null,
    project_id uuid,
    config_version_id uuid,
    source text not null check (source in ('ai', 'static', 'chat')),
    provider text not null,
    model text not null,
    outcome text not null,
    input_tokens integer not null default 0 check (input_tokens >= 0),
    output_tokens integer not null default 0 check (output_tokens >= 0),
    cost_usd numeric(20, 10) not null default 0 check (cost_usd >= 0),
    latency_ms integer not null default 0 check (latency_ms >= 0),
    cached boolean not null default false,
    error text,
    created_at timestamptz not null default now()
);

create index calls_created_at on calls (created_at);
create index calls_provider_created_at on calls (provider, created_at);
create index calls_project_created_at on calls (project_id, created_at);

create table cache_keys (
    key text primary key,
    config_version_id uuid,
    provider text not null,
    model text not null,
    created_at timestamptz not null default now()
);

create index cache_keys_config_version on cache_keys (config_version_id);
