"""Scenario sizes: the defaults of ``make bench``, the small ones of ``--quick``, and flags.

Each size is a command-line flag (``--send-messages 500``); a flag given explicitly wins
over both presets.
"""

import argparse
from dataclasses import dataclass, fields


@dataclass
class Sizes:
    """How much work each scenario does; ``help`` metadata becomes the flag's help."""

    rounds: int = 2
    register_users: int = 100
    login_count: int = 100
    auth_concurrency: int = 4
    create_rooms: int = 100
    create_concurrency: int = 4
    send_messages: int = 1000
    send_senders: int = 10
    send_rooms: int = 100
    fanout_users: int = 50
    fanout_messages: int = 20
    initial_sync_rooms: int = 200
    initial_sync_events: int = 20
    initial_sync_repeats: int = 3
    initial_sync_limit: int = 1
    incremental_syncs: int = 200
    messages_events: int = 1000
    messages_page: int = 50
    join_users: int = 500
    join_window: int = 50
    scenario_timeout: float = 180.0
    setup_timeout: float = 600.0
    settle: float = 0.5


QUICK = Sizes(
    rounds=2,
    register_users=16,
    login_count=16,
    create_rooms=10,
    send_messages=200,
    send_rooms=20,
    fanout_users=10,
    fanout_messages=5,
    initial_sync_rooms=20,
    initial_sync_events=10,
    initial_sync_repeats=2,
    incremental_syncs=30,
    messages_events=200,
    join_users=40,
    join_window=10,
    scenario_timeout=30.0,
    setup_timeout=90.0,
    settle=0.2,
)

HELP = {
    "rounds": "rounds per scenario; each round runs every server once (A B A B ...)",
    "register_users": "register: users registered per round",
    "login_count": "login: password logins per round",
    "auth_concurrency": "register/login: concurrent requests",
    "create_rooms": "create_room: rooms created per round",
    "create_concurrency": "create_room: concurrent requests",
    "send_messages": "send_*: messages sent per round",
    "send_senders": "send_*: concurrent senders (each its own user)",
    "send_rooms": "send_spread: rooms the messages are spread over",
    "fanout_users": "fanout: users long-polling /sync in the room",
    "fanout_messages": "fanout: messages sent per round (each waits for full delivery)",
    "initial_sync_rooms": "initial_sync/incremental_sync: rooms the user is in",
    "initial_sync_events": "initial_sync/incremental_sync: messages sent into each room",
    "initial_sync_repeats": "initial_sync: syncs per variant per round",
    "initial_sync_limit": "initial_sync: timeline limit of the filtered variant",
    "incremental_syncs": "incremental_sync: sequential empty syncs per round",
    "messages_events": "messages: events in the paginated room",
    "messages_page": "messages: page size (limit)",
    "join_users": "join_storm: users joining one room, one after another",
    "join_window": "join_storm: first/last N joins compared",
    "scenario_timeout": "wall-clock cap (s) of one measured round",
    "setup_timeout": "wall-clock cap (s) of one scenario's setup",
    "settle": "idle pause (s) before each measured round",
}


def add_size_flags(parser: argparse.ArgumentParser) -> None:
    """Add one ``--flag`` per size, defaulting to None (= use the preset)."""
    group = parser.add_argument_group("sizes (defaults: full run / --quick)")
    full = Sizes()
    for item in fields(Sizes):
        kind = float if isinstance(getattr(full, item.name), float) else int
        flag = "--" + item.name.replace("_", "-")
        group.add_argument(
            flag,
            type=kind,
            default=None,
            metavar="N",
            help=f"{HELP[item.name]} ({getattr(full, item.name)} / {getattr(QUICK, item.name)})",
        )


def sizes_from_args(args: argparse.Namespace) -> Sizes:
    """The preset chosen by ``--quick`` with explicitly given flags applied."""
    base = QUICK if args.quick else Sizes()
    values = {item.name: getattr(base, item.name) for item in fields(Sizes)}
    for name in values:
        given = getattr(args, name, None)
        if given is not None:
            values[name] = given
    return Sizes(**values)
