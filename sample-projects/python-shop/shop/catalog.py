"""Products the shop sells, looked up by SKU.

Prices are integer cents everywhere in the shop so that sums never drift; only `pricing`
turns cents into text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class UnknownProductError(KeyError):
    """A SKU the catalog has never heard of (a KeyError, as a dict lookup would raise)."""


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    price_cents: int
    category: str = "general"


class Catalog:
    """An in-memory product list; refuses duplicates and negative prices at the door."""

    def __init__(self, products: Iterable[Product] = ()) -> None:
        self._products: dict[str, Product] = {}
        for product in products:
            self.add(product)

    def add(self, product: Product) -> None:
        if product.price_cents < 0:
            raise ValueError(f"{product.sku}: price must not be negative")
        if product.sku in self._products:
            raise ValueError(f"{product.sku}: already in the catalog")
        self._products[product.sku] = product

    def get(self, sku: str) -> Product:
        try:
            return self._products[sku]
        except KeyError:
            raise UnknownProductError(sku) from None

    def search(self, text: str) -> list[Product]:
        """Products whose name contains `text`, ignoring case, sorted by name for stable output."""
        needle = text.casefold()
        found = [p for p in self._products.values() if needle in p.name.casefold()]
        return sorted(found, key=lambda p: p.name)

    def in_category(self, category: str) -> list[Product]:
        return sorted(
            (p for p in self._products.values() if p.category == category), key=lambda p: p.name
        )

    def __contains__(self, sku: object) -> bool:
        return sku in self._products

    def __len__(self) -> int:
        return len(self._products)
