"""Example agents that ship with dcaf: `notes` (the default), `shop`, `deploy`, `counter`.

Run one with `dcaf run dcaf_cli.examples.shop --session sessions/shop.json`.
"""
