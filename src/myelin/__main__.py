"""The ``myelin`` command: generate a config, run the server, manage accounts offline."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
from pathlib import Path

from myelin import __version__
from myelin.config import Config, ConfigError, load_config, render_default_config

DESCRIPTION = """\
Myelin, a Matrix homeserver.

Quick start:
  myelin generate-config --server-name example.org --data-dir ./data
  myelin register-user -c ./data/myelin.yaml alice --admin
  myelin run -c ./data/myelin.yaml

Clients (Element, FluffyChat, matrix-nio bots...) then connect to the listen address
(127.0.0.1:8008 by default; put a TLS reverse proxy in front of it for the internet).
"""


def _parse_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not (port.isascii() and port.isdigit()) or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="myelin", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"myelin {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    g = sub.add_parser(
        "generate-config", help="write DATA_DIR/myelin.yaml and a new signing key",
        description="Write a commented configuration file DATA_DIR/myelin.yaml and a fresh "
                    "Ed25519 signing key DATA_DIR/signing.key. Refuses to overwrite either.")
    g.add_argument("--server-name", required=True,
                   help="the domain in your users' IDs (@alice:SERVER_NAME); cannot change later")
    g.add_argument("--data-dir", required=True, type=Path,
                   help="directory for the config, the signing key and the SQLite database")
    g.add_argument("--listen", type=_parse_listen, default=("127.0.0.1", 8008),
                   metavar="HOST:PORT", help="where to serve HTTP (default 127.0.0.1:8008)")
    g.add_argument("--database-url", metavar="URL",
                   help="postgresql://user@host:5432/db (default: SQLite in DATA_DIR)")
    g.add_argument("--enable-registration", action="store_true",
                   help="let anyone create an account (off by default)")
    g.add_argument("--disable-rate-limits", action="store_true",
                   help="turn rate limiting off (for tests and benchmarks only)")

    r = sub.add_parser("run", help="serve the homeserver",
                       description="Start the homeserver with the given configuration.")
    r.add_argument("-c", "--config", required=True, type=Path, help="path to myelin.yaml")

    u = sub.add_parser(
        "register-user", help="create an account without going through the API",
        description="Create a local account directly in the database (works while registration "
                    "is closed). The password is read from --password-file, or asked for.")
    u.add_argument("-c", "--config", required=True, type=Path, help="path to myelin.yaml")
    u.add_argument("localpart", help="the part of the user ID before the colon")
    u.add_argument("--admin", action="store_true", help="make the account a server admin")
    u.add_argument("--password-file", type=Path,
                   help="file whose first line is the password ('-' for standard input)")
    u.add_argument("--no-password", action="store_true",
                   help="create the account without a password (cannot log in by password)")

    t = sub.add_parser(
        "registration-token", help="create a registration token (m.login.registration_token)",
        description="Create a token that lets someone register while "
                    "registration.require_token is on. Prints the token.")
    t.add_argument("-c", "--config", required=True, type=Path, help="path to myelin.yaml")
    t.add_argument("--token", help="the token text (default: 16 random characters)")
    t.add_argument("--uses", type=int, help="how many registrations it allows (default: any)")
    t.add_argument("--expiry-ms", type=int, help="expiry as a Unix time in milliseconds")
    return parser


def _fail(message: str) -> int:
    print(f"myelin: {message}", file=sys.stderr)
    return 2


def cmd_generate_config(args: argparse.Namespace) -> int:
    from myelin.protocol.events.signing import generate_signing_key, write_signing_keys
    from myelin.protocol.identifiers import is_valid_server_name
    from myelin.services.secrets import random_string

    if not is_valid_server_name(args.server_name):
        return _fail(f"--server-name: {args.server_name!r} is not a valid server name")
    data_dir: Path = args.data_dir.resolve()
    config_path = data_dir / "myelin.yaml"
    key_path = data_dir / "signing.key"
    for p in (config_path, key_path):
        if p.exists():
            return _fail(f"{p} exists already; refusing to overwrite it")
    data_dir.mkdir(parents=True, exist_ok=True)
    host, port = args.listen
    config_path.write_text(render_default_config(
        server_name=args.server_name, data_dir=data_dir, listen_host=host, listen_port=port,
        database_url=args.database_url, enable_registration=args.enable_registration,
        disable_rate_limits=args.disable_rate_limits), encoding="utf-8")
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(write_signing_keys([generate_signing_key("a_" + random_string(4))]))
    print(f"wrote {config_path} and {key_path}")
    return 0


def _load(path: Path) -> Config:
    return load_config(path)


def cmd_run(args: argparse.Namespace) -> int:
    import uvicorn

    from myelin.app import App

    config = _load(args.config)
    logging.basicConfig(level=config.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = App(config)
    server = uvicorn.Server(uvicorn.Config(
        app, host=config.listen_host, port=config.listen_port, loop="uvloop", http="httptools",
        lifespan="on", access_log=config.access_log, log_level=config.log_level.lower(),
        server_header=False, date_header=False, timeout_keep_alive=75))
    logging.getLogger(__name__).info("Myelin %s serving %s on http://%s:%d", __version__,
                                     config.server_name, config.listen_host, config.listen_port)
    server.run()
    return 0 if server.started else 1


async def _with_app(config: Config, action):  # type: ignore[no-untyped-def]
    from myelin.app import App

    app = App(config)
    await app.db.open()
    try:
        from myelin.storage.migrations import migrate

        await migrate(app.db)
        return await action(app)
    finally:
        await app.db.close()


def cmd_register_user(args: argparse.Namespace) -> int:
    from myelin.protocol.errors import ProtocolError

    config = _load(args.config)
    password: str | None
    if args.no_password:
        password = None
    elif args.password_file is not None:
        src = sys.stdin if str(args.password_file) == "-" else open(args.password_file, encoding="utf-8")
        with src:
            password = src.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Confirm password: ") != password:
            return _fail("the passwords differ")
    try:
        user_id = asyncio.run(_with_app(config, lambda app: app.accounts.register_offline(
            args.localpart, password, admin=args.admin)))
    except ProtocolError as e:
        return _fail(e.message)
    print(f"created {user_id}{' (admin)' if args.admin else ''}")
    return 0


def cmd_registration_token(args: argparse.Namespace) -> int:
    from myelin.protocol.errors import ProtocolError
    from myelin.storage.errors import Conflict

    config = _load(args.config)
    try:
        token = asyncio.run(_with_app(config, lambda app: app.accounts.create_registration_token(
            args.token, uses_allowed=args.uses, expiry_ts=args.expiry_ms)))
    except ProtocolError as e:
        return _fail(e.message)
    except Conflict:
        return _fail("that token exists already")
    print(token)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    commands = {"generate-config": cmd_generate_config, "run": cmd_run,
                "register-user": cmd_register_user,
                "registration-token": cmd_registration_token}
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return commands[args.command](args)
    except ConfigError as e:
        return _fail(f"config: {e}")
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
