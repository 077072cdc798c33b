"""Unguessable identifiers and tokens, and the digests under which tokens are stored."""

from __future__ import annotations

import hashlib
import secrets
import string

_ALPHANUMERIC = string.ascii_letters + string.digits
_UPPER = string.ascii_uppercase


def random_string(length: int, alphabet: str = _ALPHANUMERIC) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def new_access_token() -> str:
    """256 bits of randomness (43 url-safe characters) behind a recognisable prefix."""
    return "myl_at_" + secrets.token_urlsafe(32)


def new_refresh_token() -> str:
    return "myl_rt_" + secrets.token_urlsafe(32)


def new_login_token() -> str:
    return "myl_lt_" + secrets.token_urlsafe(32)


def new_device_id() -> str:
    """Ten upper-case letters, as clients are used to seeing."""
    return random_string(10, _UPPER)


def new_session_id() -> str:
    return secrets.token_urlsafe(24)


def token_digest(token: str) -> str:
    """Tokens are stored (and cached) only as their SHA-256 digest."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
