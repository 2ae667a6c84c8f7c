from __future__ import annotations

from decimal import Decimal

import pytest

from shop.pricing import InvalidDiscountError, discount_for, format_cents, percent_of


def test_percent_rounds_half_up() -> None:
    assert percent_of(125, Decimal("0.10")) == 13
    assert percent_of(124, Decimal("0.10")) == 12


def test_discount_codes_are_case_insensitive_and_checked() -> None:
    assert discount_for(None, 5000) == 0
    assert discount_for(" welcome10 ", 5000) == 500
    with pytest.raises(InvalidDiscountError, match="FREESTUFF"):
        discount_for("FREESTUFF", 5000)


def test_format_cents() -> None:
    assert format_cents(123456) == "€1,234.56"
    assert format_cents(-5) == "-€0.05"
