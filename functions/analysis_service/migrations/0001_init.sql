-- analysis-service schema: analyses (jobs), chunk checkpoints, findings, feedback, suppressions.
create table analyses (
    id uuid primary key,
    project_id uuid not null,
    snapshot_id uuid,
    diff text,
    -- The request's {alias?|version_id?}; the version the orchestrator resolved it to.
    config jsonb not null default '{}',
    config_version_id uuid,
    -- The resolved version's reviewer config (analyzers, routing, threshold, token budget).
    version_config jsonb not null default '{}',
    status text not null default 'queued'
        check (status in ('queued', 'running', 'completed', 'failed', 'cancelled')),
    progress real not null default 0 check (progress >= 0 and progress <= 1),
    stage text not null default 'queued',
    summary jsonb not null default '{}',
    input_tokens bigint not null default 0 check (input_tokens >= 0),
    output_tokens bigint not null default 0 check (output_tokens >= 0),
    cost_usd numeric(14, 6) not null default 0 check (cost_usd >= 0),
    coverage jsonb,
    error text,
    requested_by uuid not null,
    idempotency_key text,
    ab_test_id uuid,
    variant text,
    -- Worker lease: at-least-once delivery may hand the job to two workers; one holds it.
    attempt integer not null default 0 check (attempt >= 0),
    claimed_by text,
    claimed_at timestamptz,
    heartbeat_at timestamptz,
    deadline_at timestamptz,
    created_at timestamptz not null default now(),
    started_at timestamptz,
    finished_at timestamptz,
    check (num_nonnulls(snapshot_id, diff) = 1),
    check ((status in ('completed', 'failed', 'cancelled')) = (finished_at is not null)),
    check ((ab_test_id is null) = (variant is null))
);
create index analyses_project on analyses (project_id, created_at desc, id desc);
create unique index analyses_idempotency on analyses (requested_by, idempotency_key)
    where idempotency_key is not null;
-- Sweeps: leases gone stale, and queued jobs whose event may have been lost.
create index analyses_running_heartbeat on analyses (heartbeat_at) where status = 'running';
create index analyses_queued on analyses (created_at) where status = 'queued';

-- One row per review chunk: a redelivered or resumed job skips the chunks already done
-- (and does not pay for them twice).
create table analysis_chunks (
    analysis_id uuid not null references analyses (id) on delete cascade,
    chunk_id text not null,
    path text not null,
    start_line integer not null default 1 check (start_line >= 1),
    end_line integer not null default 1 check (end_line >= start_line),
    status text not null default 'pending'
        check (status in ('pending', 'done', 'failed', 'skipped')),
    result jsonb,
    input_tokens bigint not null default 0 check (input_tokens >= 0),
    output_tokens bigint not null default 0 check (output_tokens >= 0),
    cost_usd numeric(14, 6) not null default 0 check (cost_usd >= 0),
    cached boolean not null default false,
    provider text,
    model text,
    attempt integer not null default 0 check (attempt >= 0),
    error text,
    finished_at timestamptz,
    primary key (analysis_id, chunk_id)
);

create table findings (
    id uuid primary key,
    analysis_id uuid not null references analyses (id) on delete cascade,
    project_id uuid not null,
    path text not null,
    line integer not null check (line >= 1),
    end_line integer check (end_line >= line),
    severity text not null check (severity in ('critical', 'high', 'medium', 'low', 'info')),
    category text not null,
    rule text,
    message text not null,
    suggestion text,
    source text not null check (source in ('static', 'ai')),
    tool text,
    fingerprint text not null,
    on_changed_line boolean,
    repeated boolean not null default false,
    first_seen_analysis_id uuid,
    suppressed boolean not null default false,
    suppression text check (suppression in ('dismissed', 'false_positive')),
    also_reported_by text[] not null default '{}',
    config_version_id uuid,
    created_at timestamptz not null default now(),
    -- A redelivered job inserts the same fingerprints again: on conflict do nothing.
    unique (analysis_id, fingerprint),
    check (suppressed = (suppression is not null)),
    check (repeated = (first_seen_analysis_id is not null))
);
create index findings_listing on findings (analysis_id, path, line, id);
create index findings_project_fingerprint on findings (project_id, fingerprint);

-- First and last analysis of a project that reported each fingerprint: "repeated, not new".
create table fingerprint_history (
    project_id uuid not null,
    fingerprint text not null,
    first_analysis_id uuid not null,
    first_seen_at timestamptz not null default now(),
    last_analysis_id uuid not null,
    last_seen_at timestamptz not null default now(),
    primary key (project_id, fingerprint)
);

create table feedback (
    finding_id uuid not null references findings (id) on delete cascade,
    user_id uuid not null,
    verdict text not null check (verdict in ('accepted', 'dismissed', 'false_positive')),
    comment text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (finding_id, user_id)
);

-- A fingerprint a reviewer dismissed or marked false positive stays suppressed in the
-- project's later analyses; accepting the finding again deletes the row.
create table suppressions (
    project_id uuid not null,
    fingerprint text not null,
    verdict text not null check (verdict in ('dismissed', 'false_positive')),
    finding_id uuid references findings (id) on delete set null,
    created_by uuid not null,
    created_at timestamptz not null default now(),
    primary key (project_id, fingerprint)
);

-- CloudEvents already handled; (source, id) identifies an event (CloudEvents 1.0 spec).
create table processed_events (
    source text not null,
    event_id text not null,
    type text not null,
    received_at timestamptz not null default now(),
    primary key (source, event_id)
);
create index processed_events_received on processed_events (received_at);
