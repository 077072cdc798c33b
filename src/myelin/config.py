"""Myelin's configuration: typed, frozen, validated once at start.

The file is YAML. Every mistake is reported as one line naming the key
(``ConfigError("registration.enabled: expected a boolean, got 'yes please'")``),
never as a traceback. ``render_default_config`` writes the commented file that
``myelin generate-config`` produces.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from myelin.protocol.identifiers import is_valid_server_name


class ConfigError(Exception):
    """A configuration mistake; the message is one line that names the key."""


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A token bucket: ``burst`` actions at once, refilled at ``per_second``."""

    per_second: float
    burst: int


DEFAULT_RATE_LIMITS: dict[str, RateLimit] = {
    # Per client address, before authentication.
    "register": RateLimit(per_second=0.17, burst=3),
    "login": RateLimit(per_second=0.17, burst=3),
    "login_failed": RateLimit(per_second=0.17, burst=3),
    "registration_token_validity": RateLimit(per_second=0.1, burst=5),
    "refresh": RateLimit(per_second=1.0, burst=10),
    # Spec text asks for a stricter limit on /login/get_token ("such as 1/min").
    "get_login_token": RateLimit(per_second=1 / 60, burst=1),
    # Per user, after authentication.
    "message": RateLimit(per_second=10.0, burst=50),
    "client": RateLimit(per_second=20.0, burst=100),
}


@dataclass(frozen=True, slots=True)
class RegistrationConfig:
    enabled: bool = False
    require_token: bool = False
    allow_guests: bool = False
    # m.login.terms: {policy_name: {"version": str, lang: {"name": str, "url": str}}}
    terms: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuthConfig:
    # None: access tokens do not expire (unless the client asked for refresh tokens).
    access_token_lifetime_ms: int | None = None
    # Lifetime of access tokens issued together with a refresh token.
    refreshable_access_token_lifetime_ms: int = 5 * 60 * 1000
    refresh_token_lifetime_ms: int | None = None
    login_token_lifetime_ms: int = 2 * 60 * 1000
    uia_session_lifetime_ms: int = 15 * 60 * 1000
    password_min_length: int = 8
    # argon2id parameters (RFC 9106 "second recommended option" scaled down for small hosts).
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 1


@dataclass(frozen=True, slots=True)
class Config:
    server_name: str
    data_dir: Path
    listen_host: str = "127.0.0.1"
    listen_port: int = 8008
    public_baseurl: str = "http://localhost:8008/"
    database_url: str = ""
    signing_key_path: Path = Path("signing.key")
    max_request_body_bytes: int = 1 << 20
    registration: RegistrationConfig = field(default_factory=RegistrationConfig)
    auth: AuthConfig = field(default_factory=AuthConfig)
    rate_limits_enabled: bool = True
    rate_limits: dict[str, RateLimit] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    identity_server: str | None = None
    support_contacts: tuple[dict[str, Any], ...] = ()
    support_page: str | None = None
    sqlite_synchronous: str = "FULL"
    log_level: str = "INFO"
    access_log: bool = False
    default_room_version: str = "12"


# --- validation helpers ---------------------------------------------------------------------


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a mapping"}.get(type(value), type(value).__name__)


def _get(section: dict[str, Any], key: str, path: str, kind: type | tuple[type, ...],
         default: Any, *, nullable: bool = False) -> Any:
    if key not in section:
        return default
    value = section[key]
    if value is None and nullable:
        return None
    kinds = kind if isinstance(kind, tuple) else (kind,)
    ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
    if not ok:
        wanted = " or ".join(_type_name(k()) if k is not type(None) else "null" for k in kinds)
        raise ConfigError(f"{path}{key}: expected {wanted}, got {_type_name(value)} {value!r}")
    return value


def _section(raw: dict[str, Any], key: str, path: str = "") -> dict[str, Any]:
    value = raw.get(key, {})
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{path}{key}: expected a mapping, got {_type_name(value)}")
    return value


