"""repository holds every SQL statement of comparison-service; it answers typed records
(frozen, slotted dataclasses), never ``asyncpg.Record``."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from functions.comparison_service import histogram
from shared.errors import Conflict, NotFound, ValidationFailed

_TEST = (
    "id, name, experiment_id, primary_metric, alpha, min_samples, max_samples, tau,"
    " equivalence_margin, auto_promote, status, epoch, created_by, created_at, started_at,"
    " stopped_at, promoted_variant, promoted_at"
)


@dataclass(frozen=True, slots=True)
class VariantRecord:
    name: str
    version_id: uuid.UUID
    weight: float


@dataclass(frozen=True, slots=True)
class TestRecord:
    """An A/B test with its variants (in position order, control first)."""

    __test__ = False  # not a pytest test class, whatever its name

    id: uuid.UUID
    name: str
    experiment_id: uuid.UUID
    primary_metric: str
    alpha: float
    min_samples: int
    max_samples: int | None
    tau: float | None
    equivalence_margin: float
    auto_promote: bool
    status: str
    epoch: int
    created_by: str | None
    created_at: datetime
    started_at: datetime | None
    stopped_at: datetime | None
    promoted_variant: str | None
    promoted_at: datetime | None
    variants: tuple[VariantRecord, ...]


@dataclass(frozen=True, slots=True)
class VariantStats:
    """A variant's running aggregates (``latency_buckets``: see ``histogram``)."""

    test_id: uuid.UUID
    variant: str
    accepted: int
    dismissed: int
    false_positive: int
    analyses: int
    failed: int
    cost_n: int
    cost_sum: float
    cost_sumsq: float
    latency_n: int
    latency_sum: float
    latency_sumsq: float
    latency_buckets: list[int]


@dataclass(frozen=True, slots=True)
class AssignedUnits:
    """Units assigned to a variant during one weight epoch."""

    epoch: int
    variant: str
    units: int


async def create_test(
    conn: asyncpg.Connection, *, fields: dict[str, Any], variants: list[dict[str, Any]]
) -> uuid.UUID:
    """Insert a draft test, its variants, epoch 1 of its weights and empty aggregates."""
    test_id = uuid.uuid4()
    try:
        await conn.execute(
            "insert into ab_tests (id, name, experiment_id, primary_metric, alpha, min_samples,"
            " max_samples, tau, equivalence_margin, auto_promote, created_by)"
            " values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            test_id,
            *(fields[k] for k in ("name", "experiment_id", "primary_metric", "alpha")),
            *(fields[k] for k in ("min_samples", "max_samples", "tau", "equivalence_margin")),
            fields["auto_promote"],
            fields["created_by"],
        )
    except asyncpg.UniqueViolationError:
        raise Conflict(f"An A/B test named '{fields['name']}' already exists.") from None
    await conn.executemany(
        "insert into variants (test_id, name, position, version_id, weight)"
        " values ($1, $2, $3, $4, $5)",
        [(test_id, v["name"], i, v["version_id"], v["weight"]) for i, v in enumerate(variants)],
    )
    await conn.executemany(
        "insert into variant_stats (test_id, variant, latency_buckets) values ($1, $2, $3)",
        [(test_id, v["name"], [0] * histogram.BUCKETS) for v in variants],
    )
    await _add_epoch(conn, test_id, 1, {v["name"]: v["weight"] for v in variants})
    return test_id


async def _add_epoch(
    conn: asyncpg.Connection, test_id: uuid.UUID, epoch: int, weights: dict[str, float]
) -> None:
    await conn.execute(
        "insert into weight_epochs (test_id, epoch, weights) values ($1, $2, $3::jsonb)",
        test_id,
        epoch,
        json.dumps(weights),
    )


async def test(conn: asyncpg.Connection, test_id: uuid.UUID, *, lock: bool = False) -> TestRecord:
    """A test with its variants (in position order, control first)."""
    row = await conn.fetchrow(
        f"select {_TEST} from ab_tests where id = $1" + (" for update" if lock else ""), test_id
    )
    if row is None:
        raise NotFound(f"A/B test '{test_id}' does not exist.")
    variants = await conn.fetch(
        "select name, version_id, weight from variants where test_id = $1 order by position",
        test_id,
    )
    return TestRecord(**row, variants=tuple(VariantRecord(**v) for v in variants))


