"""Errors raised by storage; the services translate them into domain errors."""


class StorageError(Exception):
    """Base class of storage failures."""


class Conflict(StorageError):
    """A uniqueness constraint refused the write (the row exists already)."""


class InvalidText(StorageError):
    """A text value the engine cannot store or compare (PostgreSQL text holds no NUL)."""


class SchemaTooNew(StorageError):
    """The database was written by a newer Myelin; refusing to run on it."""
