"""Accounts, sessions and devices: the legacy authentication API.

Client-Server API §Account registration, §Login, §Refreshing access tokens,
§Relationship between access tokens and devices, §Password management,
§Account deactivation, §Account moderation, device_management.yaml.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from myelin.clock import Clock
from myelin.config import Config
from myelin.protocol.errors import (
    Forbidden,
    InvalidParam,
    InvalidUsername,
    MissingParam,
    NotFound,
    ProtocolError,
    UnknownToken,
    UserDeactivated,
    UserInUse,
    UserLocked,
    WeakPassword,
)
from myelin.protocol.identifiers import UserId, validate_localpart_strict
from myelin.services.auth import Authenticator, Requester
from myelin.services.passwords import PasswordHasher
from myelin.services.ratelimit import RateLimiter
from myelin.services.secrets import (
    new_access_token,
    new_device_id,
    new_login_token,
    new_refresh_token,
    random_string,
    token_digest,
)
from myelin.services.uia import (
    DUMMY,
    PASSWORD,
    REGISTRATION_TOKEN,
    TERMS,
    StageChecker,
    StageFailed,
    UiaService,
    UiaSession,
)
from myelin.storage.database import Database
from myelin.storage.errors import Conflict
from myelin.storage.repos import accounts as repo

log = logging.getLogger(__name__)

MAX_PASSWORD_LENGTH = 512
MAX_DEVICE_ID_LENGTH = 255
MAX_DISPLAY_NAME_LENGTH = 512
# §User-Interactive Authentication, m.login.registration_token: at most 64 characters of
# the opaque-identifier grammar.
REGISTRATION_TOKEN_RE = re.compile(r"^[A-Za-z0-9._~-]{1,64}$")


@dataclass(frozen=True)
class Session:
    """A freshly issued session (the body of a login or registration response)."""

    user_id: str
    device_id: str
    access_token: str
    refresh_token: str | None
    expires_in_ms: int | None


class AccountService:
    def __init__(self, *, config: Config, db: Database, clock: Clock, auth: Authenticator,
                 uia: UiaService, hasher: PasswordHasher, ratelimiter: RateLimiter) -> None:
        self._config = config
        self._db = db
        self._clock = clock
        self._auth = auth
        self._uia = uia
        self._hasher = hasher
        self._ratelimiter = ratelimiter
        self.server_name = config.server_name
        # Called with a user ID when one of their devices appears or goes (device lists).
        self.on_devices_changed: Callable[[str], Awaitable[None]] | None = None

    async def _devices_changed(self, user_id: str) -> None:
        if self.on_devices_changed is not None:
            await self.on_devices_changed(user_id)

    # --- identifiers ---------------------------------------------------------------------------

    def _check_new_localpart(self, localpart: str) -> str:
        """The grammar for new accounts (appendices §User Identifiers), plus this server's
        reservations; returns the full user ID. Raises M_INVALID_USERNAME."""
        try:
            validate_localpart_strict(localpart)
        except ProtocolError as e:
            raise InvalidUsername(
                "User ID can only contain the characters a-z, 0-9, '.', '_', '=', '-', '/' "
                f"and '+' ({e.message})") from None
        if localpart.startswith("_"):
            raise InvalidUsername("User IDs starting with '_' are reserved")
        if localpart.isdigit():
            raise InvalidUsername("Numeric user IDs are reserved for guest users")
        user_id = f"@{localpart}:{self.server_name}"
        if len(user_id.encode("utf-8")) > 255:
            raise InvalidUsername("User ID may not be longer than 255 bytes")
        return user_id

    def _resolve_login_user(self, user: str) -> str:
        """A login names a user by localpart or full ID; both map to a local user ID (lower-
        cased, as registration only mints lower-case IDs)."""
        if "\x00" in user:
            raise Forbidden("Invalid username or password")
        if user.startswith("@"):
            try:
                parsed = UserId.parse(user)
            except ProtocolError:
                raise Forbidden("Invalid username or password") from None
            if parsed.server_name != self.server_name:
                raise Forbidden("Invalid username or password")
            return f"@{parsed.localpart.lower()}:{self.server_name}"
        return f"@{user.lower()}:{self.server_name}"

    def _check_password_shape(self, password: Any) -> None:
        if not isinstance(password, str):
            raise ProtocolError("'password' must be a string", errcode="M_BAD_JSON")
        if len(password) > MAX_PASSWORD_LENGTH:
            raise InvalidParam(f"Password too long (at most {MAX_PASSWORD_LENGTH} characters)")
        if len(password) < self._config.auth.password_min_length:
            raise WeakPassword(
                f"Password too short (at least {self._config.auth.password_min_length} characters)")

    @staticmethod
    def _check_device_id(device_id: str | None) -> None:
        if device_id is not None and not (0 < len(device_id) <= MAX_DEVICE_ID_LENGTH):
            raise InvalidParam(f"device_id must be 1 to {MAX_DEVICE_ID_LENGTH} characters")
        if device_id is not None and "\x00" in device_id:
            raise InvalidParam("device_id may not contain NUL characters")

    # --- sessions ------------------------------------------------------------------------------

    async def _issue_session(self, user_id: str, device_id: str | None,
                             display_name: str | None, *, want_refresh: bool,
                             client_ip: str | None) -> Session:
        """Create (or reuse) a device and give it a new access token, and a refresh token if
        asked. §Relationship between access tokens and devices: when the client names an
        existing device, its older tokens are revoked."""
        self._check_display_name(display_name)
        now = self._clock.time_msec()
        device_id = device_id or new_device_id()
        access = new_access_token()
        refresh = new_refresh_token() if want_refresh else None
        lifetime = (self._config.auth.refreshable_access_token_lifetime_ms if want_refresh
                    else self._config.auth.access_token_lifetime_ms)
        revoked: list[str] = []
        async with self._db.transaction() as txn:
            created = await repo.upsert_device(txn, user_id, device_id, display_name, now=now)
            await repo.touch_device(txn, user_id, device_id, now=now, ip=client_ip,
                                    user_agent=None)
            if not created:
                revoked = await repo.delete_tokens_for_device(txn, user_id, device_id)
            refresh_id = None
            if refresh is not None:
                refresh_id = random_string(20)
                rt_lifetime = self._config.auth.refresh_token_lifetime_ms
                await repo.add_refresh_token(
                    txn, refresh_id, token_digest(refresh), user_id, device_id, now=now,
                    expires_ts=now + rt_lifetime if rt_lifetime else None)
            await repo.add_access_token(
                txn, token_digest(access), user_id, device_id, now=now,
                expires_ts=now + lifetime if lifetime else None, refresh_token_id=refresh_id)
        self._auth.forget_tokens(revoked)
        if created:
            await self._devices_changed(user_id)
        return Session(user_id, device_id, access, refresh, lifetime)

    # --- registration --------------------------------------------------------------------------

    @property
    def registration_enabled(self) -> bool:
        return self._config.registration.enabled

    def registration_flows(self) -> list[list[str]]:
        stages: list[str] = []
        if self._config.registration.require_token:
            stages.append(REGISTRATION_TOKEN)
        if self._config.registration.terms:
            stages.append(TERMS)
        return [stages or [DUMMY]]

    def registration_params(self) -> dict[str, Any]:
        if self._config.registration.terms:
            return {TERMS: {"policies": self._config.registration.terms}}
        return {}

    async def check_username_available(self, username: str) -> None:
        """GET /register/available: raises M_INVALID_USERNAME or M_USER_IN_USE."""
        user_id = self._check_new_localpart(username.lower())
        async with self._db.read() as conn:
            if await repo.get_user(conn, user_id) is not None:
                raise UserInUse("User ID already taken")

    async def registration_token_valid(self, token: str) -> bool:
        if not REGISTRATION_TOKEN_RE.match(token):
            return False
        async with self._db.read() as conn:
            return await repo.registration_token_valid(conn, token, now=self._clock.time_msec())

    def _registration_checkers(self) -> dict[str, StageChecker]:
        async def dummy(auth: dict[str, Any], session: UiaSession) -> bool:
            return True

        async def registration_token(auth: dict[str, Any], session: UiaSession) -> str:
            token = auth.get("token")
            if not isinstance(token, str) or not await self.registration_token_valid(token):
                raise StageFailed(Forbidden("Invalid registration token"))
            return token

        async def terms(auth: dict[str, Any], session: UiaSession) -> bool:
            return True

        return {DUMMY: dummy, REGISTRATION_TOKEN: registration_token, TERMS: terms}

    async def register(self, body: dict[str, Any], *, kind: str,
                       client_ip: str | None = None) -> dict[str, Any]:
        """POST /register. ``body`` is the validated JSON object."""
        if kind == "guest":
            return await self._register_guest(body, client_ip)
        if kind != "user":
            raise InvalidParam("kind must be 'user' or 'guest'")
        if not self._config.registration.enabled:
            raise Forbidden("Registration has been disabled on this server")

        # §Account registration: M_USER_IN_USE and M_INVALID_USERNAME are checked before UIA.
        session_body = body
        session_id = body.get("auth", {}).get("session") if isinstance(body.get("auth"),
                                                                      dict) else None
        if session_id is not None and set(body) <= {"auth"}:
            existing = self._uia.get(session_id)
            if existing is not None:
                session_body = {**existing.body, "auth": body["auth"]}
        username = session_body.get("username")
        user_id: str | None = None
        if username is not None:
            user_id = self._check_new_localpart(username.lower())
            async with self._db.read() as conn:
                if await repo.get_user(conn, user_id) is not None:
                    raise UserInUse("User ID already taken")
        if session_body.get("password") is not None:
            self._check_password_shape(session_body["password"])
        self._check_device_id(session_body.get("device_id"))

        outcome = await self._uia.authenticate(
            endpoint="POST /register", body=body, flows=self.registration_flows(),
            params=self.registration_params(), checkers=self._registration_checkers())
        req = outcome.body
        password = req.get("password")
        if password is None:
            raise MissingParam("Missing password")
        self._check_password_shape(password)
        if user_id is None:
            user_id = await self._generate_user_id()
        password_hash = await self._hasher.hash(password)
        token = outcome.session.results.get(REGISTRATION_TOKEN)
        now = self._clock.time_msec()
        try:
            async with self._db.transaction() as txn:
                # Consumed only by a registration that completes, with one conditional
                # update, so that concurrent sign-ups cannot exceed uses_allowed.
                if token is not None and not await repo.consume_registration_token(
                        txn, token, now=now):
                    raise Forbidden("Invalid registration token")
                await repo.create_user(txn, user_id, password_hash, now=now)
                await repo.set_profile(txn, user_id, UserId.parse(user_id).localpart, None)
                if TERMS in outcome.session.completed:
                    for name, policy in self._config.registration.terms.items():
                        await repo.record_consent(txn, user_id, name, policy["version"], now=now)
        except Conflict:
            raise UserInUse("User ID already taken") from None
        log.info("registered %s", user_id)
        return await self._registration_response(
            user_id, req, inhibit_login=bool(req.get("inhibit_login", False)),
            client_ip=client_ip)

    async def _registration_response(self, user_id: str, req: dict[str, Any], *,
                                     inhibit_login: bool,
                                     client_ip: str | None) -> dict[str, Any]:
        result: dict[str, Any] = {"user_id": user_id, "home_server": self.server_name}
        if inhibit_login:
            return result
        session = await self._issue_session(
            user_id, req.get("device_id"), req.get("initial_device_display_name"),
            want_refresh=bool(req.get("refresh_token", False)), client_ip=client_ip)
        return {**result, **self._session_body(session)}

    async def _generate_user_id(self) -> str:
        # Random rather than sequential: does not reveal how many accounts exist.
        async with self._db.read() as conn:
            for _ in range(20):
                localpart = "u" + "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789")
                                          for _ in range(11))
                user_id = f"@{localpart}:{self.server_name}"
                if await repo.get_user(conn, user_id) is None:
                    return user_id
        raise ProtocolError("Could not generate a user ID", errcode="M_UNKNOWN", status_hint=500)

    async def _register_guest(self, body: dict[str, Any],
                              client_ip: str | None) -> dict[str, Any]:
        """§Guest access: everything but initial_device_display_name is ignored; the server
        picks the user and device IDs."""
        if not self._config.registration.allow_guests:
            raise Forbidden("Guest access is disabled on this server")
        now = self._clock.time_msec()
        for _ in range(20):
            user_id = f"@{secrets.randbelow(10**12):012d}:{self.server_name}"
            try:
                async with self._db.transaction() as txn:
                    await repo.create_user(txn, user_id, None, now=now, is_guest=True)
                break
            except Conflict:
                continue
        else:
            raise ProtocolError("Could not generate a guest ID", errcode="M_UNKNOWN",
                                status_hint=500)
        display_name = body.get("initial_device_display_name")
        return await self._registration_response(
            user_id, {"initial_device_display_name": display_name}, inhibit_login=False,
            client_ip=client_ip)

    async def register_offline(self, localpart: str, password: str | None, *,
                               admin: bool) -> str:
        """``myelin register-user``: bypasses the registration switch and UIA."""
        user_id = self._check_new_localpart(localpart.lower())
        if password is not None:
            self._check_password_shape(password)
        password_hash = await self._hasher.hash(password) if password is not None else None
        now = self._clock.time_msec()
        try:
            async with self._db.transaction() as txn:
                await repo.create_user(txn, user_id, password_hash, now=now, is_admin=admin)
                await repo.set_profile(txn, user_id, UserId.parse(user_id).localpart, None)
        except Conflict:
            raise UserInUse(f"{user_id} already exists") from None
        return user_id

    # --- login ---------------------------------------------------------------------------------

    @staticmethod
    def _session_body(session: Session) -> dict[str, Any]:
        body: dict[str, Any] = {
            "user_id": session.user_id,
            "access_token": session.access_token,
            "device_id": session.device_id,
        }
        if session.refresh_token is not None:
            body["refresh_token"] = session.refresh_token
        if session.expires_in_ms is not None:
            body["expires_in_ms"] = session.expires_in_ms
        return body

    def login_flows(self) -> list[dict[str, Any]]:
        return [{"type": PASSWORD}, {"type": "m.login.token", "get_login_token": True}]

    def _login_user_from_identifier(self, body: dict[str, Any]) -> str:
        identifier = body.get("identifier")
        if identifier is not None:
            if not isinstance(identifier, dict) or not isinstance(identifier.get("type"), str):
                raise ProtocolError("'identifier' must be an object with a 'type'",
                                    errcode="M_BAD_JSON")
            id_type = identifier["type"]
            if id_type == "m.id.user":
                user = identifier.get("user")
                if not isinstance(user, str) or not user:
                    raise ProtocolError("'identifier.user' must be a string", errcode="M_BAD_JSON")
                return self._resolve_login_user(user)
            if id_type in ("m.id.thirdparty", "m.id.phone"):
                # No third-party identifiers are bound on this server (§Login: an unknown 3PID
                # is 403).
                raise Forbidden("No account is bound to that third-party identifier")
            raise InvalidParam(f"Unknown identifier type {id_type}")
        user = body.get("user")  # deprecated
        if isinstance(user, str) and user:
            return self._resolve_login_user(user)
        if body.get("medium") is not None or body.get("address") is not None:
            raise Forbidden("No account is bound to that third-party identifier")
        raise MissingParam("Missing 'identifier'")

    async def login(self, body: dict[str, Any], *, client_ip: str) -> dict[str, Any]:
        """POST /login (m.login.password, m.login.token)."""
        login_type = body.get("type")
        device_id = body.get("device_id")
        self._check_device_id(device_id)
        if login_type == PASSWORD:
            user_id = self._login_user_from_identifier(body)
            password = body.get("password")
            if not isinstance(password, str):
                raise ProtocolError("'password' must be a string", errcode="M_BAD_JSON")
            self._ratelimiter.check("login_failed", user_id, cost=0)
            async with self._db.read() as conn:
                user = await repo.get_user(conn, user_id)
            ok = await self._hasher.verify(user.password_hash if user else None, password)
            if not ok or user is None:
                self._ratelimiter.check("login_failed", user_id)
                raise Forbidden("Invalid username or password")
        elif login_type == "m.login.token":
            token = body.get("token")
            if not isinstance(token, str):
                raise ProtocolError("'token' must be a string", errcode="M_BAD_JSON")
            async with self._db.transaction() as txn:
                found = await repo.consume_login_token(txn, token_digest(token),
                                                       now=self._clock.time_msec())
            if found is None:
                raise Forbidden("Invalid or expired login token")
            user_id = found
            async with self._db.read() as conn:
                user = await repo.get_user(conn, user_id)
            if user is None:
                raise Forbidden("Invalid or expired login token")
        else:
            raise ProtocolError(f"Unknown login type {login_type!r}", errcode="M_UNKNOWN",
                                status_hint=400)
        if user.deactivated:
            raise UserDeactivated("This account has been deactivated")
        if user.locked:
            raise UserLocked()
        session = await self._issue_session(
            user.user_id, device_id, body.get("initial_device_display_name"),
            want_refresh=bool(body.get("refresh_token", False)), client_ip=client_ip)
        return {
            **self._session_body(session),
            "home_server": self.server_name,
            "well_known": {"m.homeserver": {"base_url": self._config.public_baseurl}},
        }

    async def refresh(self, refresh_token: str) -> dict[str, Any]:
        """POST /refresh (§Refreshing access tokens)."""
        now = self._clock.time_msec()
        async with self._db.read() as conn:
            row = await repo.get_refresh_token(conn, token_digest(refresh_token))
        if row is None:
            raise UnknownToken("Unknown refresh token")
        if row.expires_ts is not None and row.expires_ts <= now:
            raise UnknownToken("Refresh token has expired", soft_logout=True)
        async with self._db.read() as conn:
            user = await repo.get_user(conn, row.user_id)
        if user is None or user.deactivated:
            raise UnknownToken("Unknown refresh token")
        if user.locked:
            # §Account locking: no new access token until the account is unlocked.
            raise UserLocked()
        access = new_access_token()
        refresh = new_refresh_token()
        new_id = random_string(20)
        lifetime = self._config.auth.refreshable_access_token_lifetime_ms
        rt_lifetime = self._config.auth.refresh_token_lifetime_ms
        revoked: list[str] = []
        async with self._db.transaction() as txn:
            # Using this token proves its predecessor is no longer needed.
            for old_id in await repo.predecessors_of(txn, row.id):
                revoked += await repo.delete_refresh_token(txn, old_id)
            await repo.add_refresh_token(txn, new_id, token_digest(refresh), row.user_id,
                                         row.device_id, now=now,
                                         expires_ts=now + rt_lifetime if rt_lifetime else None)
            await repo.add_access_token(txn, token_digest(access), row.user_id, row.device_id,
                                        now=now, expires_ts=now + lifetime,
                                        refresh_token_id=new_id)
            # A successor that was never used is replaced by this one.
            unused = await repo.set_refresh_successor(txn, row.id, new_id)
            if unused is not None:
                revoked += await repo.delete_refresh_token(txn, unused)
        self._auth.forget_tokens(revoked)
        return {"access_token": access, "refresh_token": refresh, "expires_in_ms": lifetime}

    async def create_login_token(self, requester: Requester) -> dict[str, Any]:
        lifetime = self._config.auth.login_token_lifetime_ms
        token = new_login_token()
        now = self._clock.time_msec()
        async with self._db.transaction() as txn:
            await repo.add_login_token(txn, token_digest(token), requester.user_id, now=now,
                                       expires_ts=now + lifetime)
        return {"login_token": token, "expires_in_ms": lifetime}

    # --- logout --------------------------------------------------------------------------------

    async def logout(self, requester: Requester) -> None:
        """POST /logout: the token's device goes, with its keys (§Login, logout.yaml)."""
        await self.delete_devices(requester.user_id, [requester.device_id])

    async def logout_all(self, requester: Requester) -> None:
        async with self._db.read() as conn:
            ids = await repo.device_ids(conn, requester.user_id)
        await self.delete_devices(requester.user_id, ids)
        self._auth.forget_user(requester.user_id)

    # --- UIA for an authenticated user ---------------------------------------------------------

    def _password_checkers(self, user_id: str | None) -> dict[str, StageChecker]:
        """m.login.password: proves the named user knows the password. With ``user_id`` None
        (an endpoint called without an access token) the identifier chooses the account."""

        async def password(auth: dict[str, Any], session: UiaSession) -> str:
            try:
                claimed = self._login_user_from_identifier(auth)
            except ProtocolError as e:
                raise StageFailed(e) from None
            if user_id is not None and claimed != user_id:
                raise StageFailed(Forbidden("Invalid username or password"))
            pw = auth.get("password")
            self._ratelimiter.check("login_failed", claimed, cost=0)
            async with self._db.read() as conn:
                user = await repo.get_user(conn, claimed)
            ok = isinstance(pw, str) and await self._hasher.verify(
                user.password_hash if user else None, pw)
            if not ok or user is None or user.deactivated:
                self._ratelimiter.check("login_failed", claimed)
                raise StageFailed(Forbidden("Invalid username or password"))
            if user.locked:
                raise UserLocked()
            return claimed

        return {PASSWORD: password}

    async def user_interactive_auth(self, requester: Requester, endpoint: str,
                                    body: dict[str, Any]) -> dict[str, Any]:
        """Re-authenticate the requester by password; returns the request body to act on."""
        outcome = await self._uia.authenticate(
            endpoint=endpoint, body=body, flows=[[PASSWORD]], params={},
            checkers=self._password_checkers(requester.user_id), owner=requester.user_id)
        return outcome.body

    async def account_owner_auth(self, requester: Requester | None, endpoint: str,
                                 body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """UIA for endpoints whose access token is optional (password change, deactivation):
        with a token the requester re-authenticates; without one, the password stage's
        identifier names the account. Returns (user ID, request body)."""
        if requester is not None:
            return requester.user_id, await self.user_interactive_auth(requester, endpoint, body)
        outcome = await self._uia.authenticate(
            endpoint=endpoint, body=body, flows=[[PASSWORD]], params={},
            checkers=self._password_checkers(None), owner=None)
        return str(outcome.session.results[PASSWORD]), outcome.body

    def checkers_for_session(self, session: UiaSession) -> dict[str, StageChecker]:
        """The stage checkers that apply to an existing session (for the fallback pages)."""
        if session.endpoint == "POST /register":
            return self._registration_checkers()
        return self._password_checkers(session.owner)

    # --- devices -------------------------------------------------------------------------------

    async def list_devices(self, user_id: str) -> list[dict[str, Any]]:
        async with self._db.read() as conn:
            rows = await repo.list_devices(conn, user_id)
        return [self._device_body(r) for r in rows]

    async def get_device(self, user_id: str, device_id: str) -> dict[str, Any]:
        async with self._db.read() as conn:
            row = await repo.get_device(conn, user_id, device_id)
        if row is None:
            raise NotFound("Unknown device")
        return self._device_body(row)

    @staticmethod
    def _device_body(row: repo.DeviceRow) -> dict[str, Any]:
        # The spec marks these optional, but matrix-nio requires every key to be present
        # (null allowed), as Synapse sends them. last_seen_* are recorded when the device is
        # created, so only display_name is ever null (when the user never named the device).
        return {"device_id": row.device_id, "display_name": row.display_name,
                "last_seen_ip": row.last_seen_ip, "last_seen_ts": row.last_seen_ts}

    async def update_device(self, user_id: str, device_id: str, display_name: str | None, *,
                            change_name: bool = True) -> None:
        self._check_display_name(display_name)
        async with self._db.transaction() as txn:
            found = await repo.get_device(txn, user_id, device_id)
            if found is None:
                raise NotFound("Unknown device")
            if change_name:
                await repo.set_device_display_name(txn, user_id, device_id, display_name)

    @staticmethod
    def _check_display_name(display_name: str | None) -> None:
        if display_name is None:
            return
        if len(display_name) > MAX_DISPLAY_NAME_LENGTH:
            raise InvalidParam(f"display_name is longer than {MAX_DISPLAY_NAME_LENGTH} "
                               "characters")
        if "\x00" in display_name:
            raise InvalidParam("display_name may not contain NUL characters")

    async def delete_devices(self, user_id: str, device_ids: list[str]) -> None:
        revoked: list[str] = []
        async with self._db.transaction() as txn:
            for device_id in device_ids:
                revoked += await repo.delete_device(txn, user_id, device_id)
        self._auth.forget_tokens(revoked)
        if device_ids:
            await self._devices_changed(user_id)

    # --- password and deactivation -------------------------------------------------------------

    async def change_password(self, user_id: str, new_password: str, *, logout_devices: bool,
                              keep_device: str | None) -> None:
        """§Password management: with logout_devices, every other device is signed out (the
        requesting one, ``keep_device``, keeps its token)."""
        self._check_password_shape(new_password)
        password_hash = await self._hasher.hash(new_password)
        revoked: list[str] = []
        async with self._db.transaction() as txn:
            await repo.set_password_hash(txn, user_id, password_hash)
            if logout_devices:
                for device_id in await repo.device_ids(txn, user_id):
                    if device_id != keep_device:
                        revoked += await repo.delete_device(txn, user_id, device_id)
        self._auth.forget_tokens(revoked)

    async def deactivate(self, user_id: str, *, erase: bool) -> None:
        async with self._db.transaction() as txn:
            revoked = await repo.deactivate_user(txn, user_id, erase=erase)
        self._auth.forget_tokens(revoked)
        self._auth.forget_user(user_id)
        log.info("deactivated %s (erase=%s)", user_id, erase)

    # --- account moderation (§Account moderation, admin.yaml) ----------------------------------

    async def _admin_target(self, requester: Requester, user_id: str) -> str:
        # Authorisation before lookup, so non-admins cannot probe for accounts.
        if not requester.is_admin:
            raise Forbidden("You are not a server admin")
        try:
            parsed = UserId.parse(user_id)
        except ProtocolError:
            raise InvalidParam("Invalid user ID") from None
        if parsed.server_name != self.server_name:
            raise InvalidParam("Only local users can be moderated here")
        async with self._db.read() as conn:
            if await repo.get_user(conn, user_id) is None:
                raise NotFound("Unknown user")
        return user_id

    async def get_account_flag(self, requester: Requester, user_id: str, flag: str) -> bool:
        user_id = await self._admin_target(requester, user_id)
        async with self._db.read() as conn:
            user = await repo.get_user(conn, user_id)
        assert user is not None
        return bool(getattr(user, flag))

    async def set_account_flag(self, requester: Requester, user_id: str, flag: str,
                               value: bool) -> None:
        user_id = await self._admin_target(requester, user_id)
        async with self._db.transaction() as txn:
            await repo.set_flag(txn, user_id, flag, value)
        self._auth.forget_user(user_id)
        log.info("%s set %s=%s on %s", requester.user_id, flag, value, user_id)

    # --- registration tokens (operator CLI) ----------------------------------------------------

    async def create_registration_token(self, token: str | None, *, uses_allowed: int | None,
                                        expiry_ts: int | None) -> str:
        token = token or random_string(16)
        if not REGISTRATION_TOKEN_RE.match(token):
            raise InvalidParam("A registration token is 1 to 64 characters of A-Z a-z 0-9 . _ ~ -")
        async with self._db.transaction() as txn:
            await repo.add_registration_token(txn, token, uses_allowed=uses_allowed,
                                              expiry_ts=expiry_ts, now=self._clock.time_msec())
        return token
