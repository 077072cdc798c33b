"""The benchmark scenarios. Each has an unmeasured ``setup`` (once per server), a measured
``run`` (once per round per server, metered from /proc) and a ``summarize`` into metrics.

Users come from a per-server pool (registered on demand, reused across scenarios) or are
dedicated to a scenario where the scenario's numbers depend on what else the user is in.
"""

import abc
import asyncio
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from bench.client import EndpointMissing, MatrixClient, ServerError, User
from bench.loadgen import Meter, NotAvailable, RoundResult, bounded_load, note_error, run_bounded
from bench.metrics import MB, Metric, Target, load_metrics, ms
from bench.servers import Server
from bench.sizes import Sizes

SEND_THROUGHPUT = Target("ratio_min", 5)
FIFTH = Target("ratio_max", 0.2, "1/5")
JOIN_FLAT = Target("value_max", 1.5)

# Endpoints each scenario needs, probed unauthenticated before anything runs: a server
# answering 404/405 M_UNRECOGNIZED lacks it. Room IDs in the paths are dummies.
_ROOM = "%21probe%3Alocalhost"
EP_REGISTER = ("POST", "/_matrix/client/v3/register")
EP_LOGIN = ("POST", "/_matrix/client/v3/login")
EP_CREATE = ("POST", "/_matrix/client/v3/createRoom")
EP_SEND = ("PUT", f"/_matrix/client/v3/rooms/{_ROOM}/send/m.room.message/probe")
EP_JOIN = ("POST", f"/_matrix/client/v3/rooms/{_ROOM}/join")
EP_SYNC = ("GET", "/_matrix/client/v3/sync")
EP_FILTER = ("POST", "/_matrix/client/v3/user/%40probe%3Alocalhost/filter")
EP_MESSAGES = ("GET", f"/_matrix/client/v3/rooms/{_ROOM}/messages")


@dataclass
class ServerContext:
    """One server under test as the scenarios see it: client, user pool, scenario state."""

    name: str
    server: Server
    client: MatrixClient
    sizes: Sizes
    pool: list[User] = field(default_factory=list)
    dedicated: dict[str, User] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    missing: dict[tuple[str, str], str] = field(default_factory=dict)
    peak_rss: int = 0
    idle_pids: list[int] = field(default_factory=list)
    _pool_counter: int = 0

    def meter(self, result: RoundResult) -> Meter:
        """A meter over this server's process tree (``idle_pids``: the other servers)."""
        return Meter(self.server.pid, result, [p for p in self.idle_pids if p != self.server.pid])

    def check_alive(self) -> None:
        """Raise NotAvailable if the server process died."""
        if not self.server.alive():
            raise NotAvailable("server died", self.server.exit_reason())

    async def ensure_users(self, count: int, deadline: float) -> list[User]:
        """At least ``count`` pooled users, registering what is missing (unmeasured)."""
        missing = count - len(self.pool)
        if missing > 0:

            async def register(_index: int, _worker: int) -> None:
                self._pool_counter += 1
                user, _ = await self.client.register(f"pool{self._pool_counter}")
                self.pool.append(user)

            await run_bounded(
                missing, self.sizes.auth_concurrency, deadline, register, "registering users"
            )
        return self.pool[:count]

    async def user(self, role: str) -> User:
        """A user dedicated to one role (e.g. the initial-sync user), registered once."""
        if role not in self.dedicated:
            self.dedicated[role], _ = await self.client.register(f"only{role}")
        return self.dedicated[role]


class Scenario(abc.ABC):
    """Base class: a named measurement with setup, rounds and summary."""

    name = ""
    description = ""
    endpoints: tuple[tuple[str, str], ...] = ()

    async def setup(self, ctx: ServerContext, deadline: float) -> None:  # noqa: B027
        """Unmeasured preparation, once per server (none by default)."""

    @abc.abstractmethod
    async def run(self, ctx: ServerContext, round_no: int, deadline: float) -> RoundResult:
        """One measured round."""

    @abc.abstractmethod
    def summarize(self, rounds: list[RoundResult], sizes: Sizes) -> list[Metric]:
        """Metrics over all rounds of one server."""