def _reject_unknown(section: dict[str, Any], known: set[str], path: str) -> None:
    for key in section:
        if key not in known:
            raise ConfigError(f"{path}{key}: unknown setting (known: {', '.join(sorted(known))})")


def _positive(value: int | None, name: str) -> None:
    if value is not None and value <= 0:
        raise ConfigError(f"{name}: must be positive, got {value}")


def parse_config(raw: Any, *, base_dir: Path) -> Config:
    """Validate a parsed YAML document; relative paths resolve against ``base_dir``."""
    if not isinstance(raw, dict):
        raise ConfigError(f"the configuration must be a mapping, got {_type_name(raw)}")
    known = {"server_name", "data_dir", "listen", "public_baseurl", "database", "signing_key_path",
             "max_request_body_bytes", "registration", "auth", "rate_limits", "well_known",
             "support", "sqlite_synchronous", "log_level", "access_log", "default_room_version"}
    _reject_unknown(raw, known, "")

    if "server_name" not in raw:
        raise ConfigError("server_name: missing (the domain in your users' IDs, e.g. example.org)")
    server_name = _get(raw, "server_name", "", str, None)
    if not is_valid_server_name(server_name):
        raise ConfigError(f"server_name: {server_name!r} is not a valid server name")

    data_dir = (base_dir / _get(raw, "data_dir", "", str, ".")).resolve()

    listen = _section(raw, "listen")
    _reject_unknown(listen, {"host", "port"}, "listen.")
    host = _get(listen, "host", "listen.", str, "127.0.0.1")
    port = _get(listen, "port", "listen.", int, 8008)
    if not 0 <= port <= 65535:
        raise ConfigError(f"listen.port: {port} is not a port number (0-65535)")

    default_base = f"http://{server_name}:{port}/" if server_name == "localhost" else f"https://{server_name}/"
    public_baseurl = _get(raw, "public_baseurl", "", str, default_base)
    if not public_baseurl.startswith(("http://", "https://")):
        raise ConfigError(f"public_baseurl: must start with http:// or https://, got {public_baseurl!r}")
    if not public_baseurl.endswith("/"):
        public_baseurl += "/"

    database = _section(raw, "database")
    _reject_unknown(database, {"url"}, "database.")
    database_url = _get(database, "url", "database.", str, f"sqlite:///{data_dir / 'myelin.db'}")
    if not database_url.startswith(("sqlite://", "postgresql://", "postgres://")):
        raise ConfigError(f"database.url: must start with sqlite:// or postgresql://, got {database_url!r}")
    if database_url.startswith("sqlite:///") and not database_url.startswith("sqlite:////"):
        rel = database_url[len("sqlite:///"):]
        if rel and rel != ":memory:" and not rel.startswith("/"):
            database_url = f"sqlite:///{(base_dir / rel).resolve()}"

    signing_key_path = base_dir / _get(raw, "signing_key_path", "", str, str(data_dir / "signing.key"))

    max_body = _get(raw, "max_request_body_bytes", "", int, 1 << 20)
    _positive(max_body, "max_request_body_bytes")

    reg = _section(raw, "registration")
    _reject_unknown(reg, {"enabled", "require_token", "allow_guests", "terms"}, "registration.")
    terms = _get(reg, "terms", "registration.", dict, {})
    for name, policy in terms.items():
        if not isinstance(policy, dict) or not isinstance(policy.get("version"), str):
            raise ConfigError(f"registration.terms.{name}: needs a 'version' string and per-language "
                              "{name, url} entries")
    registration = RegistrationConfig(
        enabled=_get(reg, "enabled", "registration.", bool, False),
        require_token=_get(reg, "require_token", "registration.", bool, False),
        allow_guests=_get(reg, "allow_guests", "registration.", bool, False),
        terms=terms,
    )

    a = _section(raw, "auth")
    auth_known = {f for f in AuthConfig.__dataclass_fields__}
    _reject_unknown(a, auth_known, "auth.")
    auth_kwargs: dict[str, Any] = {}
    for name in auth_known:
        default = getattr(AuthConfig(), name)
        nullable = name in ("access_token_lifetime_ms", "refresh_token_lifetime_ms")
        value = _get(a, name, "auth.", int, default, nullable=nullable)
        _positive(value, f"auth.{name}")
        auth_kwargs[name] = value
    if auth_kwargs["argon2_memory_kib"] < 8 * auth_kwargs["argon2_parallelism"]:
        raise ConfigError("auth.argon2_memory_kib: must be at least 8 × argon2_parallelism")
    auth = AuthConfig(**auth_kwargs)

    rl = _section(raw, "rate_limits")
    rate_limits = dict(DEFAULT_RATE_LIMITS)
    enabled = True
    for key, value in rl.items():
        if key == "enabled":
            enabled = _get(rl, "enabled", "rate_limits.", bool, True)
            continue
        if key not in DEFAULT_RATE_LIMITS:
            raise ConfigError(f"rate_limits.{key}: unknown action (known: enabled, "
                              f"{', '.join(sorted(DEFAULT_RATE_LIMITS))})")
        if not isinstance(value, dict):
            raise ConfigError(f"rate_limits.{key}: expected a mapping with per_second and burst")
        _reject_unknown(value, {"per_second", "burst"}, f"rate_limits.{key}.")
        per_second = float(_get(value, "per_second", f"rate_limits.{key}.", (int, float),
                                DEFAULT_RATE_LIMITS[key].per_second))
        burst = _get(value, "burst", f"rate_limits.{key}.", int, DEFAULT_RATE_LIMITS[key].burst)
        if per_second <= 0 or burst <= 0:
            raise ConfigError(f"rate_limits.{key}: per_second and burst must be positive")
        rate_limits[key] = RateLimit(per_second=per_second, burst=burst)

    wk = _section(raw, "well_known")
    _reject_unknown(wk, {"identity_server"}, "well_known.")
    identity_server = _get(wk, "identity_server", "well_known.", str, None, nullable=True)

    sup = _section(raw, "support")
    _reject_unknown(sup, {"contacts", "support_page"}, "support.")
    contacts = _get(sup, "contacts", "support.", list, [])
    for i, c in enumerate(contacts):
        if not isinstance(c, dict) or not isinstance(c.get("role"), str):
            raise ConfigError(f"support.contacts[{i}]: needs a 'role' (m.role.admin or m.role.security)"
                              " and a matrix_id or email_address")
        if not (isinstance(c.get("matrix_id"), str) or isinstance(c.get("email_address"), str)):
            raise ConfigError(f"support.contacts[{i}]: needs a matrix_id or an email_address")
    support_page = _get(sup, "support_page", "support.", str, None, nullable=True)

    sync_mode = _get(raw, "sqlite_synchronous", "", str, "FULL").upper()
    if sync_mode not in ("FULL", "NORMAL", "EXTRA"):
        raise ConfigError(f"sqlite_synchronous: must be FULL, EXTRA or NORMAL, got {sync_mode!r}")
    log_level = _get(raw, "log_level", "", str, "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"log_level: must be DEBUG, INFO, WARNING or ERROR, got {log_level!r}")

    room_version = _get(raw, "default_room_version", "", str, "12")
    from myelin.protocol.room_versions import KNOWN_ROOM_VERSIONS

    if room_version not in KNOWN_ROOM_VERSIONS:
        raise ConfigError(f"default_room_version: {room_version!r} is not a known room version "
                          f"({', '.join(KNOWN_ROOM_VERSIONS)})")

    return Config(
        server_name=server_name,
        data_dir=data_dir,
        listen_host=host,
        listen_port=port,
        public_baseurl=public_baseurl,
        database_url=database_url,
        signing_key_path=signing_key_path,
        max_request_body_bytes=max_body,
        registration=registration,
        auth=auth,
        rate_limits_enabled=enabled,
        rate_limits=rate_limits,
        identity_server=identity_server,
        support_contacts=tuple(contacts),
        support_page=support_page,
        sqlite_synchronous=sync_mode,
        log_level=log_level,
        access_log=_get(raw, "access_log", "", bool, False),
        default_room_version=room_version,
    )


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate a config file; raises ConfigError with a one-line message."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such file (create one with 'myelin generate-config')") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{p}: cannot be read: {e}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(f"{p}: not valid YAML{where}: {problem}") from None
    return parse_config(raw, base_dir=p.parent.resolve())


