"""Domain errors raised by the protocol core and the services.

They carry a Matrix ``errcode`` and an HTTP status *hint*; only the HTTP edge
(``myelin.api.errors``) turns them into responses. Client-Server API §Standard
error response.
"""

from __future__ import annotations

from typing import Any


class ProtocolError(Exception):
    """A failure with a Matrix error code.

    ``status_hint`` is the HTTP status the spec associates with the code for the
    operation at hand; the edge uses it unchanged unless it knows better.
    ``extra`` holds additional top-level keys of the error body (for example
    ``retry_after_ms`` or ``soft_logout``).
    """

    errcode: str = "M_UNKNOWN"
    status_hint: int = 400

    def __init__(
        self,
        message: str,
        *,
        errcode: str | None = None,
        status_hint: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if errcode is not None:
            self.errcode = errcode
        if status_hint is not None:
            self.status_hint = status_hint
        self.extra: dict[str, Any] = dict(extra or {})

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"errcode": self.errcode, "error": self.message}
        body.update(self.extra)
        return body

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.errcode}, {self.message!r})"


class InvalidIdentifier(ProtocolError):
    """An identifier does not follow its grammar (appendices §Identifier grammar)."""

    errcode = "M_INVALID_PARAM"
    status_hint = 400


class BadJson(ProtocolError):
    """JSON that parsed but is not acceptable (canonical JSON rules, wrong shape)."""

    errcode = "M_BAD_JSON"
    status_hint = 400


class SignatureError(ProtocolError):
    """A signature is missing or does not verify (appendices §Signing JSON)."""

    errcode = "M_FORBIDDEN"
    status_hint = 403


class UnsupportedRoomVersion(ProtocolError):
    errcode = "M_UNSUPPORTED_ROOM_VERSION"
    status_hint = 400
