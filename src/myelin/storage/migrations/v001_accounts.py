"""Accounts: users, devices, tokens, registration tokens, consents, device keys, profiles."""

from __future__ import annotations

from typing import Any

STATEMENTS = [
    """CREATE TABLE users (
        user_id TEXT PRIMARY KEY,
        password_hash TEXT,
        is_admin INTEGER NOT NULL DEFAULT 0,
        is_guest INTEGER NOT NULL DEFAULT 0,
        deactivated INTEGER NOT NULL DEFAULT 0,
        locked INTEGER NOT NULL DEFAULT 0,
        suspended INTEGER NOT NULL DEFAULT 0,
        created_ts BIGINT NOT NULL
    )""",
    """CREATE TABLE profiles (
        user_id TEXT PRIMARY KEY,
        displayname TEXT,
        avatar_url TEXT
    )""",
    """CREATE TABLE devices (
        user_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        display_name TEXT,
        created_ts BIGINT NOT NULL,
        last_seen_ts BIGINT,
        last_seen_ip TEXT,
        last_seen_user_agent TEXT,
        PRIMARY KEY (user_id, device_id)
    )""",
    # Tokens are stored as SHA-256 digests: a copy of the database grants no session.
    """CREATE TABLE access_tokens (
        token_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        created_ts BIGINT NOT NULL,
        expires_ts BIGINT,
        refresh_token_id TEXT,
        used INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX access_tokens_user_device ON access_tokens (user_id, device_id)",
    """CREATE TABLE refresh_tokens (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        user_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        created_ts BIGINT NOT NULL,
        expires_ts BIGINT,
        next_id TEXT
    )""",
    "CREATE INDEX refresh_tokens_user_device ON refresh_tokens (user_id, device_id)",
    "CREATE INDEX refresh_tokens_next ON refresh_tokens (next_id)",
    """CREATE TABLE login_tokens (
        token_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        created_ts BIGINT NOT NULL,
        expires_ts BIGINT NOT NULL
    )""",
    """CREATE TABLE registration_tokens (
        token TEXT PRIMARY KEY,
        uses_allowed INTEGER,
        pending INTEGER NOT NULL DEFAULT 0,
        completed INTEGER NOT NULL DEFAULT 0,
        expiry_ts BIGINT,
        created_ts BIGINT NOT NULL
    )""",
    """CREATE TABLE user_consents (
        user_id TEXT NOT NULL,
        policy TEXT NOT NULL,
        version TEXT NOT NULL,
        accepted_ts BIGINT NOT NULL,
        PRIMARY KEY (user_id, policy, version)
    )""",
    # End-to-end encryption keys of devices; filled by the keys endpoints, removed with the device.
    """CREATE TABLE e2e_device_keys (
        user_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        key_json TEXT NOT NULL,
        ts BIGINT NOT NULL,
        PRIMARY KEY (user_id, device_id)
    )""",
    """CREATE TABLE e2e_one_time_keys (
        user_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        algorithm TEXT NOT NULL,
        key_id TEXT NOT NULL,
        key_json TEXT NOT NULL,
        PRIMARY KEY (user_id, device_id, algorithm, key_id)
    )""",
    """CREATE TABLE e2e_fallback_keys (
        user_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        algorithm TEXT NOT NULL,
        key_id TEXT NOT NULL,
        key_json TEXT NOT NULL,
        used INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (user_id, device_id, algorithm)
    )""",
]


async def upgrade(conn: Any, dialect: str) -> None:
    for statement in STATEMENTS:
        await conn.execute(statement)