class Register(Scenario):
    """POST /register (dummy auth) of fresh users, a few at a time."""

    name = "register"
    description = (
        "{register_users} fresh users per round (m.login.dummy), {auth_concurrency} concurrent"
    )
    endpoints = (EP_REGISTER,)

    async def run(self, ctx: ServerContext, round_no: int, deadline: float) -> RoundResult:
        """Register ``register_users`` new users; they join the pool afterwards."""
        result = RoundResult()

        async def op(index: int, _worker: int) -> float:
            user, latency = await ctx.client.register(f"reg{round_no}x{index}")
            ctx.pool.append(user)
            return latency

        with ctx.meter(result):
            await bounded_load(
                result, ctx.sizes.register_users, ctx.sizes.auth_concurrency, deadline, op
            )
        return result

    def summarize(self, rounds: list[RoundResult], sizes: Sizes) -> list[Metric]:
        """Standard load metrics."""
        return load_metrics(rounds, "registrations")


class Login(Scenario):
    """POST /login with a password, each creating a new device."""

    name = "login"
    description = "{login_count} password logins per round, {auth_concurrency} concurrent"
    endpoints = (EP_REGISTER, EP_LOGIN)

    async def setup(self, ctx: ServerContext, deadline: float) -> None:
        """Users to log in as."""
        await ctx.ensure_users(min(ctx.sizes.login_count, 50), deadline)

    async def run(self, ctx: ServerContext, round_no: int, deadline: float) -> RoundResult:
        """``login_count`` logins, cycling through the pool."""
        result = RoundResult()
        users = list(ctx.pool)

        async def op(index: int, _worker: int) -> float:
            _, latency = await ctx.client.login(users[index % len(users)].localpart)
            return latency

        with ctx.meter(result):
            await bounded_load(
                result, ctx.sizes.login_count, ctx.sizes.auth_concurrency, deadline, op
            )
        return result

    def summarize(self, rounds: list[RoundResult], sizes: Sizes) -> list[Metric]:
        """Standard load metrics."""
        return load_metrics(rounds, "logins")


class CreateRoom(Scenario):
    """POST /createRoom (private_chat preset) by one user."""

    name = "create_room"
    description = (
        "{create_rooms} createRoom (private_chat) per round by one user, "
        "{create_concurrency} concurrent"
    )
    endpoints = (EP_REGISTER, EP_CREATE)

    async def run(self, ctx: ServerContext, round_no: int, deadline: float) -> RoundResult:
        """Create ``create_rooms`` rooms."""
        creator = await ctx.user("creator")
        result = RoundResult()

        async def op(_index: int, _worker: int) -> float:
            _, latency = await ctx.client.create_room(creator)
            return latency

        with ctx.meter(result):
            await bounded_load(
                result, ctx.sizes.create_rooms, ctx.sizes.create_concurrency, deadline, op
            )
        return result

    def summarize(self, rounds: list[RoundResult], sizes: Sizes) -> list[Metric]:
        """Standard load metrics."""
        return load_metrics(rounds, "rooms")


