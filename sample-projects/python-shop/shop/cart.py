"""A customer's basket: products from the catalog, checked against the stock that can be sold."""

from __future__ import annotations

from dataclasses import dataclass

from shop import pricing
from shop.catalog import Catalog, Product
from shop.inventory import Inventory, OutOfStockError


@dataclass(frozen=True)
class CartLine:
    product: Product
    quantity: int

    @property
    def total_cents(self) -> int:
        return self.product.price_cents * self.quantity


class Cart:
    def __init__(self, catalog: Catalog, inventory: Inventory) -> None:
        self._catalog = catalog
        self._inventory = inventory
        self._quantities: dict[str, int] = {}

    def add(self, sku: str, quantity: int = 1) -> None:
        """Add `quantity` of a product; refuse what the shop could not deliver right now."""
        if quantity <= 0:
            raise ValueError(f"quantity must be positive, got {quantity}")
        self._catalog.get(sku)  # unknown SKUs fail here, before touching stock
        wanted = self._quantities.get(sku, 0) + quantity
        available = self._inventory.available(sku)
        if wanted > available:
            raise OutOfStockError(sku, wanted, available)
        self._quantities[sku] = wanted

    def remove(self, sku: str, quantity: int | None = None) -> None:
        """Take `quantity` items out (all when None); taking more than held empties the line."""
        held = self._quantities.get(sku, 0)
        if quantity is None or quantity >= held:
            self._quantities.pop(sku, None)
        else:
            self._quantities[sku] = held - quantity

    def clear(self) -> None:
        self._quantities.clear()

    def lines(self) -> list[CartLine]:
        return [CartLine(self._catalog.get(sku), qty) for sku, qty in self._quantities.items()]

    def is_empty(self) -> bool:
        return not self._quantities

    def subtotal_cents(self) -> int:
        return sum(line.total_cents for line in self.lines())

    def total_cents(self, discount_code: str | None = None) -> int:
        """What the customer pays: the discount comes off first, tax is charged on the rest."""
        subtotal = self.subtotal_cents()
        discount = pricing.discount_for(discount_code, subtotal)
        tax = pricing.tax_for(subtotal - discount)
        return subtotal - discount + tax
