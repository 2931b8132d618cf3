"""money writes exact decimal amounts (prices, costs) as JSON strings, never as floats."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import PlainSerializer


def plain(value: Decimal) -> str:
    """A decimal as a plain string: no exponent, no trailing zeros (``0.008755``, ``100``)."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


Money = Annotated[Decimal, PlainSerializer(plain, return_type=str, when_used="json")]
"""A decimal amount, serialized to JSON by :func:`plain`."""
