"""The pure protocol core: synchronous functions over data, no I/O.

Nothing under this package may import asyncio, a database driver or a web
framework (checked by tests/test_layers.py and import-linter).
"""
