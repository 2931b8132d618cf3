"""repository holds every SQL statement of provider-service.

The usage ledger is append-only: this module only ever INSERTs into it (a trigger in
0001_init.sql refuses UPDATE, DELETE and TRUNCATE). It answers typed records (frozen,
slotted dataclasses), never ``asyncpg.Record``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from shared import quota
from shared.errors import Conflict, NotFound

_PROVIDER = (
    "id, name, kind, base_url, api_key_secret is not null as api_key_set, priority, enabled,"
    " created_at, updated_at"
)
_MODEL = "provider_id, name, input_usd_per_mtok, output_usd_per_mtok, context_window, rpm, tpm"
_RULE = (
    "id, scope, scope_id, nullif(provider, '*') as provider, nullif(model, '*') as model,"
    " requests_per_minute, tokens_per_day, cost_usd_per_month, updated_at"
)


@dataclass(frozen=True, slots=True)
class ProviderRecord:
    """A provider as the catalog shows it: whether a key is set, never its reference."""

    id: uuid.UUID
    name: str
    kind: str
    base_url: str | None
    api_key_set: bool
    priority: int
    enabled: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class CallTarget:
    """What the code that calls a provider needs, its key reference included."""

    id: uuid.UUID
    name: str
    kind: str
    base_url: str | None
    api_key_secret: str | None
    enabled: bool


@dataclass(frozen=True, slots=True)
class ModelRecord:
    provider_id: uuid.UUID
    name: str
    input_usd_per_mtok: Decimal
    output_usd_per_mtok: Decimal
    context_window: int
    rpm: int | None
    tpm: int | None


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """A model's prices by provider name."""

    provider: str
    model: str
    input_usd_per_mtok: Decimal
    output_usd_per_mtok: Decimal


@dataclass(frozen=True, slots=True)
class RuleRecord:
    """A quota rule; ``provider``/``model`` None for any."""

    id: uuid.UUID
    scope: str
    scope_id: str
    provider: str | None
    model: str | None
    requests_per_minute: int | None
    tokens_per_day: int | None
    cost_usd_per_month: Decimal | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """A committed reservation's usage; ``inserted`` False when it was committed before."""

    input_tokens: int
    output_tokens: int
    cost_usd: Decimal
    inserted: bool


@dataclass(frozen=True, slots=True)
class UsageSums:
    """Sums over the ledger, for one model (``provider``, ``model``) or day when grouped."""

    requests: int
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal
    provider: str | None = None
    model: str | None = None
    day: str | None = None


async def create_provider(
    conn: asyncpg.Connection,
    *,
    name: str,
    kind: str,
    base_url: str | None,
    api_key_secret: str | None,
    priority: int,
    enabled: bool,
) -> ProviderRecord:
    try:
        row = await conn.fetchrow(
            "insert into providers (id, name, kind, base_url, api_key_secret, priority, enabled)"
            f" values ($1, $2, $3, $4, $5, $6, $7) returning {_PROVIDER}",
            uuid.uuid4(),
            name,
            kind,
            base_url,
            api_key_secret,
            priority,
            enabled,
        )
    except asyncpg.UniqueViolationError:
        raise Conflict(f"A provider named '{name}' already exists.") from None
    assert row is not None
    return ProviderRecord(**row)


async def replace_models(
    conn: asyncpg.Connection, provider_id: uuid.UUID, models: list[dict[str, Any]]
) -> None:
    """Make ``models`` (in this order) the provider's whole model list."""
    await conn.execute("delete from models where provider_id = $1", provider_id)
    await conn.executemany(
        "insert into models (provider_id, name, input_usd_per_mtok, output_usd_per_mtok,"
        " context_window, rpm, tpm, position) values ($1, $2, $3, $4, $5, $6, $7, $8)",
        [
            (
                provider_id,
                m["name"],
                m["input_usd_per_mtok"],
                m["output_usd_per_mtok"],
                m["context_window"],
                m.get("rpm"),
                m.get("tpm"),
                position,
            )
            for position, m in enumerate(models)
        ],
    )


async def provider_by_id(conn: asyncpg.Connection, provider_id: uuid.UUID) -> ProviderRecord:
    row = await conn.fetchrow(f"select {_PROVIDER} from providers where id = $1", provider_id)
    if row is None:
        raise NotFound(f"Provider '{provider_id}' does not exist.")
    return ProviderRecord(**row)


