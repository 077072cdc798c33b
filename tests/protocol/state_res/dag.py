"""An in-memory room DAG for state resolution tests.

Events are plain PDU dicts with readable, caller-chosen IDs (``"$PA"``). A
:class:`Branch` is one line of history: it keeps the state after its last event,
picks ``auth_events`` from that state the way server-server-api.md §Auth events
selection says, and by default checks every new event with the test double so the
scenarios are realistic. Forking a branch copies its state and head.

For room versions whose create event is the room ID (v12), the create event is
not put in ``auth_events`` and ``room_id`` is derived from its ID; for v1-v2 event
references are ``[event_id, {"sha256": ...}]`` pairs.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence, Set
from typing import Any

from myelin.protocol.errors import Forbidden
from myelin.protocol.room_versions import RoomVersion
from myelin.protocol.state_res import resolve
from tests.protocol.state_res.auth_double import check_auth_double

StateKey = tuple[str, str]

ALICE = "@alice:example.org"
BOB = "@bob:example.org"
CHARLIE = "@charlie:example.org"
ELLA = "@ella:example.org"
ZARA = "@zara:example.org"

PL = ("m.room.power_levels", "")
JR = ("m.room.join_rules", "")
TOPIC = ("m.room.topic", "")
CREATE = ("m.room.create", "")


def member(user: str) -> StateKey:
    return ("m.room.member", user)


class RoomDag:
    """All events of one test room, plus helpers to resolve state over them."""

    def __init__(self, version: RoomVersion, *, start_ts: int = 1_000) -> None:
        self.version = version
        self.events: dict[str, dict[str, Any]] = {}
        self.rejected: set[str] = set()
        self._ts = itertools.count(start_ts)
        self._auto_id = itertools.count(1)
        self.room_id = "!room:example.org"

    # -- lookups injected into the code under test -------------------------------------------

    def fetch(self, event_id: str) -> dict[str, Any] | None:
        return self.events.get(event_id)

    def is_rejected(self, event_id: str) -> bool:
        return event_id in self.rejected

    def resolve(self, *state_sets: Mapping[StateKey, str], **kwargs: Any) -> dict[StateKey, str]:
        return resolve(self.version, list(state_sets), self.fetch, check_auth_double, **kwargs)

    # -- building ------------------------------------------------------------------------------

    def _refs(self, ids: Iterable[str]) -> list[Any]:
        if self.version.event_format.event_refs_with_hashes:
            return [[event_id, {"sha256": "unused"}] for event_id in ids]
        return list(ids)

    def build(
        self,
        event_id: str | None,
        event_type: str,
        sender: str,
        content: dict[str, Any],
        *,
        state_key: str | None,
        prev_events: Sequence[str],
        auth_events: Sequence[str],
        ts: int | None = None,
    ) -> dict[str, Any]:
        event_id = event_id or f"$ev{next(self._auto_id)}"
        assert event_id not in self.events, f"duplicate event ID {event_id}"
        event: dict[str, Any] = {
            "event_id": event_id,
            "type": event_type,
            "sender": sender,
            "content": content,
            "origin_server_ts": next(self._ts) if ts is None else ts,
            "prev_events": self._refs(prev_events),
            "auth_events": self._refs(auth_events),
            "depth": 1
            + max((self.events[p]["depth"] for p in prev_events if p in self.events), default=0),
            "hashes": {"sha256": "unused"},
            "signatures": {},
        }
        if state_key is not None:
            event["state_key"] = state_key
        if event_type != "m.room.create" or not self._create_is_room_id:
            event["room_id"] = self.room_id
        self.events[event_id] = event
        return event

    @property
    def _create_is_room_id(self) -> bool:
        return self.version.authorization.room_create_event_id_as_room_id

    def create_room(
        self,
        *,
        creator: str = ALICE,
        members: Iterable[str] = (BOB, CHARLIE),
        users: Mapping[str, int] | None = None,
        join_rule: str = "public",
    ) -> Branch:
        """The usual start: create, creator joins, power levels, join rules, members join.

        Event IDs: ``$CREATE``, ``$IMA`` (creator's join), ``$IPOWER``, ``$IJR`` and
        ``$IM<initial>`` for each member (``$IMB``, ``$IMC``...).
        """
        content: dict[str, Any] = {"room_version": self.version.identifier}
        if not self.version.authorization.implicit_room_creator:
            content["creator"] = creator
        create = self.build(
            "$CREATE",
            "m.room.create",
            creator,
            content,
            state_key="",
            prev_events=[],
            auth_events=[],
        )
        if self._create_is_room_id:
            self.room_id = "!" + create["event_id"][1:]
        branch = Branch(self, {CREATE: "$CREATE"}, ["$CREATE"])
        branch.send("$IMA", "m.room.member", creator, {"membership": "join"}, state_key=creator)
        levels = dict(users or {})
        if not self.version.authorization.privileged_creators:
            levels.setdefault(creator, 100)
        branch.send(
            "$IPOWER",
            "m.room.power_levels",
            creator,
            {"users": levels, "state_default": 50, "ban": 50, "kick": 50},
            state_key="",
        )
        branch.send("$IJR", "m.room.join_rules", creator, {"join_rule": join_rule}, state_key="")
        for user in members:
            branch.join(user, f"$IM{user[1].upper()}")
        return branch


class Branch:
    """One line of history with its current state."""

    def __init__(self, dag: RoomDag, state: dict[StateKey, str], heads: list[str]) -> None:
        self.dag = dag
        self.state = state
        self.heads = heads

    def fork(self) -> Branch:
        return Branch(self.dag, dict(self.state), list(self.heads))

    def auth_keys(self, event_type: str, sender: str, state_key: str | None, content: Any) -> list:
        """server-server-api.md §Auth events selection, written out for the fixtures."""
        keys: list[StateKey] = []
        if not self.dag._create_is_room_id:
            keys.append(CREATE)
        keys += [PL, member(sender)]
        if event_type == "m.room.member" and state_key is not None:
            keys.append(member(state_key))
            if content.get("membership") in ("join", "invite"):
                keys.append(JR)
        return list(dict.fromkeys(keys))

    def send(
        self,
        event_id: str | None,
        event_type: str,
        sender: str,
        content: dict[str, Any],
        *,
        state_key: str | None = None,
        ts: int | None = None,
        check: bool = True,
        auth_state: Mapping[StateKey, str] | None = None,
    ) -> str:
        """Append an event to this branch.

        Args:
            event_id: Its ID (auto-generated when ``None``).
            event_type: ``type``.
            sender: ``sender``.
            content: ``content``.
            state_key: ``state_key`` (``None`` for a message event).
            ts: ``origin_server_ts`` (default: the next tick of the room's clock).
            check: Run the test double against the branch state and raise
                ``Forbidden`` if it refuses (set ``False`` to plant a bad event).
            auth_state: State to pick ``auth_events`` from instead of the branch's.

        Returns:
            The event ID.
        """
        source = self.state if auth_state is None else auth_state
        keys = self.auth_keys(event_type, sender, state_key, content)
        auth_ids = [source[key] for key in keys if key in source]
        event = self.dag.build(
            event_id,
            event_type,
            sender,
            content,
            state_key=state_key,
            prev_events=self.heads,
            auth_events=auth_ids,
            ts=ts,
        )
        if check:
            auth_events = {key: self.dag.events[source[key]] for key in keys if key in source}
            if self.dag._create_is_room_id:
                auth_events[CREATE] = self.dag.events["$CREATE"]
            try:
                check_auth_double(self.dag.version, event, auth_events)
            except Forbidden:
                del self.dag.events[event["event_id"]]
                raise
        self.heads = [event["event_id"]]
        if state_key is not None:
            self.state[(event_type, state_key)] = event["event_id"]
        return event["event_id"]

    # -- shorthands --------------------------------------------------------------------------

    def join(self, user: str, event_id: str | None = None, **kw: Any) -> str:
        return self.send(
            event_id, "m.room.member", user, {"membership": "join"}, state_key=user, **kw
        )

    def membership(
        self, event_id: str | None, sender: str, target: str, membership: str, **kw: Any
    ) -> str:
        return self.send(
            event_id, "m.room.member", sender, {"membership": membership}, state_key=target, **kw
        )

    def power_levels(
        self, event_id: str | None, sender: str, users: Mapping[str, int], **kw: Any
    ) -> str:
        """A power-levels event like ``$IPOWER`` with a new ``users`` map."""
        content = dict(self.dag.events[self.state[PL]]["content"])
        content["users"] = dict(users)
        return self.send(event_id, "m.room.power_levels", sender, content, state_key="", **kw)

    def topic(self, event_id: str | None, sender: str, topic: str, **kw: Any) -> str:
        return self.send(event_id, "m.room.topic", sender, {"topic": topic}, state_key="", **kw)

    def join_rules(self, event_id: str | None, sender: str, rule: str, **kw: Any) -> str:
        return self.send(
            event_id, "m.room.join_rules", sender, {"join_rule": rule}, state_key="", **kw
        )


def naive_auth_chain(dag: RoomDag, event_ids: Iterable[str]) -> Set[str]:
    """The union of the auth chains of ``event_ids``, by plain BFS (test oracle)."""
    seen: set[str] = set()
    todo = []
    for event_id in event_ids:
        todo.extend(_ids(dag.events[event_id]["auth_events"]))
    while todo:
        event_id = todo.pop()
        if event_id not in seen:
            seen.add(event_id)
            todo.extend(_ids(dag.events[event_id]["auth_events"]))
    return seen


def _ids(refs: list[Any]) -> list[str]:
    return [ref if isinstance(ref, str) else ref[0] for ref in refs]
