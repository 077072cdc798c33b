"""Accounts: users, profiles, devices, access/refresh/login tokens, registration tokens.

Functions take the connection or transaction to run on, so a service can
compose several of them in one transaction. Token arguments are digests
(the plaintext never reaches storage).
"""

from __future__ import annotations

from dataclasses import dataclass

from myelin.storage.database import Connection, Row, Transaction


@dataclass(frozen=True, slots=True)
class UserRow:
    user_id: str
    password_hash: str | None
    is_admin: bool
    is_guest: bool
    deactivated: bool
    locked: bool
    suspended: bool
    created_ts: int


@dataclass(frozen=True, slots=True)
class AccessTokenRow:
    user_id: str
    device_id: str
    expires_ts: int | None
    refresh_token_id: str | None
    used: bool
    is_guest: bool
    is_admin: bool
    deactivated: bool
    locked: bool
    suspended: bool


@dataclass(frozen=True, slots=True)
class DeviceRow:
    user_id: str
    device_id: str
    display_name: str | None
    last_seen_ts: int | None
    last_seen_ip: str | None


@dataclass(frozen=True, slots=True)
class RefreshTokenRow:
    id: str
    user_id: str
    device_id: str
    expires_ts: int | None
    next_id: str | None


_USER_COLUMNS = ("user_id, password_hash, is_admin, is_guest, deactivated, locked, suspended, "
                 "created_ts")


def _user(row: Row) -> UserRow:
    return UserRow(row[0], row[1], bool(row[2]), bool(row[3]), bool(row[4]), bool(row[5]),
                   bool(row[6]), row[7])


# --- users -----------------------------------------------------------------------------------


async def create_user(txn: Transaction, user_id: str, password_hash: str | None, *, now: int,
                      is_admin: bool = False, is_guest: bool = False) -> None:
    """Insert a user; raises ``Conflict`` if the ID is taken."""
    await txn.execute(
        "INSERT INTO users (user_id, password_hash, is_admin, is_guest, created_ts) "
        "VALUES ($1, $2, $3, $4, $5)",
        user_id, password_hash, int(is_admin), int(is_guest), now,
    )


async def get_user(conn: Connection, user_id: str) -> UserRow | None:
    row = await conn.fetchrow(f"SELECT {_USER_COLUMNS} FROM users WHERE user_id = $1", user_id)
    return None if row is None else _user(row)


async def count_users(conn: Connection) -> int:
    return int(await conn.fetchval("SELECT COUNT(*) FROM users"))


async def set_password_hash(txn: Transaction, user_id: str, password_hash: str | None) -> None:
    await txn.execute("UPDATE users SET password_hash = $2 WHERE user_id = $1", user_id,
                      password_hash)


async def set_flag(txn: Transaction, user_id: str, flag: str, value: bool) -> bool:
    """Set one of the boolean account flags; returns False if the user does not exist."""
    if flag not in ("is_admin", "deactivated", "locked", "suspended"):
        raise ValueError(f"unknown user flag {flag}")
    changed = await txn.execute(f"UPDATE users SET {flag} = $2 WHERE user_id = $1", user_id,
                                int(value))
    return changed > 0


# --- profiles --------------------------------------------------------------------------------


async def set_profile(txn: Transaction, user_id: str, displayname: str | None,
                      avatar_url: str | None) -> None:
    await txn.execute(
        "INSERT INTO profiles (user_id, displayname, avatar_url) VALUES ($1, $2, $3) "
        "ON CONFLICT (user_id) DO UPDATE SET displayname = excluded.displayname, "
        "avatar_url = excluded.avatar_url",
        user_id, displayname, avatar_url,
    )


async def get_profile(conn: Connection, user_id: str) -> tuple[str | None, str | None] | None:
    row = await conn.fetchrow("SELECT displayname, avatar_url FROM profiles WHERE user_id = $1",
                              user_id)
    return None if row is None else (row[0], row[1])