async def provider_call_target(conn: asyncpg.Connection, provider_id: uuid.UUID) -> CallTarget:
    """Kind, base URL and key reference: only for the code that makes the call."""
    row = await conn.fetchrow(
        "select id, name, kind, base_url, api_key_secret, enabled from providers where id = $1",
        provider_id,
    )
    if row is None:
        raise NotFound(f"Provider '{provider_id}' does not exist.")
    return CallTarget(**row)


async def list_providers(
    conn: asyncpg.Connection, *, limit: int, after: tuple[int, str] | None
) -> list[ProviderRecord]:
    if after is None:
        rows = await conn.fetch(
            f"select {_PROVIDER} from providers order by priority, name limit $1", limit
        )
        return [ProviderRecord(**r) for r in rows]
    rows = await conn.fetch(
        f"select {_PROVIDER} from providers where (priority, name) > ($1, $2)"
        " order by priority, name limit $3",
        after[0],
        after[1],
        limit,
    )
    return [ProviderRecord(**r) for r in rows]


async def models_of(conn: asyncpg.Connection, provider_ids: list[uuid.UUID]) -> list[ModelRecord]:
    rows = await conn.fetch(
        f"select {_MODEL} from models where provider_id = any($1::uuid[])"
        " order by provider_id, position",
        provider_ids,
    )
    return [ModelRecord(**r) for r in rows]


async def update_provider(
    conn: asyncpg.Connection, provider_id: uuid.UUID, **changes: Any
) -> ProviderRecord:
    allowed = ("name", "base_url", "api_key_secret", "priority", "enabled")
    columns = [c for c in allowed if c in changes]
    assignments = "".join(f"{c} = ${i}, " for i, c in enumerate(columns, start=2))
    try:
        row = await conn.fetchrow(
            f"update providers set {assignments}updated_at = now() where id = $1"
            f" returning {_PROVIDER}",
            provider_id,
            *(changes[c] for c in columns),
        )
    except asyncpg.UniqueViolationError:
        raise Conflict(f"A provider named '{changes.get('name')}' already exists.") from None
    if row is None:
        raise NotFound(f"Provider '{provider_id}' does not exist.")
    return ProviderRecord(**row)


async def delete_provider(conn: asyncpg.Connection, provider_id: uuid.UUID) -> None:
    result = await conn.execute("delete from providers where id = $1", provider_id)
    if result == "DELETE 0":
        raise NotFound(f"Provider '{provider_id}' does not exist.")


async def model_prices(conn: asyncpg.Connection) -> list[ModelPrice]:
    """Every model's prices by provider name (the quota step's cost estimates)."""
    rows = await conn.fetch(
        "select p.name as provider, m.name as model, m.input_usd_per_mtok,"
        " m.output_usd_per_mtok from models m join providers p on p.id = m.provider_id"
    )
    return [ModelPrice(**r) for r in rows]


async def upsert_rule(
    conn: asyncpg.Connection,
    *,
    scope: str,
    scope_id: str,
    provider: str,
    model: str,
    requests_per_minute: int | None,
    tokens_per_day: int | None,
    cost_usd_per_month: Decimal | None,
) -> tuple[RuleRecord, bool]:
    """Create or replace the rule of (scope, scope_id, provider, model); True when created."""
    row = await conn.fetchrow(
        "insert into quota_rules (id, scope, scope_id, provider, model, requests_per_minute,"
        " tokens_per_day, cost_usd_per_month) values ($1, $2, $3, $4, $5, $6, $7, $8)"
        " on conflict (scope, scope_id, provider, model) do update set"
        " requests_per_minute = excluded.requests_per_minute,"
        " tokens_per_day = excluded.tokens_per_day,"
        " cost_usd_per_month = excluded.cost_usd_per_month, updated_at = now()"
        f" returning {_RULE}, (xmax = 0) as created",
        uuid.uuid4(),
        scope,
        scope_id,
        provider,
        model,
        requests_per_minute,
        tokens_per_day,
        cost_usd_per_month,
    )
    assert row is not None
    fields = {k: v for k, v in row.items() if k != "created"}
    return RuleRecord(**fields), bool(row["created"])


