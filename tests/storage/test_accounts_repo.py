"""The accounts repository on both engines."""

from __future__ import annotations

import pytest

from myelin.storage.errors import Conflict
from myelin.storage.repos import accounts as repo


async def test_users_and_flags(database):
    async with database.transaction() as txn:
        await repo.create_user(txn, "@a:x", "hash", now=5, is_admin=True)
    with pytest.raises(Conflict):
        async with database.transaction() as txn:
            await repo.create_user(txn, "@a:x", None, now=6)
    async with database.transaction() as txn:
        assert await repo.set_flag(txn, "@a:x", "locked", True)
        assert not await repo.set_flag(txn, "@nobody:x", "locked", True)
    async with database.read() as conn:
        user = await repo.get_user(conn, "@a:x")
        assert await repo.get_user(conn, "@b:x") is None
        assert await repo.count_users(conn) == 1
    assert user is not None
    assert (user.is_admin, user.locked, user.suspended, user.created_ts) == (True, True, False, 5)


async def test_device_lifecycle_removes_tokens_and_keys(database):
    async with database.transaction() as txn:
        await repo.create_user(txn, "@a:x", None, now=1)
        assert await repo.upsert_device(txn, "@a:x", "D1", "phone", now=1)
        assert not await repo.upsert_device(txn, "@a:x", "D1", None, now=2)
        await repo.add_access_token(txn, "digest1", "@a:x", "D1", now=1, expires_ts=None)
        await txn.execute("INSERT INTO e2e_device_keys (user_id, device_id, key_json, ts) "
                          "VALUES ($1, $2, $3, $4)", "@a:x", "D1", "{}", 1)
    async with database.read() as conn:
        token = await repo.get_access_token(conn, "digest1")
        devices = await repo.list_devices(conn, "@a:x")
    assert token is not None and token.device_id == "D1" and not token.used
    assert [(d.device_id, d.display_name) for d in devices] == [("D1", "phone")]
    async with database.transaction() as txn:
        revoked = await repo.delete_device(txn, "@a:x", "D1")
    assert revoked == ["digest1"]
    async with database.read() as conn:
        assert await repo.get_access_token(conn, "digest1") is None
        assert await repo.get_device(conn, "@a:x", "D1") is None
        assert await conn.fetchval("SELECT COUNT(*) FROM e2e_device_keys") == 0


async def test_refresh_token_chain(database):
    async with database.transaction() as txn:
        await repo.create_user(txn, "@a:x", None, now=1)
        await repo.upsert_device(txn, "@a:x", "D", None, now=1)
        await repo.add_refresh_token(txn, "r1", "rh1", "@a:x", "D", now=1, expires_ts=None)
        await repo.add_refresh_token(txn, "r2", "rh2", "@a:x", "D", now=2, expires_ts=None)
        await repo.add_access_token(txn, "ah2", "@a:x", "D", now=2, expires_ts=10,
                                    refresh_token_id="r2")
        assert await repo.set_refresh_successor(txn, "r1", "r2") is None
    async with database.read() as conn:
        assert await repo.predecessors_of(conn, "r2") == ["r1"]
        row = await repo.get_refresh_token(conn, "rh1")
    assert row is not None and row.next_id == "r2"
    async with database.transaction() as txn:
        assert await repo.delete_refresh_token(txn, "r2") == ["ah2"]


async def test_login_tokens_are_single_use_and_expire(database):
    async with database.transaction() as txn:
        await repo.create_user(txn, "@a:x", None, now=1)
        await repo.add_login_token(txn, "l1", "@a:x", now=1, expires_ts=100)
        await repo.add_login_token(txn, "l2", "@a:x", now=1, expires_ts=100)
    async with database.transaction() as txn:
        assert await repo.consume_login_token(txn, "l1", now=50) == "@a:x"
        assert await repo.consume_login_token(txn, "l1", now=50) is None
        assert await repo.consume_login_token(txn, "l2", now=101) is None


async def test_registration_token_uses(database):
    async with database.transaction() as txn:
        await repo.add_registration_token(txn, "t", uses_allowed=1, expiry_ts=None, now=1)
        await repo.add_registration_token(txn, "old", uses_allowed=None, expiry_ts=5, now=1)
    async with database.read() as conn:
        assert await repo.registration_token_valid(conn, "t", now=2)
        assert not await repo.registration_token_valid(conn, "old", now=6)
        assert not await repo.registration_token_valid(conn, "missing", now=2)
    async with database.transaction() as txn:
        assert await repo.consume_registration_token(txn, "t", now=2)
        assert not await repo.consume_registration_token(txn, "t", now=2)
        assert not await repo.consume_registration_token(txn, "old", now=6)
    async with database.read() as conn:
        assert not await repo.registration_token_valid(conn, "t", now=2)


async def test_deactivation_erases(database):
    async with database.transaction() as txn:
        await repo.create_user(txn, "@a:x", "hash", now=1)
        await repo.set_profile(txn, "@a:x", "Alice", "mxc://x/y")
        await repo.upsert_device(txn, "@a:x", "D", None, now=1)
        await repo.add_access_token(txn, "h", "@a:x", "D", now=1, expires_ts=None)
    async with database.transaction() as txn:
        assert await repo.deactivate_user(txn, "@a:x", erase=True) == ["h"]
    async with database.read() as conn:
        user = await repo.get_user(conn, "@a:x")
        assert user is not None and user.deactivated and user.password_hash is None
        assert await repo.get_profile(conn, "@a:x") is None
        assert await repo.list_devices(conn, "@a:x") == []