# --- devices ---------------------------------------------------------------------------------


async def upsert_device(txn: Transaction, user_id: str, device_id: str,
                        display_name: str | None, *, now: int) -> bool:
    """Create the device if missing (a given display name replaces the old one).

    Returns True if the device was created.
    """
    existing = await txn.fetchval(
        "SELECT 1 FROM devices WHERE user_id = $1 AND device_id = $2", user_id, device_id)
    if existing:
        if display_name is not None:
            await txn.execute("UPDATE devices SET display_name = $3 WHERE user_id = $1 AND "
                              "device_id = $2", user_id, device_id, display_name)
        return False
    await txn.execute(
        "INSERT INTO devices (user_id, device_id, display_name, created_ts) VALUES ($1, $2, $3, $4)",
        user_id, device_id, display_name, now,
    )
    return True


def _device(row: Row) -> DeviceRow:
    return DeviceRow(row[0], row[1], row[2], row[3], row[4])


async def get_device(conn: Connection, user_id: str, device_id: str) -> DeviceRow | None:
    row = await conn.fetchrow(
        "SELECT user_id, device_id, display_name, last_seen_ts, last_seen_ip FROM devices "
        "WHERE user_id = $1 AND device_id = $2", user_id, device_id)
    return None if row is None else _device(row)


async def list_devices(conn: Connection, user_id: str) -> list[DeviceRow]:
    rows = await conn.fetch(
        "SELECT user_id, device_id, display_name, last_seen_ts, last_seen_ip FROM devices "
        "WHERE user_id = $1 ORDER BY device_id", user_id)
    return [_device(r) for r in rows]


async def set_device_display_name(txn: Transaction, user_id: str, device_id: str,
                                  display_name: str | None) -> bool:
    return await txn.execute(
        "UPDATE devices SET display_name = $3 WHERE user_id = $1 AND device_id = $2",
        user_id, device_id, display_name) > 0


async def touch_device(txn: Transaction, user_id: str, device_id: str, *, now: int,
                       ip: str | None, user_agent: str | None) -> None:
    await txn.execute(
        "UPDATE devices SET last_seen_ts = $3, last_seen_ip = $4, last_seen_user_agent = $5 "
        "WHERE user_id = $1 AND device_id = $2", user_id, device_id, now, ip, user_agent)


async def delete_device(txn: Transaction, user_id: str, device_id: str) -> list[str]:
    """Delete a device with its tokens and end-to-end keys; returns the access-token digests
    that were revoked (for cache invalidation)."""
    hashes = [r[0] for r in await txn.fetch(
        "SELECT token_hash FROM access_tokens WHERE user_id = $1 AND device_id = $2",
        user_id, device_id)]
    for table in ("access_tokens", "refresh_tokens", "e2e_device_keys", "e2e_one_time_keys",
                  "e2e_fallback_keys", "devices"):
        await txn.execute(f"DELETE FROM {table} WHERE user_id = $1 AND device_id = $2",
                          user_id, device_id)
    return hashes


async def device_ids(conn: Connection, user_id: str) -> list[str]:
    return [r[0] for r in await conn.fetch(
        "SELECT device_id FROM devices WHERE user_id = $1", user_id)]


# --- access tokens ---------------------------------------------------------------------------


async def add_access_token(txn: Transaction, token_hash: str, user_id: str, device_id: str, *,
                           now: int, expires_ts: int | None,
                           refresh_token_id: str | None = None) -> None:
    await txn.execute(
        "INSERT INTO access_tokens (token_hash, user_id, device_id, created_ts, expires_ts, "
        "refresh_token_id) VALUES ($1, $2, $3, $4, $5, $6)",
        token_hash, user_id, device_id, now, expires_ts, refresh_token_id,
    )


