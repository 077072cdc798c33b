"""User-Interactive Authentication (Client-Server API §User-Interactive Authentication API).

A session is bound to one endpoint and one request: the body (without ``auth``)
of the first call is kept, a later call with a different body is refused, and a
call that sends only ``auth`` continues with the kept body. Sessions live in
memory, never on disk (the kept body may hold a password); they expire after
``uia_session_lifetime_ms`` and are consumed by the call they authorise.

Stages are completed in the order of a flow; a completed stage is never
re-checked; a failed stage answers 401 with the flows and the error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from myelin.clock import Clock
from myelin.protocol.errors import Forbidden, ProtocolError, UnknownError
from myelin.services.secrets import new_session_id

DUMMY = "m.login.dummy"
PASSWORD = "m.login.password"
REGISTRATION_TOKEN = "m.login.registration_token"
TERMS = "m.login.terms"


class UiaRequired(ProtocolError):
    """The 401 answer of a UIA endpoint: flows, params, session, completed (+ error)."""

    errcode = "M_FORBIDDEN"
    status_hint = 401

    def __init__(self, body: dict[str, Any], error: ProtocolError | None = None) -> None:
        super().__init__(error.message if error else "Additional authentication required")
        self.body = dict(body)
        if error is not None:
            self.body["errcode"] = error.errcode
            self.body["error"] = error.message

    def to_body(self) -> dict[str, Any]:
        return self.body


class StageFailed(Exception):
    """Raised by a stage checker: the stage was tried and failed; the client may retry."""

    def __init__(self, error: ProtocolError) -> None:
        super().__init__(error.message)
        self.error = error


# A stage checker gets the auth dict and the session; returns a result to remember
# (e.g. the user ID a password proved) or raises StageFailed.
StageChecker = Callable[[dict[str, Any], "UiaSession"], Awaitable[Any]]


@dataclass
class UiaSession:
    id: str
    endpoint: str
    body: dict[str, Any]
    created_ms: int
    owner: str | None = None
    flows: list[list[str]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    completed: list[str] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UiaOutcome:
    """What the finished session proved, and the request body to act on."""

    session: UiaSession
    body: dict[str, Any]


class UiaService:
    MAX_SESSIONS = 10_000

    def __init__(self, *, clock: Clock, lifetime_ms: int) -> None:
        self._clock = clock
        self._lifetime_ms = lifetime_ms
        self._sessions: dict[str, UiaSession] = {}

    def _expire(self) -> None:
        cutoff = self._clock.time_msec() - self._lifetime_ms
        for sid in [s.id for s in self._sessions.values() if s.created_ms < cutoff]:
            del self._sessions[sid]
        while len(self._sessions) > self.MAX_SESSIONS:
            del self._sessions[next(iter(self._sessions))]

    def get(self, session_id: str) -> UiaSession | None:
        self._expire()
        return self._sessions.get(session_id)

    def _challenge(self, session: UiaSession, flows: list[list[str]],
                   params: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "flows": [{"stages": list(f)} for f in flows],
            "params": params,
            "session": session.id,
        }
        if session.completed:
            body["completed"] = list(session.completed)
        return body

    async def authenticate(
        self,
        *,
        endpoint: str,
        body: dict[str, Any],
        flows: list[list[str]],
        params: dict[str, Any],
        checkers: dict[str, StageChecker],
        owner: str | None = None,
    ) -> UiaOutcome:
        """Run one round of UIA for a request; returns when a flow is complete, else raises
        UiaRequired (401). ``endpoint`` is "METHOD path" and binds the session."""
        self._expire()
        auth = body.get("auth")
        request_body = {k: v for k, v in body.items() if k != "auth"}
        if auth is not None and not isinstance(auth, dict):
            raise ProtocolError("'auth' must be an object", errcode="M_BAD_JSON")

        session: UiaSession | None = None
        session_id = auth.get("session") if auth else None
        if session_id is not None:
            if not isinstance(session_id, str):
                raise ProtocolError("'auth.session' must be a string", errcode="M_BAD_JSON")
            session = self._sessions.get(session_id)
            if session is None:
                # An unknown or expired session: start afresh, telling the client why.
                fresh = self._new_session(endpoint, request_body, owner, flows, params)
                raise UiaRequired(self._challenge(fresh, flows, params), UnknownError(
                    "Unknown or expired authentication session; start again with this one"))
            if session.endpoint != endpoint or session.owner != owner:
                raise Forbidden("This authentication session belongs to another operation")
            if request_body and request_body != session.body:
                raise Forbidden("Requested operation has changed during the UI authentication "
                                "session")
        if session is None:
            session = self._new_session(endpoint, request_body, owner, flows, params)

        if not auth or "type" not in auth:
            if self._finished(session, flows):
                return self._finish(session)
            raise UiaRequired(self._challenge(session, flows, params))

        await self._run_stage(session, auth, checkers)
        if self._finished(session, flows):
            return self._finish(session)
        raise UiaRequired(self._challenge(session, flows, params))

    async def _run_stage(self, session: UiaSession, auth: dict[str, Any],
                         checkers: dict[str, StageChecker]) -> None:
        flows, params = session.flows, session.params
        stage = auth["type"]
        if not isinstance(stage, str):
            raise ProtocolError("'auth.type' must be a string", errcode="M_BAD_JSON")
        if stage in session.completed:
            return  # §UIA: completed stages are not retried
        allowed_next = {f[len(session.completed)] for f in flows
                        if f[: len(session.completed)] == session.completed
                        and len(f) > len(session.completed)}
        if stage not in allowed_next or stage not in checkers:
            raise UiaRequired(self._challenge(session, flows, params), ProtocolError(
                f"Stage {stage} is not expected now (expected one of: "
                f"{', '.join(sorted(allowed_next)) or 'none'})", errcode="M_UNRECOGNIZED"))
        try:
            session.results[stage] = await checkers[stage](auth, session)
        except StageFailed as failed:
            raise UiaRequired(self._challenge(session, flows, params), failed.error) from None
        session.completed.append(stage)

    def _new_session(self, endpoint: str, body: dict[str, Any], owner: str | None,
                     flows: list[list[str]], params: dict[str, Any]) -> UiaSession:
        session = UiaSession(id=new_session_id(), endpoint=endpoint, body=body,
                             created_ms=self._clock.time_msec(), owner=owner, flows=flows,
                             params=params)
        self._sessions[session.id] = session
        return session

    @staticmethod
    def _finished(session: UiaSession, flows: list[list[str]]) -> bool:
        return any(session.completed == f for f in flows)

    def _finish(self, session: UiaSession) -> UiaOutcome:
        self._sessions.pop(session.id, None)
        return UiaOutcome(session=session, body=session.body)

    def discard(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)

    async def submit_out_of_band(self, session_id: str, auth: dict[str, Any],
                                 checkers: dict[str, StageChecker]) -> UiaSession:
        """A stage completed through the fallback web page (§Fallback). Raises UiaRequired
        (with the error) if the stage fails or is out of order, UnknownError if the session
        is unknown."""
        session = self.get(session_id)
        if session is None:
            raise UnknownError("Unknown or expired authentication session")
        await self._run_stage(session, auth, checkers)
        return session
