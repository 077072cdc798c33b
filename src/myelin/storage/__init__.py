"""Storage: one repository interface over SQLite and PostgreSQL.

SQL is written once, with ``$1``-style placeholders, and rewritten for SQLite.
Repositories raise storage errors (``NotFound``, ``Conflict``), never Matrix errors.
"""
