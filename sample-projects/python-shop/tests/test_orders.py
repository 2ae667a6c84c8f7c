from __future__ import annotations

import pytest

from shop.cart import Cart
from shop.inventory import Inventory, OutOfStockError
from shop.orders import EmptyCartError, OrderBook


def test_checkout_takes_stock_and_prices_the_order(cart: Cart, inventory: Inventory) -> None:
    book = OrderBook(inventory)
    cart.add("KET-03")
    cart.add("TEA-02", 2)
    receipt = book.checkout(cart, "ada", "SPRING25")
    assert receipt.order_id == 1
    assert (receipt.subtotal_cents, receipt.discount_cents, receipt.tax_cents) == (6298, 1575, 945)
    assert receipt.total_cents == 5668
    assert inventory.on_hand("KET-03") == 0
    assert inventory.on_hand("TEA-02") == 1
    assert cart.is_empty()


def test_failed_checkout_leaves_stock_alone(cart: Cart, inventory: Inventory) -> None:
    book = OrderBook(inventory)
    cart.add("MUG-01", 2)
    cart.add("KET-03")
    inventory.reserve("KET-03", 1)  # someone else got the last kettle meanwhile
    with pytest.raises(OutOfStockError):
        book.checkout(cart, "ada")
    assert inventory.available("MUG-01") == 10
    assert not cart.is_empty()


def test_empty_cart_cannot_check_out(cart: Cart, inventory: Inventory) -> None:
    with pytest.raises(EmptyCartError):
        OrderBook(inventory).checkout(cart, "ada")
