from __future__ import annotations

import pytest

from shop.cart import Cart
from shop.catalog import Catalog, Product
from shop.inventory import Inventory


@pytest.fixture
def catalog() -> Catalog:
    return Catalog(
        [
            Product("MUG-01", "Enamel mug", 1250, "kitchen"),
            Product("TEA-02", "Green tea, 100 g", 899, "pantry"),
            Product("KET-03", "Stovetop kettle", 4500, "kitchen"),
        ]
    )


@pytest.fixture
def inventory() -> Inventory:
    return Inventory({"MUG-01": 10, "TEA-02": 3, "KET-03": 1})


@pytest.fixture
def cart(catalog: Catalog, inventory: Inventory) -> Cart:
    return Cart(catalog, inventory)
