"""A tiny web-shop core: products, stock, carts, prices, orders and customer accounts.

Small on purpose: it exists so gearshift's demo has a real code base with real validators.
"""