class SendOneRoom(Scenario):
    """Concurrent senders, each its own user, all into one room."""

    name = "send_one_room"
    description = "{send_messages} messages from {send_senders} concurrent senders into one room"
    endpoints: tuple[tuple[str, str], ...] = (EP_REGISTER, EP_CREATE, EP_JOIN, EP_SEND)

    async def setup(self, ctx: ServerContext, deadline: float) -> None:
        """The senders and one public room they have all joined."""
        senders = await ctx.ensure_users(ctx.sizes.send_senders, deadline)
        room, _ = await ctx.client.create_room(senders[0], preset="public_chat")

        async def join(index: int, _worker: int) -> None:
            await ctx.client.join(senders[index + 1], room)

        await run_bounded(len(senders) - 1, 4, deadline, join, "joining senders")
        ctx.state[self.name] = (senders, [[room]] * len(senders))

    async def run(self, ctx: ServerContext, round_no: int, deadline: float) -> RoundResult:
        """``send_messages`` sends; worker w sends as sender w into its rooms in turn."""
        senders, rooms = ctx.state[self.name]
        result = RoundResult()

        async def op(index: int, worker: int) -> float:
            mine = rooms[worker]
            room = mine[(index // len(senders)) % len(mine)]
            return await ctx.client.send_text(senders[worker], room, f"msg {round_no} {index}")

        with ctx.meter(result):
            await bounded_load(result, ctx.sizes.send_messages, len(senders), deadline, op)
        return result

    def summarize(self, rounds: list[RoundResult], sizes: Sizes) -> list[Metric]:
        """Load metrics with the issue's send targets."""
        return load_metrics(
            rounds, "sends", throughput_target=SEND_THROUGHPUT, p99_target=FIFTH, cpu_target=FIFTH
        )


class SendSpread(SendOneRoom):
    """The same senders, the messages spread over many rooms (each sender owns some)."""

    name = "send_spread"
    description = (
        "{send_messages} messages from {send_senders} concurrent senders over {send_rooms} rooms"
    )
    endpoints: tuple[tuple[str, str], ...] = (EP_REGISTER, EP_CREATE, EP_SEND)

    async def setup(self, ctx: ServerContext, deadline: float) -> None:
        """``send_rooms`` rooms, room j created by (and sent to by) sender j mod senders."""
        count = ctx.sizes.send_senders
        senders = await ctx.ensure_users(count, deadline)
        rooms: list[list[str]] = [[] for _ in senders]

        async def create(index: int, _worker: int) -> None:
            room, _ = await ctx.client.create_room(senders[index % count])
            rooms[index % count].append(room)

        await run_bounded(max(ctx.sizes.send_rooms, count), 4, deadline, create, "creating rooms")
        ctx.state[self.name] = (senders, rooms)


class Fanout(Scenario):
    """One sender, many users long-polling /sync in the room: send-to-delivered latency."""

    name = "fanout"
    description = (
        "{fanout_users} users long-polling /sync, one sender, {fanout_messages} messages per "
        "round; latency from send to each user's /sync delivering it"
    )
    endpoints = (EP_REGISTER, EP_CREATE, EP_JOIN, EP_SEND, EP_SYNC)
    per_message_timeout = 10.0

    async def setup(self, ctx: ServerContext, deadline: float) -> None:
        """The sender and the receivers."""
        await ctx.ensure_users(ctx.sizes.fanout_users + 1, deadline)

    async def run(self, ctx: ServerContext, round_no: int, deadline: float) -> RoundResult:
        """A fresh room per round; receivers join and long-poll; sends wait for delivery."""
        users = ctx.pool[: ctx.sizes.fanout_users + 1]
        sender, receivers = users[0], users[1:]
        client = ctx.client
        room, _ = await client.create_room(sender, preset="public_chat")
        setup_deadline = time.monotonic() + ctx.sizes.setup_timeout

        async def join(index: int, _worker: int) -> None:
            await client.join(receivers[index], room)

        await run_bounded(len(receivers), 4, setup_deadline, join, "joining receivers")
        tokens: list[str] = [""] * len(receivers)

        async def first_sync(index: int, _worker: int) -> None:
            tokens[index] = (await client.sync(receivers[index])).body["next_batch"]

        await run_bounded(len(receivers), 4, setup_deadline, first_sync, "first syncs")

        total = ctx.sizes.fanout_messages
        bodies = {f"fanout {round_no} {i}": i for i in range(total + 1)}  # 0 is the warm-up
        sent_at = [0.0] * (total + 1)
        counts = [0] * (total + 1)
        done = [asyncio.Event() for _ in range(total + 1)]
        result = RoundResult(planned=total * len(receivers))
        stop = False

        # A bound on polls per listener, in case a server answers long-polls at once.
        max_polls = 50 * (total + 1) + 100

        async def listen(index: int) -> None:
            since = tokens[index]
            errors = 0
            for _ in range(max_polls):
                if stop:
                    return
                try:
                    resp = await client.sync(receivers[index], since, timeout_ms=30000)
                except ServerError as exc:
                    errors += 1
                    if errors > 5 or isinstance(exc, EndpointMissing):
                        raise
                    await asyncio.sleep(0.2)
                    continue
                now = time.perf_counter()
                since = resp.body["next_batch"]
                joined = resp.body.get("rooms", {}).get("join", {})
                events = joined.get(room, {}).get("timeline", {}).get("events", [])
                for event in events:
                    number = bodies.get(str(event.get("content", {}).get("body")))
                    if number is None:
                        continue
                    counts[number] += 1
                    if number > 0:
                        result.latencies.append(now - sent_at[number])
                    if counts[number] == len(receivers):
                        done[number].set()

        listeners = [asyncio.create_task(listen(i)) for i in range(len(receivers))]
        try:
            # Warm-up: once everyone has message 0, every receiver is long-polling.
            await client.send_text(sender, room, f"fanout {round_no} 0")
            await self._wait(done[0], listeners, 30.0, "warm-up message never delivered to all")
            with ctx.meter(result):
                for number in range(1, total + 1):
                    if time.monotonic() >= deadline:
                        result.truncated = True
                        break
                    sent_at[number] = time.perf_counter()
                    try:
                        await client.send_text(sender, room, f"fanout {round_no} {number}")
                    except ServerError as exc:
                        note_error(result, exc, total)
                        continue
                    try:
                        await self._wait(done[number], listeners, self.per_message_timeout, "")
                    except TimeoutError:
                        result.extra["undelivered"] = result.extra.get("undelivered", 0) + (
                            len(receivers) - counts[number]
                        )
        finally:
            stop = True
            for task in listeners:
                task.cancel()
            await asyncio.gather(*listeners, return_exceptions=True)
        result.ops = len(result.latencies)
        return result

    @staticmethod
    async def _wait(
        event: asyncio.Event, listeners: list["asyncio.Task[None]"], seconds: float, fail: str
    ) -> None:
        """Wait for ``event``; surface a listener's crash; on timeout raise (fail: n/a)."""
        waiter = asyncio.create_task(event.wait())
        try:
            finished, _ = await asyncio.wait(
                [waiter, *listeners], timeout=seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            waiter.cancel()
        for task in finished:
            if task is not waiter and task.exception() is not None:
                exc = task.exception()
                assert exc is not None
                if isinstance(exc, EndpointMissing):
                    raise NotAvailable(f"lacks {exc.method} {exc.path}", str(exc))
                raise NotAvailable("sync failed", str(exc))
        if waiter not in finished:
            if fail:
                raise NotAvailable("fan-out failed", fail)
            raise TimeoutError

    def summarize(self, rounds: list[RoundResult], sizes: Sizes) -> list[Metric]:
        """Delivery latency percentiles, deliveries/s, CPU per 1,000 deliveries."""
        metrics = load_metrics(rounds, "deliveries", p99_target=FIFTH)
        lost = sum(r.extra.get("undelivered", 0) for r in rounds)
        return [*metrics, Metric("undelivered", "", float(lost), "lower")]


async def _isync_rooms(ctx: ServerContext, deadline: float) -> tuple[User, list[str]]:
    """The initial-sync user and its rooms, each holding ``initial_sync_events`` messages."""
    if "isync" in ctx.state:
        return ctx.state["isync"]  # type: ignore[no-any-return]
    user = await ctx.user("isync")
    rooms: list[str] = []

    async def create(_index: int, _worker: int) -> None:
        room, _ = await ctx.client.create_room(user)
        rooms.append(room)

    await run_bounded(ctx.sizes.initial_sync_rooms, 4, deadline, create, "creating rooms")

    async def send(index: int, _worker: int) -> None:
        await ctx.client.send_text(user, rooms[index % len(rooms)], f"history {index}")

    total = len(rooms) * ctx.sizes.initial_sync_events
    await run_bounded(total, 8, deadline, send, "filling rooms")
    ctx.state["isync"] = (user, rooms)
    return user, rooms


class InitialSync(Scenario):
    """A full /sync with no ``since`` by a user in many rooms, with and without a filter."""

    name = "initial_sync"
    description = (
        "initial /sync of a user in {initial_sync_rooms} rooms x {initial_sync_events} "
        "messages; unfiltered, and with a timeline limit {initial_sync_limit} filter"
    )
    endpoints = (EP_REGISTER, EP_CREATE, EP_SEND, EP_SYNC)

    async def setup(self, ctx: ServerContext, deadline: float) -> None:
        """The rooms, and the filter (if the server has the filter endpoint)."""
        user, _ = await _isync_rooms(ctx, deadline)
        definition = {"room": {"timeline": {"limit": ctx.sizes.initial_sync_limit}}}
        try:
            ctx.state["isync_filter"] = await ctx.client.upload_filter(user, definition)
        except EndpointMissing as exc:
            ctx.state["isync_filter"] = None
            ctx.state["isync_filter_missing"] = f"lacks {exc.method} {exc.path}"

    async def run(self, ctx: ServerContext, round_no: int, deadline: float) -> RoundResult:
        """``initial_sync_repeats`` syncs per variant, one at a time, each metered."""
        user, _ = ctx.state["isync"]
        result = RoundResult()
        variants: list[tuple[str, str | None]] = [("full", None)]
        if ctx.state["isync_filter"] is not None:
            variants.append(("limited", ctx.state["isync_filter"]))
        for variant, filter_id in variants:
            part = RoundResult()
            sizes: list[int] = []

            async def op(
                _index: int,
                _worker: int,
                filter_id: str | None = filter_id,
                sizes: list[int] = sizes,
            ) -> float:
                resp = await ctx.client.sync(user, filter_id=filter_id)
                sizes.append(resp.nbytes)
                return resp.seconds

            with ctx.meter(part):
                await bounded_load(part, ctx.sizes.initial_sync_repeats, 1, deadline, op)
            result.extra[variant] = {
                "latencies": part.latencies,
                "bytes": sizes,
                "cpu": part.cpu,
                "ops": part.ops,
            }
            for name in (
                "ops",
                "planned",
                "errors",
                "wall",
                "cpu",
                "client_cpu",
                "idle_server_cpu",
            ):
                setattr(result, name, getattr(result, name) + getattr(part, name))
            result.latencies += part.latencies
            result.peak_rss = max(result.peak_rss, part.peak_rss)
            result.truncated |= part.truncated
            result.first_error = result.first_error or part.first_error
        return result

    def summarize(self, rounds: list[RoundResult], sizes: Sizes) -> list[Metric]:
        """Median time and size of each variant, CPU per sync, peak RSS."""
        metrics: list[Metric] = []
        for variant in ("full", "limited"):
            parts = [r.extra[variant] for r in rounds if variant in r.extra]
            lat = [x for p in parts for x in p["latencies"]]
            nbytes = [x for p in parts for x in p["bytes"]]
            ops = sum(p["ops"] for p in parts)
            cpu = sum(p["cpu"] for p in parts)
            note = "" if parts else "no filter endpoint"
            metrics += [
                Metric(
                    f"{variant}: time p50",
                    "ms",
                    ms(statistics.median(lat)) if lat else None,
                    "lower",
                    FIFTH,
                    note,
                ),
                Metric(
                    f"{variant}: size",
                    "KB",
                    statistics.median(nbytes) / 1024 if nbytes else None,
                    "",
                    None,
                    note,
                ),
                Metric(
                    f"{variant}: CPU s/sync",
                    "",
                    cpu / ops if ops else None,
                    "lower",
                    None,
                    note,
                ),
            ]
        peak = max(r.peak_rss for r in rounds) / MB
        return [*metrics, Metric("peak RSS", "MB", peak, "lower")]


class IncrementalSync(Scenario):
    """/sync with ``since`` and timeout 0 when nothing happened, by the many-rooms user."""

    name = "incremental_sync"
    description = (
        "{incremental_syncs} sequential /sync?since=...&timeout=0 with nothing new, by the "
        "user in {initial_sync_rooms} rooms"
    )
    endpoints = (EP_REGISTER, EP_CREATE, EP_SEND, EP_SYNC)

    async def setup(self, ctx: ServerContext, deadline: float) -> None:
        """The many-rooms user and a ``since`` token from one initial sync."""
        user, _ = await _isync_rooms(ctx, deadline)
        ctx.state["incremental_since"] = (await ctx.client.sync(user)).body["next_batch"]

    async def run(self, ctx: ServerContext, round_no: int, deadline: float) -> RoundResult:
        """``incremental_syncs`` syncs, each from the previous answer's ``next_batch``."""
        user, _ = ctx.state["isync"]
        result = RoundResult()

        async def op(_index: int, _worker: int) -> float:
            resp = await ctx.client.sync(user, since=ctx.state["incremental_since"])
            ctx.state["incremental_since"] = resp.body["next_batch"]
            result.extra["bytes"] = resp.nbytes
            return resp.seconds

        with ctx.meter(result):
            await bounded_load(result, ctx.sizes.incremental_syncs, 1, deadline, op)
        return result

    def summarize(self, rounds: list[RoundResult], sizes: Sizes) -> list[Metric]:
        """Load metrics with the 1/5 target on the median."""
        return load_metrics(rounds, "syncs", p50_target=FIFTH, p99_target=FIFTH)


class Messages(Scenario):
    """GET /messages backwards through a whole room, page by page."""

    name = "messages"
    description = (
        "/messages dir=b through a room of {messages_events} messages, limit {messages_page}"
    )
    endpoints = (EP_REGISTER, EP_CREATE, EP_SEND, EP_MESSAGES)

    async def setup(self, ctx: ServerContext, deadline: float) -> None:
        """One room holding ``messages_events`` messages."""
        user = await ctx.user("pager")
        room, _ = await ctx.client.create_room(user)

        async def send(index: int, _worker: int) -> None:
            await ctx.client.send_text(user, room, f"history {index}")

        await run_bounded(ctx.sizes.messages_events, 4, deadline, send, "filling the room")
        ctx.state[self.name] = (user, room)

    async def run(self, ctx: ServerContext, round_no: int, deadline: float) -> RoundResult:
        """Paginate from the end to the room's creation; one operation = one page."""
        user, room = ctx.state[self.name]
        page = ctx.sizes.messages_page
        max_pages = ctx.sizes.messages_events // page + 20
        result = RoundResult(planned=max_pages)
        events = 0
        token: str | None = None
        with ctx.meter(result):
            for _ in range(max_pages):
                if time.monotonic() >= deadline:
                    result.truncated = True
                    break
                try:
                    resp = await ctx.client.messages(user, room, token, page)
                except ServerError as exc:
                    note_error(result, exc, max_pages)
                    continue
                result.ops += 1
                result.latencies.append(resp.seconds)
                chunk = resp.body.get("chunk", [])
                events += len(chunk)
                new_token = resp.body.get("end")
                if not chunk or not new_token or new_token == token:
                    break
                token = new_token
        result.planned = result.ops
        result.extra["events"] = events
        return result

    def summarize(self, rounds: list[RoundResult], sizes: Sizes) -> list[Metric]:
        """Page latency, events per second, CPU per 1,000 pages."""
        metrics = load_metrics(rounds, "pages")
        events = sum(r.extra.get("events", 0) for r in rounds)
        wall = sum(r.wall for r in rounds)
        return [Metric("events/s", "", events / wall if wall else None, "higher"), *metrics]


class JoinStorm(Scenario):
    """Many users join one public room one after another; does joining slow down?"""

    name = "join_storm"
    description = (
        "{join_users} users join one public room one at a time; mean join time of the first "
        "and last {join_window}"
    )
    endpoints = (EP_REGISTER, EP_CREATE, EP_JOIN)

    async def setup(self, ctx: ServerContext, deadline: float) -> None:
        """The joiners (pool) and the owner of the rooms."""
        await ctx.ensure_users(ctx.sizes.join_users, deadline)
        await ctx.user("joinowner")

    async def run(self, ctx: ServerContext, round_no: int, deadline: float) -> RoundResult:
        """A fresh public room per round; sequential joins, each timed."""
        owner = await ctx.user("joinowner")
        room, _ = await ctx.client.create_room(owner, preset="public_chat")
        users = ctx.pool[: ctx.sizes.join_users]
        result = RoundResult()

        async def op(index: int, _worker: int) -> float:
            return await ctx.client.join(users[index], room)

        with ctx.meter(result):
            await bounded_load(result, len(users), 1, deadline, op)
        return result

    def summarize(self, rounds: list[RoundResult], sizes: Sizes) -> list[Metric]:
        """Mean of the first and last window of joins, their ratio, and load metrics."""
        firsts: list[float] = []
        lasts: list[float] = []
        for r in rounds:
            window = min(sizes.join_window, len(r.latencies) // 2)
            if window:
                firsts += r.latencies[:window]
                lasts += r.latencies[-window:]
        first = ms(statistics.mean(firsts)) if firsts else None
        last = ms(statistics.mean(lasts)) if lasts else None
        ratio = last / first if first and last else None
        metrics = [
            Metric(f"first {sizes.join_window}: mean", "ms", first, "lower"),
            Metric(f"last {sizes.join_window}: mean", "ms", last, "lower"),
            Metric("last/first", "", ratio, "lower", JOIN_FLAT),
        ]
        return metrics + load_metrics(rounds, "joins")


SCENARIOS: list[Scenario] = [
    Register(),
    Login(),
    CreateRoom(),
    SendOneRoom(),
    SendSpread(),
    Fanout(),
    InitialSync(),
    IncrementalSync(),
    Messages(),
    JoinStorm(),
]
"""Every scenario, in the order they run (memory is measured around them all)."""
