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


# --- The standard error codes (Client-Server API §Standard error response) --------------------
# Each carries the status the spec (or, where it is silent, Synapse's practice) gives it.


class Forbidden(ProtocolError):
    errcode = "M_FORBIDDEN"
    status_hint = 403


class NotFound(ProtocolError):
    errcode = "M_NOT_FOUND"
    status_hint = 404


class MissingToken(ProtocolError):
    errcode = "M_MISSING_TOKEN"
    status_hint = 401


class UnknownToken(ProtocolError):
    """Invalid, logged-out or expired token; ``soft_logout`` keeps the device (§Soft logout)."""

    errcode = "M_UNKNOWN_TOKEN"
    status_hint = 401

    def __init__(self, message: str, *, soft_logout: bool = False) -> None:
        super().__init__(message, extra={"soft_logout": soft_logout})


class UserLocked(ProtocolError):
    """§Account locking: 401 with soft_logout true on every endpoint but /logout."""

    errcode = "M_USER_LOCKED"
    status_hint = 401

    def __init__(self, message: str = "This account has been locked") -> None:
        super().__init__(message, extra={"soft_logout": True})


class UserSuspended(ProtocolError):
    errcode = "M_USER_SUSPENDED"
    status_hint = 403


class UserDeactivated(ProtocolError):
    errcode = "M_USER_DEACTIVATED"
    status_hint = 403


class LimitExceeded(ProtocolError):
    """429; the edge adds the Retry-After header from ``retry_after_ms``."""

    errcode = "M_LIMIT_EXCEEDED"
    status_hint = 429

    def __init__(self, retry_after_ms: int, message: str = "Too many requests") -> None:
        super().__init__(message, extra={"retry_after_ms": retry_after_ms})
        self.retry_after_ms = retry_after_ms


class Unrecognized(ProtocolError):
    errcode = "M_UNRECOGNIZED"
    status_hint = 404


class NotJson(ProtocolError):
    errcode = "M_NOT_JSON"
    status_hint = 400


class InvalidParam(ProtocolError):
    errcode = "M_INVALID_PARAM"
    status_hint = 400


class MissingParam(ProtocolError):
    errcode = "M_MISSING_PARAM"
    status_hint = 400


class TooLarge(ProtocolError):
    errcode = "M_TOO_LARGE"
    status_hint = 413


class UserInUse(ProtocolError):
    errcode = "M_USER_IN_USE"
    status_hint = 400


class InvalidUsername(ProtocolError):
    errcode = "M_INVALID_USERNAME"
    status_hint = 400


class WeakPassword(ProtocolError):
    errcode = "M_WEAK_PASSWORD"
    status_hint = 400


class ThreepidMediumNotSupported(ProtocolError):
    errcode = "M_THREEPID_MEDIUM_NOT_SUPPORTED"
    status_hint = 400


class ThreepidNotFound(ProtocolError):
    errcode = "M_THREEPID_NOT_FOUND"
    status_hint = 400


class ThreepidAuthFailed(ProtocolError):
    errcode = "M_THREEPID_AUTH_FAILED"
    status_hint = 403


class UnknownError(ProtocolError):
    errcode = "M_UNKNOWN"
    status_hint = 400