async def list_tests(
    conn: asyncpg.Connection,
    *,
    experiment_id: uuid.UUID | None,
    status: str | None,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[TestRecord]:
    rows = await conn.fetch(
        f"select {_TEST} from ab_tests where ($1::uuid is null or experiment_id = $1)"
        " and ($2::text is null or status = $2)"
        " and ($3::timestamptz is null or (created_at, id) < ($3, $4::uuid))"
        " order by created_at desc, id desc limit $5",
        experiment_id,
        status,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    # the page's variants in one query, not two queries per test
    variants: dict[uuid.UUID, list[VariantRecord]] = {r["id"]: [] for r in rows}
    for v in await conn.fetch(
        "select test_id, name, version_id, weight from variants where test_id = any($1::uuid[])"
        " order by test_id, position",
        list(variants),
    ):
        variants[v["test_id"]].append(VariantRecord(v["name"], v["version_id"], v["weight"]))
    return [TestRecord(**r, variants=tuple(variants[r["id"]])) for r in rows]


async def running_test_id(conn: asyncpg.Connection, experiment_id: uuid.UUID) -> uuid.UUID | None:
    value = await conn.fetchval(
        "select id from ab_tests where experiment_id = $1 and status = 'running'", experiment_id
    )
    return value if isinstance(value, uuid.UUID) else None


async def set_status(
    conn: asyncpg.Connection, test_id: uuid.UUID, *, to: str, allowed_from: tuple[str, ...]
) -> None:
    current = (await test(conn, test_id, lock=True)).status
    if current not in allowed_from:
        raise Conflict(f"A/B test '{test_id}' is {current}; it cannot become {to}.")
    column = "started_at" if to == "running" else "stopped_at"
    try:
        await conn.execute(
            f"update ab_tests set status = $2, {column} = now() where id = $1",  # nosec B608
            test_id,
            to,
        )
    except asyncpg.UniqueViolationError:
        raise Conflict("Another A/B test of this experiment is already running.") from None


async def update_weights(
    conn: asyncpg.Connection, test_id: uuid.UUID, weights: dict[str, float]
) -> None:
    """Set new weights and open a new epoch; assignments already made stay where they are."""
    current = await test(conn, test_id, lock=True)
    merged = {v.name: v.weight for v in current.variants}
    unknown = sorted(set(weights) - set(merged))
    if unknown:  # the test exists; the body names what it does not have
        detail = f"A/B test '{test_id}' has no variant named {', '.join(unknown)}."
        raise ValidationFailed(
            [{"loc": ["body", "variants"], "msg": detail, "type": "unknown_variant"}], detail
        )
    merged.update(weights)
    if sum(merged.values()) <= 0:
        raise Conflict("The weights must not all be 0.")
    await conn.executemany(
        "update variants set weight = $3 where test_id = $1 and name = $2",
        [(test_id, name, weight) for name, weight in weights.items()],
    )
    epoch = await conn.fetchval(
        "update ab_tests set epoch = epoch + 1 where id = $1 returning epoch", test_id
    )
    await _add_epoch(conn, test_id, int(epoch), merged)


async def set_auto_promote(conn: asyncpg.Connection, test_id: uuid.UUID, value: bool) -> None:
    await conn.execute("update ab_tests set auto_promote = $2 where id = $1", test_id, value)


async def assign(
    conn: asyncpg.Connection, *, test_id: uuid.UUID, unit: str, variant: str, epoch: int
) -> str:
    """The unit's variant: ``variant`` if this is its first assignment, else the stored one."""
    created = await conn.fetchval(
        "insert into assignments (test_id, unit, variant, epoch) values ($1, $2, $3, $4)"
        " on conflict (test_id, unit) do nothing returning variant",
        test_id,
        unit,
        variant,
        epoch,
    )
    if created is None:
        stored = await conn.fetchval(
            "select variant from assignments where test_id = $1 and unit = $2", test_id, unit
        )
        return str(stored)
    await conn.execute(
        "insert into assignment_counts (test_id, epoch, variant, units) values ($1, $2, $3, 1)"
        " on conflict (test_id, epoch, variant)"
        " do update set units = assignment_counts.units + 1",
        test_id,
        epoch,
        variant,
    )
    return variant


async def assigned_variant(conn: asyncpg.Connection, test_id: uuid.UUID, unit: str) -> str | None:
    value = await conn.fetchval(
        "select variant from assignments where test_id = $1 and unit = $2", test_id, unit
    )
    return str(value) if value is not None else None


async def allocation(
    conn: asyncpg.Connection, test_id: uuid.UUID
) -> tuple[list[AssignedUnits], dict[int, dict[str, float]]]:
    """Assigned units per (epoch, variant) and each epoch's weights (the SRM inputs)."""
    counts = await conn.fetch(
        "select epoch, variant, units from assignment_counts where test_id = $1", test_id
    )
    epochs = await conn.fetch(
        "select epoch, weights from weight_epochs where test_id = $1", test_id
    )
    weights = {int(e["epoch"]): json.loads(e["weights"]) for e in epochs}
    return [AssignedUnits(**c) for c in counts], weights


async def claim_event(conn: asyncpg.Connection, event_id: str, event_type: str) -> bool:
    """Record an event id; False when it was already processed (a redelivery)."""
    claimed = await conn.fetchval(
        "insert into processed_events (event_id, event_type) values ($1, $2)"
        " on conflict (event_id) do nothing returning true",
        event_id,
        event_type,
    )
    return bool(claimed)


async def set_verdict(
    conn: asyncpg.Connection, *, test_id: uuid.UUID, finding_id: str, variant: str, verdict: str
) -> tuple[str | None, str] | None:
    """Store a finding's verdict; ``(old verdict, variant it counted for)`` or None if unchanged."""
    row = await conn.fetchrow(
        "select variant, verdict from finding_verdicts where test_id = $1 and finding_id = $2"
        " for update",
        test_id,
        finding_id,
    )
    if row is None:
        await conn.execute(
            "insert into finding_verdicts (test_id, finding_id, variant, verdict)"
            " values ($1, $2, $3, $4)",
            test_id,
            finding_id,
            variant,
            verdict,
        )
        return None, variant
    if row["verdict"] == verdict:
        return None
    await conn.execute(
        "update finding_verdicts set verdict = $3 where test_id = $1 and finding_id = $2",
        test_id,
        finding_id,
        verdict,
    )
    return str(row["verdict"]), str(row["variant"])


async def claim_analysis(conn: asyncpg.Connection, test_id: uuid.UUID, analysis_id: str) -> bool:
    claimed = await conn.fetchval(
        "insert into counted_analyses (test_id, analysis_id) values ($1, $2)"
        " on conflict do nothing returning true",
        test_id,
        analysis_id,
    )
    return bool(claimed)


async def bump(
    conn: asyncpg.Connection,
    *,
    test_id: uuid.UUID,
    variant: str,
    counts: dict[str, int],
    cost: float | None = None,
    latency: float | None = None,
) -> None:
    """Add to a variant's aggregates (``counts``: accepted, dismissed, false_positive,
    analyses, failed; negative to move a changed verdict)."""
    index = histogram.bucket(latency) + 1 if latency is not None else 1
    await conn.execute(
        "update variant_stats set accepted = accepted + $3, dismissed = dismissed + $4,"
        " false_positive = false_positive + $5, analyses = analyses + $6, failed = failed + $7,"
        " cost_n = cost_n + ($8::float8 is not null)::int,"
        " cost_sum = cost_sum + coalesce($8::float8, 0),"
        " cost_sumsq = cost_sumsq + coalesce($8::float8 * $8::float8, 0),"
        " latency_n = latency_n + ($9::float8 is not null)::int,"
        " latency_sum = latency_sum + coalesce($9::float8, 0),"
        " latency_sumsq = latency_sumsq + coalesce($9::float8 * $9::float8, 0),"
        " latency_buckets[$10] = latency_buckets[$10] + ($9::float8 is not null)::int"
        " where test_id = $1 and variant = $2",
        test_id,
        variant,
        *(counts.get(k, 0) for k in ("accepted", "dismissed", "false_positive", "analyses")),
        counts.get("failed", 0),
        cost,
        latency,
        index,
    )


async def append_outcome(
    conn: asyncpg.Connection,
    *,
    test_id: uuid.UUID,
    variant: str,
    unit: str | None,
    source: str,
    event_id: str | None,
    data: dict[str, Any],
) -> None:
    await conn.execute(
        "insert into outcomes (test_id, variant, unit, source, event_id, data)"
        " values ($1, $2, $3, $4, $5, $6::jsonb)",
        test_id,
        variant,
        unit,
        source,
        event_id,
        json.dumps(data, default=str),
    )


async def variant_stats(conn: asyncpg.Connection, test_id: uuid.UUID) -> dict[str, VariantStats]:
    rows = await conn.fetch("select * from variant_stats where test_id = $1", test_id)
    return {str(r["variant"]): VariantStats(**r) for r in rows}


async def sequential_p(conn: asyncpg.Connection, test_id: uuid.UUID) -> dict[str, float]:
    rows = await conn.fetch("select variant, p from sequential_p where test_id = $1", test_id)
    return {str(r["variant"]): float(r["p"]) for r in rows}


async def lower_sequential_p(
    conn: asyncpg.Connection, test_id: uuid.UUID, values: dict[str, float]
) -> None:
    """Keep the running minimum (concurrent looks may only lower it)."""
    await conn.executemany(
        "insert into sequential_p (test_id, variant, p) values ($1, $2, $3)"
        " on conflict (test_id, variant) do update set p = least(sequential_p.p, excluded.p),"
        " updated_at = now()",
        [(test_id, name, p) for name, p in values.items()],
    )


async def mark_promoted(
    conn: asyncpg.Connection, test_id: uuid.UUID, *, variant: str, reason: str
) -> None:
    await conn.execute(
        "update ab_tests set promoted_variant = $2, promoted_at = now(), promotion_reason = $3"
        " where id = $1",
        test_id,
        variant,
        reason,
    )
