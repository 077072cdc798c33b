"""Numbered schema migrations, applied at start in order, each in its own transaction.

Each module ``vNNN_<name>.py`` defines ``async def upgrade(conn, dialect)``. The
``schema_version`` table records the highest applied number; a database whose
version is newer than this code knows is refused (``SchemaTooNew``) rather than
written with an older understanding of its tables.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from myelin.storage.database import Database
from myelin.storage.errors import SchemaTooNew


def _migrations() -> list[tuple[int, ModuleType]]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("v") and info.name[1:4].isdigit():
            found.append((int(info.name[1:4]), importlib.import_module(f"{__name__}.{info.name}")))
    found.sort(key=lambda t: t[0])
    numbers = [n for n, _ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..N without gaps, found {numbers}")
    return found


MIGRATIONS = _migrations()
LATEST_VERSION = MIGRATIONS[-1][0] if MIGRATIONS else 0


async def current_version(db: Database) -> int:
    async with db.transaction() as txn:
        await txn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        version = await txn.fetchval("SELECT MAX(version) FROM schema_version")
    return int(version or 0)


async def migrate(db: Database) -> int:
    """Bring the schema up to date; returns the version now in force."""
    version = await current_version(db)
    if version > LATEST_VERSION:
        raise SchemaTooNew(
            f"the database schema is version {version} but this Myelin knows only up to "
            f"{LATEST_VERSION}; run a newer Myelin (downgrades are not supported)"
        )
    for number, module in MIGRATIONS:
        if number <= version:
            continue
        async with db.transaction() as txn:
            await module.upgrade(txn, db.dialect)
            await txn.execute("INSERT INTO schema_version (version) VALUES ($1)", number)
        version = number
    return version