def render_default_config(
    *,
    server_name: str,
    data_dir: Path,
    listen_host: str,
    listen_port: int,
    database_url: str | None,
    enable_registration: bool,
    disable_rate_limits: bool,
) -> str:
    """The commented YAML that ``myelin generate-config`` writes."""
    db_line = database_url or f"sqlite:///{data_dir / 'myelin.db'}"
    base = (f"http://{server_name}:{listen_port}/" if server_name == "localhost"
            else f"https://{server_name}/")
    return f"""\
# Myelin configuration. Every setting has a default; this file lists the ones
# you are most likely to change. Full reference: docs/configuration.md.

# The domain in your users' IDs (@alice:{server_name}). It cannot be changed later.
server_name: "{server_name}"

# Where Myelin keeps its database (SQLite), signing key and media.
data_dir: "{data_dir}"

# Where the HTTP listener binds. Put a TLS-terminating reverse proxy in front of it.
listen:
  host: "{listen_host}"
  port: {listen_port}

# The URL clients use to reach this server (advertised in /.well-known/matrix/client).
public_baseurl: "{base}"

# sqlite:///absolute/path.db (embedded, the default) or
# postgresql://user@host:5432/dbname (for real deployments).
database:
  url: "{db_line}"

# Ed25519 key that signs this server's events. Keep it secret and back it up.
signing_key_path: "{data_dir / 'signing.key'}"

# Requests with larger bodies are refused with 413 M_TOO_LARGE.
max_request_body_bytes: 1048576

registration:
  # Open sign-up. Off by default: create accounts with 'myelin register-user'.
  enabled: {str(enable_registration).lower()}
  # Require a registration token (m.login.registration_token) to sign up.
  # Create tokens with 'myelin registration-token -c CONFIG'.
  require_token: false
  # Let clients register guest accounts (kind=guest).
  allow_guests: false
  # Policies users must accept at sign-up (m.login.terms), for example:
  # terms:
  #   privacy_policy:
  #     version: "1.0"
  #     en: {{name: "Privacy Policy", url: "https://example.org/privacy-1.0.html"}}

auth:
  # Minimum password length for registration and password changes.
  password_min_length: 8
  # Lifetime of access tokens issued with a refresh token (clients asked for refresh_token: true).
  refreshable_access_token_lifetime_ms: 300000
  # Lifetime of single-use login tokens from /login/get_token.
  login_token_lifetime_ms: 120000

rate_limits:
  # Requests over a limit are answered 429 M_LIMIT_EXCEEDED with Retry-After.
  enabled: {str(not disable_rate_limits).lower()}
  # Per action: burst requests at once, refilled at per_second. For example:
  # login: {{per_second: 0.17, burst: 3}}
  # message: {{per_second: 10, burst: 50}}

# well_known:
#   identity_server: "https://vector.im"

# Contacts published at /.well-known/matrix/support.
# support:
#   contacts:
#     - role: m.role.admin
#       matrix_id: "@admin:{server_name}"
#   support_page: "https://{server_name}/support"

# FULL: every acknowledged write survives power loss. NORMAL: survives a crash of Myelin.
sqlite_synchronous: FULL

log_level: INFO
"""
