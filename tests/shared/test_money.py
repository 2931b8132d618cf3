"""money: exact amounts leave as plain decimal strings."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import BaseModel

from shared.money import Money, plain


@pytest.mark.parametrize(
    ("value", "text"),
    [("0.00875500", "0.008755"), ("1E+2", "100"), ("-0.000", "0"), ("0", "0"), ("12.5", "12.5")],
)
def test_plain_writes_no_exponent_and_no_trailing_zeros(value: str, text: str) -> None:
    assert plain(Decimal(value)) == text


def test_money_fields_serialize_to_json_strings_and_stay_decimals_in_python() -> None:
    class Cost(BaseModel):
        usd: Money

    cost = Cost(usd=Decimal("0.000125"))
    assert cost.model_dump_json() == '{"usd":"0.000125"}'
    assert cost.model_dump()["usd"] == Decimal("0.000125")