async def get_access_token(conn: Connection, token_hash: str) -> AccessTokenRow | None:
    row = await conn.fetchrow(
        "SELECT t.user_id, t.device_id, t.expires_ts, t.refresh_token_id, t.used, u.is_guest, "
        "u.is_admin, u.deactivated, u.locked, u.suspended "
        "FROM access_tokens t JOIN users u ON u.user_id = t.user_id WHERE t.token_hash = $1",
        token_hash)
    if row is None:
        return None
    return AccessTokenRow(row[0], row[1], row[2], row[3], bool(row[4]), bool(row[5]),
                          bool(row[6]), bool(row[7]), bool(row[8]), bool(row[9]))


async def mark_access_token_used(txn: Transaction, token_hash: str) -> None:
    await txn.execute("UPDATE access_tokens SET used = 1 WHERE token_hash = $1", token_hash)


async def delete_access_token(txn: Transaction, token_hash: str) -> None:
    await txn.execute("DELETE FROM access_tokens WHERE token_hash = $1", token_hash)


async def access_token_hashes_for_device(conn: Connection, user_id: str,
                                         device_id: str) -> list[str]:
    return [r[0] for r in await conn.fetch(
        "SELECT token_hash FROM access_tokens WHERE user_id = $1 AND device_id = $2",
        user_id, device_id)]


async def delete_tokens_for_device(txn: Transaction, user_id: str, device_id: str) -> list[str]:
    """Revoke every access and refresh token of a device but keep the device; returns the
    revoked access-token digests."""
    hashes = await access_token_hashes_for_device(txn, user_id, device_id)
    await txn.execute("DELETE FROM access_tokens WHERE user_id = $1 AND device_id = $2",
                      user_id, device_id)
    await txn.execute("DELETE FROM refresh_tokens WHERE user_id = $1 AND device_id = $2",
                      user_id, device_id)
    return hashes


# --- refresh tokens (§Refreshing access tokens) ------------------------------------------------


async def add_refresh_token(txn: Transaction, token_id: str, token_hash: str, user_id: str,
                            device_id: str, *, now: int, expires_ts: int | None) -> None:
    await txn.execute(
        "INSERT INTO refresh_tokens (id, token_hash, user_id, device_id, created_ts, expires_ts) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        token_id, token_hash, user_id, device_id, now, expires_ts,
    )


async def get_refresh_token(conn: Connection, token_hash: str) -> RefreshTokenRow | None:
    row = await conn.fetchrow(
        "SELECT id, user_id, device_id, expires_ts, next_id FROM refresh_tokens "
        "WHERE token_hash = $1", token_hash)
    return None if row is None else RefreshTokenRow(row[0], row[1], row[2], row[3], row[4])


async def set_refresh_successor(txn: Transaction, token_id: str, next_id: str) -> str | None:
    """Point a refresh token at its successor; returns the previous successor's id, if any."""
    previous = await txn.fetchval("SELECT next_id FROM refresh_tokens WHERE id = $1", token_id)
    await txn.execute("UPDATE refresh_tokens SET next_id = $2 WHERE id = $1", token_id, next_id)
    return previous


async def delete_refresh_token(txn: Transaction, token_id: str) -> list[str]:
    """Delete a refresh token and the access tokens issued with it; returns their digests."""
    hashes = [r[0] for r in await txn.fetch(
        "SELECT token_hash FROM access_tokens WHERE refresh_token_id = $1", token_id)]
    await txn.execute("DELETE FROM access_tokens WHERE refresh_token_id = $1", token_id)
    await txn.execute("DELETE FROM refresh_tokens WHERE id = $1", token_id)
    return hashes


async def predecessors_of(conn: Connection, token_id: str) -> list[str]:
    return [r[0] for r in await conn.fetch("SELECT id FROM refresh_tokens WHERE next_id = $1",
                                           token_id)]


# --- login tokens (m.login.token) ------------------------------------------------------------


async def add_login_token(txn: Transaction, token_hash: str, user_id: str, *, now: int,
                          expires_ts: int) -> None:
    await txn.execute(
        "INSERT INTO login_tokens (token_hash, user_id, created_ts, expires_ts) "
        "VALUES ($1, $2, $3, $4)", token_hash, user_id, now, expires_ts)


