"""Money arithmetic in integer cents, the tax rate and the discount codes the shop accepts.

Percentages are Decimals and every rounding is half-up to the cent, the way a till rounds,
so the same basket always costs the same.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

TAX_RATE = Decimal("0.20")
DISCOUNT_CODES: dict[str, Decimal] = {
    "WELCOME10": Decimal("0.10"),
    "SPRING25": Decimal("0.25"),
}


class InvalidDiscountError(ValueError):
    """A discount code the shop does not know; shown to the customer, so it names the code."""


def percent_of(cents: int, rate: Decimal) -> int:
    """`rate` of `cents`, rounded half-up to a whole cent."""
    return int((Decimal(cents) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def discount_for(code: str | None, subtotal_cents: int) -> int:
    """The cents a code takes off `subtotal_cents`; no code means no discount."""
    if code is None:
        return 0
    rate = DISCOUNT_CODES.get(code.strip().upper())
    if rate is None:
        raise InvalidDiscountError(f"unknown discount code {code!r}")
    return percent_of(subtotal_cents, rate)


def tax_for(net_cents: int) -> int:
    return percent_of(net_cents, TAX_RATE)


def format_cents(cents: int, currency: str = "€") -> str:
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{currency}{whole:,}.{frac:02d}"
