"""reports computes a test's results from its aggregates and promotes a winner."""

from __future__ import annotations

import json
import uuid
from typing import Any

from functions.comparison_service import remote, repository
from functions.comparison_service import results as analysis
from functions.comparison_service.context import database
from shared.errors import ValidationFailed


async def results(test_id: uuid.UUID) -> tuple[dict[str, Any], repository.TestRecord]:
    """The results document and the test; the running always-valid p-values are lowered."""
    async with database.transaction() as conn:
        test = await repository.test(conn, test_id)
        aggregates = _aggregates(test, await repository.variant_stats(conn, test_id))
        counts, epochs = await repository.allocation(conn, test_id)
        _count_units(aggregates, counts)
        design = analysis.Design(
            primary_metric=test.primary_metric,
            alpha=test.alpha,
            min_samples=test.min_samples,
            max_samples=test.max_samples,
            tau=test.tau,
            equivalence_margin=test.equivalence_margin,
            status=test.status,
        )
        document, running = analysis.compute(
            design,
            aggregates,
            expected_units=_expected_units(aggregates, counts, epochs),
            previous_p=await repository.sequential_p(conn, test_id),
        )
        await repository.lower_sequential_p(conn, test_id, running)
    header = {
        "id": test.id,
        "name": test.name,
        "experiment_id": test.experiment_id,
        "status": test.status,
        "promoted_variant": test.promoted_variant,
    }
    return {**json.loads(json.dumps(header, default=str)), **document}, test


def _aggregates(
    test: repository.TestRecord, rows: dict[str, repository.VariantStats]
) -> list[analysis.Aggregate]:
    aggregates = []
    for variant in test.variants:
        row = rows[variant.name]
        aggregates.append(
            analysis.Aggregate(
                name=variant.name,
                version_id=str(variant.version_id),
                weight=float(variant.weight),
                accepted=int(row.accepted),
                dismissed=int(row.dismissed),
                false_positive=int(row.false_positive),
                analyses=int(row.analyses),
                failed=int(row.failed),
                cost_n=int(row.cost_n),
                cost_sum=float(row.cost_sum),
                cost_sumsq=float(row.cost_sumsq),
                latency_n=int(row.latency_n),
                latency_sum=float(row.latency_sum),
                latency_sumsq=float(row.latency_sumsq),
                latency_buckets=[int(c) for c in row.latency_buckets],
            )
        )
    return aggregates


def _count_units(
    aggregates: list[analysis.Aggregate], counts: list[repository.AssignedUnits]
) -> None:
    by_name = {a.name: a for a in aggregates}
    for row in counts:
        if row.variant in by_name:
            by_name[row.variant].units += int(row.units)


def _expected_units(
    aggregates: list[analysis.Aggregate],
    counts: list[repository.AssignedUnits],
    epochs: dict[int, dict[str, float]],
) -> list[float]:
    """Units each variant should have: every epoch's units split by that epoch's weights."""
    expected = dict.fromkeys((a.name for a in aggregates), 0.0)
    totals: dict[int, int] = {}
    for row in counts:
        totals[row.epoch] = totals.get(row.epoch, 0) + int(row.units)
    for epoch, units in totals.items():
        weights = epochs.get(epoch, {})
        total_weight = sum(weights.values())
        for name, weight in weights.items():
            if name in expected and total_weight > 0:
                expected[name] += units * weight / total_weight
    return [expected[a.name] for a in aggregates]


async def promote(
    test: repository.TestRecord, document: dict[str, Any], chosen: str, headers: dict[str, str]
) -> dict[str, Any]:
    """Move production to ``chosen``'s version; versions records who (the forwarded
    token's subject) and why (the test, the variant and its always-valid p-value)."""
    versions = {v.name: v.version_id for v in test.variants}
    if chosen not in versions:
        raise ValidationFailed([{"loc": ["body", "variant"], "msg": "is not a variant"}])
    reason = _reason(test, document, chosen)
    alias = await remote.move_production(
        test.experiment_id,
        version_id=versions[chosen],
        reason=reason,
        headers=headers,
    )
    async with database.connection() as conn:
        await repository.mark_promoted(conn, test.id, variant=chosen, reason=reason)
    return {
        "status": "promoted",
        "variant": chosen,
        "version_id": str(versions[chosen]),
        "reason": reason,
        "alias": alias,
    }


def _reason(test: repository.TestRecord, document: dict[str, Any], chosen: str) -> str:
    if document["decision"] != "winner" or document["winner"] != chosen:
        return (
            f"A/B test {test.name}: {chosen} promoted by an admin without a winner"
            f" (decision {document['decision']})"
        )
    p_values = [c["always_valid_p"] for c in document["comparisons"]]
    mine = [c["always_valid_p"] for c in document["comparisons"] if c["variant"] == chosen]
    p = mine[0] if mine else max(p_values)
    return f"A/B test {test.name}: {chosen} won (p={p:.3g})"
