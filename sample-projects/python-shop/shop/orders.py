"""Checkout: turn a cart into an order, taking the goods out of stock.

Every line is reserved before any is committed, so an order that cannot be filled completely
leaves the stock exactly as it was.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from shop import pricing
from shop.cart import Cart
from shop.inventory import Inventory


@dataclass(frozen=True)
class ReceiptLine:
    sku: str
    name: str
    quantity: int
    total_cents: int


@dataclass(frozen=True)
class Receipt:
    order_id: int
    customer: str
    lines: tuple[ReceiptLine, ...]
    subtotal_cents: int
    discount_cents: int
    tax_cents: int
    total_cents: int


class EmptyCartError(ValueError):
    pass


class OrderBook:
    def __init__(self, inventory: Inventory) -> None:
        self._inventory = inventory
        self._ids = itertools.count(1)
        self.receipts: list[Receipt] = []

    def checkout(self, cart: Cart, customer: str, discount_code: str | None = None) -> Receipt:
        if cart.is_empty():
            raise EmptyCartError("cannot check out an empty cart")
        lines = cart.lines()
        subtotal = sum(line.total_cents for line in lines)
        discount = pricing.discount_for(discount_code, subtotal)
        tax = pricing.tax_for(subtotal - discount)
        total = subtotal - discount + tax

        reserved: list[tuple[str, int]] = []
        try:
            for line in lines:
                self._inventory.reserve(line.product.sku, line.quantity)
                reserved.append((line.product.sku, line.quantity))
        except Exception:
            for sku, quantity in reserved:
                self._inventory.release(sku, quantity)
            raise
        for sku, quantity in reserved:
            self._inventory.commit(sku, quantity)

        receipt = Receipt(
            order_id=next(self._ids),
            customer=customer,
            lines=tuple(
                ReceiptLine(line.product.sku, line.product.name, line.quantity, line.total_cents)
                for line in lines
            ),
            subtotal_cents=subtotal,
            discount_cents=discount,
            tax_cents=tax,
            total_cents=total,
        )
        self.receipts.append(receipt)
        cart.clear()
        return receipt