async def consume_login_token(txn: Transaction, token_hash: str, *, now: int) -> str | None:
    """Single use: delete the token and return its user if it was valid and unexpired."""
    row = await txn.fetchrow("SELECT user_id, expires_ts FROM login_tokens WHERE token_hash = $1",
                             token_hash)
    if row is None:
        return None
    # Only the login whose delete removed the row may use it: a concurrent login that read
    # the same row deletes nothing (PostgreSQL re-checks after the first commit).
    if await txn.execute("DELETE FROM login_tokens WHERE token_hash = $1", token_hash) != 1:
        return None
    await txn.execute("DELETE FROM login_tokens WHERE expires_ts < $1", now)
    return row[0] if row[1] >= now else None


# --- registration tokens (m.login.registration_token) ------------------------------------------


async def add_registration_token(txn: Transaction, token: str, *, uses_allowed: int | None,
                                 expiry_ts: int | None, now: int) -> None:
    await txn.execute(
        "INSERT INTO registration_tokens (token, uses_allowed, expiry_ts, created_ts) "
        "VALUES ($1, $2, $3, $4)", token, uses_allowed, expiry_ts, now)


async def list_registration_tokens(conn: Connection) -> list[Row]:
    return await conn.fetch("SELECT token, uses_allowed, pending, completed, expiry_ts "
                            "FROM registration_tokens ORDER BY created_ts")


async def registration_token_valid(conn: Connection, token: str, *, now: int) -> bool:
    row = await conn.fetchrow(
        "SELECT uses_allowed, pending, completed, expiry_ts FROM registration_tokens "
        "WHERE token = $1", token)
    if row is None:
        return False
    uses_allowed, pending, completed, expiry_ts = row[0], row[1], row[2], row[3]
    if expiry_ts is not None and expiry_ts < now:
        return False
    return uses_allowed is None or pending + completed < uses_allowed


async def consume_registration_token(txn: Transaction, token: str, *, now: int) -> bool:
    """Count one completed registration if the token still allows it, in one conditional
    update (so concurrent sign-ups cannot overspend it); returns whether it did."""
    return await txn.execute(
        "UPDATE registration_tokens SET completed = completed + 1 WHERE token = $1 AND "
        "(uses_allowed IS NULL OR pending + completed < uses_allowed) AND "
        "(expiry_ts IS NULL OR expiry_ts >= $2)", token, now) == 1


# --- consents (m.login.terms) ----------------------------------------------------------------


async def record_consent(txn: Transaction, user_id: str, policy: str, version: str, *,
                         now: int) -> None:
    await txn.execute(
        "INSERT INTO user_consents (user_id, policy, version, accepted_ts) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (user_id, policy, version) DO NOTHING", user_id, policy, version, now)


# --- deactivation ----------------------------------------------------------------------------


async def deactivate_user(txn: Transaction, user_id: str, *, erase: bool) -> list[str]:
    """Mark deactivated, drop the password, every device, token and key; returns the revoked
    access-token digests."""
    hashes = [r[0] for r in await txn.fetch(
        "SELECT token_hash FROM access_tokens WHERE user_id = $1", user_id)]
    await txn.execute("UPDATE users SET deactivated = 1, password_hash = NULL WHERE user_id = $1",
                      user_id)
    for table in ("access_tokens", "refresh_tokens", "e2e_device_keys", "e2e_one_time_keys",
                  "e2e_fallback_keys", "devices"):
        await txn.execute(f"DELETE FROM {table} WHERE user_id = $1", user_id)
    if erase:
        await txn.execute("DELETE FROM profiles WHERE user_id = $1", user_id)
    else:
        await txn.execute("UPDATE profiles SET avatar_url = NULL WHERE user_id = $1", user_id)
    return hashes
