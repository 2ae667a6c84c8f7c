from __future__ import annotations

import pytest

from shop.cart import Cart
from shop.inventory import OutOfStockError


def test_totals_take_discount_before_tax(cart: Cart) -> None:
    cart.add("MUG-01", 2)  # 2500
    cart.add("TEA-02")  # 899
    assert cart.subtotal_cents() == 3399
    assert cart.total_cents() == 4079  # 3399 + 680 tax
    # 10 % off 3399 = 340; tax 20 % of 3059 = 612
    assert cart.total_cents("WELCOME10") == 3671


def test_cannot_add_more_than_stock(cart: Cart) -> None:
    cart.add("TEA-02", 2)
    with pytest.raises(OutOfStockError):
        cart.add("TEA-02", 2)


def test_remove_partial_and_all(cart: Cart) -> None:
    cart.add("MUG-01", 3)
    cart.remove("MUG-01", 1)
    assert [(line.product.sku, line.quantity) for line in cart.lines()] == [("MUG-01", 2)]
    cart.remove("MUG-01")
    assert cart.is_empty()
