from __future__ import annotations

import pytest

from shop.inventory import Inventory, OutOfStockError


def test_reservations_hold_stock_until_committed_or_released(inventory: Inventory) -> None:
    inventory.reserve("MUG-01", 4)
    assert inventory.available("MUG-01") == 6
    assert inventory.on_hand("MUG-01") == 10
    inventory.commit("MUG-01", 3)
    inventory.release("MUG-01", 1)
    assert (inventory.on_hand("MUG-01"), inventory.available("MUG-01")) == (7, 7)


def test_cannot_reserve_more_than_available(inventory: Inventory) -> None:
    inventory.reserve("KET-03", 1)
    with pytest.raises(OutOfStockError) as err:
        inventory.reserve("KET-03", 1)
    assert err.value.available == 0
