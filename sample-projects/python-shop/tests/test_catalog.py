from __future__ import annotations

import pytest

from shop.catalog import Catalog, Product, UnknownProductError


def test_search_ignores_case_and_sorts_by_name(catalog: Catalog) -> None:
    assert [p.sku for p in catalog.search("E")] == ["MUG-01", "TEA-02", "KET-03"]
    assert [p.sku for p in catalog.search("KETTLE")] == ["KET-03"]


def test_in_category(catalog: Catalog) -> None:
    assert [p.sku for p in catalog.in_category("kitchen")] == ["MUG-01", "KET-03"]


def test_rejects_duplicates_and_negative_prices(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="already"):
        catalog.add(Product("MUG-01", "Another mug", 100))
    with pytest.raises(ValueError, match="negative"):
        catalog.add(Product("BAD-00", "Refund", -1))
    with pytest.raises(UnknownProductError):
        catalog.get("NOPE")
