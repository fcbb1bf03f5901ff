"""Device library: one sub-package per device kind (codec, driver, simulator).

It imports nothing from ``server``, ``counter_agent`` or any UI.
"""
