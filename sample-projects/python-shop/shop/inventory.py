"""Stock levels per SKU, with reservations.

A reservation holds stock for an order being placed so two checkouts cannot sell the same last
item; `commit` turns it into a sale, `release` gives it back.
"""

from __future__ import annotations

from collections.abc import Mapping


class OutOfStockError(Exception):
    def __init__(self, sku: str, wanted: int, available: int) -> None:
        super().__init__(f"{sku}: wanted {wanted}, only {available} available")
        self.sku = sku
        self.wanted = wanted
        self.available = available


class Inventory:
    def __init__(self, stock: Mapping[str, int] | None = None) -> None:
        self._on_hand: dict[str, int] = dict(stock or {})
        self._reserved: dict[str, int] = {}
        if any(qty < 0 for qty in self._on_hand.values()):
            raise ValueError("stock levels must not be negative")

    def on_hand(self, sku: str) -> int:
        return self._on_hand.get(sku, 0)

    def available(self, sku: str) -> int:
        """What can still be sold: stock on hand minus what open orders hold."""
        return self.on_hand(sku) - self._reserved.get(sku, 0)

    def restock(self, sku: str, quantity: int) -> None:
        _check_quantity(quantity)
        self._on_hand[sku] = self.on_hand(sku) + quantity

    def reserve(self, sku: str, quantity: int) -> None:
        _check_quantity(quantity)
        available = self.available(sku)
        if quantity > available:
            raise OutOfStockError(sku, quantity, available)
        self._reserved[sku] = self._reserved.get(sku, 0) + quantity

    def release(self, sku: str, quantity: int) -> None:
        _check_quantity(quantity)
        held = self._reserved.get(sku, 0)
        if quantity > held:
            raise ValueError(f"{sku}: releasing {quantity} but only {held} reserved")
        self._reserved[sku] = held - quantity

    def commit(self, sku: str, quantity: int) -> None:
        """The reserved items left the warehouse: off the reservation and off the shelf."""
        self.release(sku, quantity)
        self._on_hand[sku] = self.on_hand(sku) - quantity


def _check_quantity(quantity: int) -> None:
    if quantity <= 0:
        raise ValueError(f"quantity must be positive, got {quantity}")
