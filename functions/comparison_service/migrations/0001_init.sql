-- comparison-service: A/B tests, sticky assignments, outcome aggregates and raw outcomes.
create table ab_tests (
    id uuid primary key,
    name text not null unique,
    experiment_id uuid not null,
    primary_metric text not null,
    alpha double precision not null,
    min_samples integer not null,
    max_samples integer,
    tau double precision,
    equivalence_margin double precision not null,
    auto_promote boolean not null default false,
    status text not null default 'draft' check (status in ('draft', 'running', 'stopped')),
    epoch integer not null default 1,
    created_by text,
    created_at timestamptz not null default now(),
    started_at timestamptz,
    stopped_at timestamptz,
    promoted_variant text,
    promoted_at timestamptz,
    promotion_reason text
);
-- At most one running test per experiment: "the running test" of an experiment is unique.
create unique index ab_tests_one_running on ab_tests (experiment_id) where status = 'running';
create index ab_tests_by_experiment on ab_tests (experiment_id, created_at desc);

create table variants (
    test_id uuid not null references ab_tests (id) on delete cascade,
    name text not null,
    position integer not null,
    version_id uuid not null,
    weight double precision not null check (weight >= 0),
    primary key (test_id, name)
);

-- Weights of each epoch (an epoch starts at every weight change), for the SRM check.
create table weight_epochs (
    test_id uuid not null references ab_tests (id) on delete cascade,
    epoch integer not null,
    weights jsonb not null,
    created_at timestamptz not null default now(),
    primary key (test_id, epoch)
);

-- Sticky: the first assignment of a unit is the only one.
create table assignments (
    test_id uuid not null references ab_tests (id) on delete cascade,
    unit text not null,
    variant text not null,
    epoch integer not null,
    assigned_at timestamptz not null default now(),
    primary key (test_id, unit)
);

create table assignment_counts (
    test_id uuid not null references ab_tests (id) on delete cascade,
    epoch integer not null,
    variant text not null,
    units bigint not null default 0,
    primary key (test_id, epoch, variant)
);

-- Incrementally maintained per-variant aggregates: results never scan raw outcomes.
create table variant_stats (
    test_id uuid not null references ab_tests (id) on delete cascade,
    variant text not null,
    accepted bigint not null default 0,
    dismissed bigint not null default 0,
    false_positive bigint not null default 0,
    analyses bigint not null default 0,
    failed bigint not null default 0,
    cost_n bigint not null default 0,
    cost_sum double precision not null default 0,
    cost_sumsq double precision not null default 0,
    latency_n bigint not null default 0,
    latency_sum double precision not null default 0,
    latency_sumsq double precision not null default 0,
    latency_buckets bigint[] not null,
    primary key (test_id, variant)
);

-- The current verdict of each judged finding, so a changed verdict moves one count.
create table finding_verdicts (
    test_id uuid not null references ab_tests (id) on delete cascade,
    finding_id text not null,
    variant text not null,
    verdict text not null,
    primary key (test_id, finding_id)
);

-- Each completed analysis counts once, whatever the event id it arrives with.
create table counted_analyses (
    test_id uuid not null references ab_tests (id) on delete cascade,
    analysis_id text not null,
    primary key (test_id, analysis_id)
);

-- CloudEvent ids already applied (the idempotency key of at-least-once delivery).
create table processed_events (
    event_id text primary key,
    event_type text not null,
    processed_at timestamptz not null default now()
);

-- Append-only audit of every outcome applied (events and POST /outcomes).
create table outcomes (
    id bigserial primary key,
    test_id uuid not null references ab_tests (id) on delete cascade,
    variant text not null,
    unit text,
    source text not null,
    event_id text,
    data jsonb not null,
    received_at timestamptz not null default now()
);
create index outcomes_by_test on outcomes (test_id, id);

-- Running minimum of each treatment's always-valid p-value over the looks at results.
create table sequential_p (
    test_id uuid not null references ab_tests (id) on delete cascade,
    variant text not null,
    p double precision not null,
    updated_at timestamptz not null default now(),
    primary key (test_id, variant)
);
