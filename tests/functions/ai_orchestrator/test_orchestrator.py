"""orchestrator: which of several concurrent review errors is answered."""

from __future__ import annotations

import asyncio
import logging

import pytest

from functions.ai_orchestrator import orchestrator
from shared.errors import Conflict, ProblemError, Unavailable


async def _fail_together() -> None:
    """Two pieces fail concurrently: the first raises, the second fails while cancelled."""

    async def first() -> None:
        await asyncio.sleep(0)
        raise Unavailable("provider")

    async def second() -> None:
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            raise Conflict("tokens") from None

    async with asyncio.TaskGroup() as group:
        group.create_task(first())
        group.create_task(second())


async def test_the_first_error_is_answered_and_the_others_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger=orchestrator.logger.name)
    with pytest.raises(ExceptionGroup) as caught:
        await _fail_together()
    assert len(caught.value.exceptions) == 2

    answered = orchestrator._first_problem(caught.value)

    assert isinstance(answered, Unavailable)
    assert "provider" in answered.reason and "provider" not in answered.detail
    (record,) = [r for r in caplog.records if r.name == orchestrator.logger.name]
    assert "409" in record.message and "tokens" in record.message
    assert "shared.errors.Conflict: tokens" in caplog.text  # with its traceback


def test_nested_groups_are_flattened_in_order(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=orchestrator.logger.name)
    a, b, c = Conflict("a"), Unavailable("b"), ProblemError("c")
    group = ExceptionGroup("outer", [ExceptionGroup("inner", [a, b]), c])

    answered = orchestrator._first_problem(group)

    assert answered is a
    mine = [r for r in caplog.records if r.name == orchestrator.logger.name]
    assert [record.getMessage().split(": ")[1] for record in mine] == [
        f"503 {b.detail}",
        "500 c",
    ]