async def delete_rule(
    conn: asyncpg.Connection, *, scope: str, scope_id: str, provider: str, model: str
) -> None:
    result = await conn.execute(
        "delete from quota_rules where scope = $1 and scope_id = $2 and provider = $3"
        " and model = $4",
        scope,
        scope_id,
        provider,
        model,
    )
    if result == "DELETE 0":
        raise NotFound(f"No quota rule for {scope} '{scope_id}' ({provider}/{model}).")


async def rules_of(conn: asyncpg.Connection, *, scope: str, scope_id: str) -> list[RuleRecord]:
    rows = await conn.fetch(
        f"select {_RULE} from quota_rules where scope = $1 and scope_id = $2"
        " order by provider, model",
        scope,
        scope_id,
    )
    return [RuleRecord(**r) for r in rows]


async def all_rules(conn: asyncpg.Connection) -> list[RuleRecord]:
    rows = await conn.fetch(f"select {_RULE} from quota_rules")
    return [RuleRecord(**r) for r in rows]


async def record_usage(
    conn: asyncpg.Connection,
    *,
    reservation_id: uuid.UUID,
    user_id: uuid.UUID,
    project_id: uuid.UUID,
    provider: str,
    model: str,
    input_tokens: int,
    output_tokens: int,
    cost_usd: Decimal,
) -> LedgerEntry:
    """Append the commit of ``reservation_id`` once; a repeat answers the first row.

    One statement: the CTE inserts unless the reservation is already in the ledger, and
    the outer query returns whichever row stands (``inserted`` tells which case it was).
    """
    row = await conn.fetchrow(
        "with added as (insert into usage_ledger (reservation_id, user_id, project_id, provider,"
        " model, input_tokens, output_tokens, cost_usd) values ($1, $2, $3, $4, $5, $6, $7, $8)"
        " on conflict (reservation_id) do nothing"
        " returning input_tokens, output_tokens, cost_usd, true as inserted)"
        " select * from added union all select input_tokens, output_tokens, cost_usd,"
        " false from usage_ledger where reservation_id = $1 and not exists (select from added)",
        reservation_id,
        user_id,
        project_id,
        provider,
        model,
        input_tokens,
        output_tokens,
        cost_usd,
    )
    assert row is not None
    return LedgerEntry(**row)


async def record_usages(conn: asyncpg.Connection, rows: list[tuple[quota.Usage, datetime]]) -> int:
    """Append many commits (each with the time it was committed) in one statement, each
    once: a reservation already in the ledger is skipped, so a batch written twice adds
    nothing. How many rows were new."""
    if not rows:
        return 0
    columns = [[getattr(row, name) for row, _ in rows] for name in quota.LEDGER_FIELDS]
    status = await conn.execute(
        "insert into usage_ledger (reservation_id, user_id, project_id, provider, model,"
        " input_tokens, output_tokens, cost_usd, committed_at) select * from unnest("
        "$1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::bigint[],"
        " $7::bigint[], $8::numeric[], $9::timestamptz[]) on conflict (reservation_id) do nothing",
        *columns,
        [when for _, when in rows],
    )
    return int(status.rsplit(" ", 1)[-1])


_GROUPS = {
    None: ("", ""),
    "model": ("provider, model, ", " group by provider, model order by provider, model"),
    "day": (
        "to_char(date_trunc('day', committed_at at time zone 'UTC'), 'YYYY-MM-DD') as day, ",
        " group by 1 order by 1",
    ),
}


async def usage(
    conn: asyncpg.Connection,
    *,
    user_id: uuid.UUID | None,
    project_id: uuid.UUID | None,
    start: datetime | None,
    end: datetime | None,
    group_by: str | None,
) -> list[UsageSums]:
    """Sums over the ledger in ``[start, end)``, optionally per model or per UTC day."""
    select, group = _GROUPS[group_by]
    rows = await conn.fetch(
        f"select {select}count(*) as requests, coalesce(sum(input_tokens), 0) as input_tokens,"
        " coalesce(sum(output_tokens), 0) as output_tokens,"
        " coalesce(sum(cost_usd), 0) as cost_usd from usage_ledger"
        " where ($1::uuid is null or user_id = $1) and ($2::uuid is null or project_id = $2)"
        " and ($3::timestamptz is null or committed_at >= $3)"
        f" and ($4::timestamptz is null or committed_at < $4){group}",
        user_id,
        project_id,
        start,
        end,
    )
    return [UsageSums(**r) for r in rows]
