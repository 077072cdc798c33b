"""Matrix identifiers, parsed once into types.

Spec references (Matrix v1.19, appendices.md): §Identifier Grammar, §Server Name,
§Common Identifier Format, §User Identifiers (and §Historical User IDs), §Room IDs,
§Room Aliases, §Event IDs; rooms/v1.md and rooms/v3.md, rooms/v4.md §Event IDs.

Two levels of validation (ARCHITECTURE.md style rule 4):

* ``parse`` is *lenient*: it accepts everything the spec says servers MUST accept
  from the network, including historical user IDs.
* ``parse_strict`` / ``validate_*_strict`` are for identifiers *we* mint (new user
  IDs at registration, our own server name): the current grammar only.

Every instance of the identifier classes has passed at least the lenient check
(``__post_init__`` validates), so holding a ``UserId`` means holding a valid one.
All failures raise :class:`~myelin.protocol.errors.InvalidIdentifier`.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from myelin.protocol.errors import InvalidIdentifier
from myelin.protocol.room_versions import EventIdFormat

__all__ = [
    "MAX_IDENTIFIER_BYTES",
    "DeviceId",
    "EventId",
    "RoomAlias",
    "RoomId",
    "ServerName",
    "UserId",
    "is_valid_event_id",
    "is_valid_room_alias",
    "is_valid_room_id",
    "is_valid_server_name",
    "is_valid_server_name_strict",
    "is_valid_user_id",
    "is_valid_user_id_strict",
    "validate_event_id_for_format",
    "validate_localpart_strict",
    "validate_room_id_for_format",
    "validate_server_name",
    "validate_server_name_strict",
]

#: appendices §User Identifiers, §Room IDs, §Room Aliases, §Event IDs: the complete
#: identifier, sigil and domain included, "MUST NOT exceed 255 bytes".
MAX_IDENTIFIER_BYTES = 255

# appendices §Server Name grammar.
_PORT_RE = re.compile(r"[0-9]{1,5}\Z")
_IPV4_SHAPE_RE = re.compile(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\Z")
_IPV6_CHARS_RE = re.compile(r"[0-9A-Fa-f:.]{2,45}\Z")
_DNS_NAME_RE = re.compile(r"[0-9A-Za-z.\-]{1,255}\Z")
# RFC 1123 §2.1 labels, for the strict check ("should consist of a series of labels
# separated by `.`, where each label consists of the alphanumeric characters or
# hyphens").
_DNS_LABEL_RE = re.compile(r"[0-9A-Za-z](?:[0-9A-Za-z\-]{0,61}[0-9A-Za-z])?\Z")

# appendices §User Identifiers: user_id_char = DIGIT / a-z / "-" / "." / "=" / "_" / "/" / "+"
_STRICT_LOCALPART_RE = re.compile(r"[a-z0-9._=\-/+]+\Z")

# rooms/v3.md, rooms/v4.md §Event IDs: "$" + unpadded Base64 of a SHA-256 hash,
# i.e. 43 characters; appendices §Room IDs: v12 room IDs inherit this grammar.
_HASH_ID_LEN = 43
_STD_B64_ID_RE = re.compile(r"[A-Za-z0-9+/]{43}\Z")
_URLSAFE_B64_ID_RE = re.compile(r"[A-Za-z0-9_\-]{43}\Z")
_ANY_B64_ID_RE = re.compile(r"[A-Za-z0-9+/_\-]{43}\Z")


def _fail(kind: str, value: object, why: str) -> InvalidIdentifier:
    return InvalidIdentifier(f"Invalid {kind} {value!r}: {why}")


def _byte_len(s: str) -> int:
    return len(s.encode("utf-8", errors="surrogatepass"))


def _check_opaque_part(kind: str, whole: str, part: str, *, allow_empty: bool) -> None:
    """Historical/opaque localparts: any non-surrogate code point except ``:``, NUL.

    appendices §Historical User IDs, §Room IDs ("The localpart MUST only contain
    valid non-surrogate Unicode code points, including control characters, except
    `:` and `NUL`"), §Room Aliases (same set).
    """
    if not part and not allow_empty:
        raise _fail(kind, whole, "the localpart is empty")
    if ":" in part:
        raise _fail(kind, whole, "the localpart contains ':'")
    if "\x00" in part:
        raise _fail(kind, whole, "the localpart contains NUL")
    if any("\ud800" <= ch <= "\udfff" for ch in part):
        raise _fail(kind, whole, "the localpart contains a surrogate code point")


def _check_total_length(kind: str, whole: str) -> None:
    if _byte_len(whole) > MAX_IDENTIFIER_BYTES:
        raise _fail(kind, whole, f"longer than {MAX_IDENTIFIER_BYTES} bytes")


def _split_sigil(kind: str, s: object, sigil: str) -> str:
    if not isinstance(s, str):
        raise _fail(kind, s, "not a string")
    if not s.startswith(sigil):
        raise _fail(kind, s, f"must start with {sigil!r}")
    return s[1:]


# ------------------------------------------------------------------- server names


def _split_host_port(s: str) -> tuple[str, str | None]:
    if s.startswith("["):
        end = s.find("]")
        if end == -1:
            raise _fail("server name", s, "unterminated IPv6 literal")
        host, rest = s[: end + 1], s[end + 1 :]
        if not rest:
            return host, None
        if not rest.startswith(":"):
            raise _fail("server name", s, "unexpected characters after IPv6 literal")
        return host, rest[1:]
    host, sep, port = s.partition(":")
    return host, (port if sep else None)


def _check_server_name(s: object, *, strict: bool) -> str:
    kind = "server name"
    if not isinstance(s, str):
        raise _fail(kind, s, "not a string")
    if not s:
        raise _fail(kind, s, "empty")
    host, port = _split_host_port(s)
    if port is not None:
        # port = 1*5DIGIT; a port must also be a usable TCP port.
        if not _PORT_RE.match(port):
            raise _fail(kind, s, "the port is not 1-5 digits")
        if not 1 <= int(port) <= 65535:
            raise _fail(kind, s, "the port is out of range 1-65535")
    if host.startswith("["):
        # "[" IPv6address "]" with IPv6address = 2*45IPv6char; "IPv6 literals must
        # be as specified by RFC3513, section 2.2".
        literal = host[1:-1]
        if not _IPV6_CHARS_RE.match(literal):
            raise _fail(kind, s, "invalid characters in IPv6 literal")
        try:
            ipaddress.IPv6Address(literal)
        except ValueError:
            raise _fail(kind, s, "invalid IPv6 literal") from None
        return s
    if not _DNS_NAME_RE.match(host):
        raise _fail(kind, s, "the hostname is not a valid DNS name or IP literal")
    if strict:
        if _IPV4_SHAPE_RE.match(host):
            # "IPv4 literals must be a sequence of four decimal numbers in the range
            # 0 to 255, separated by `.`."
            if any(int(octet) > 255 for octet in host.split(".")):
                raise _fail(kind, s, "IPv4 literal octet out of range 0-255")
        elif not all(_DNS_LABEL_RE.match(label) for label in host.split(".")):
            raise _fail(kind, s, "the hostname is not a series of valid DNS labels")
    return s


def validate_server_name(s: str) -> str:
    """Check a server name against the appendices §Server Name grammar.

    Lenient: any ``dns-name`` per the ABNF (``1*255`` of alphanumerics, ``-``,
    ``.``), an IPv6 literal valid per RFC 3513, and an optional port, which must be
    ``1*5DIGIT`` *and* within 1-65535.

    Args:
        s: The candidate server name.

    Returns:
        ``s`` unchanged (server names are case-sensitive, never normalised).

    Raises:
        InvalidIdentifier: if ``s`` does not match.
    """
    return _check_server_name(s, strict=False)


def validate_server_name_strict(s: str) -> str:
    """Lenient checks plus the prose rules of appendices §Server Name.

    Adds: dotted-quad hostnames must be IPv4 literals with octets 0-255, and DNS
    names must be ``.``-separated RFC 1123 labels (1-63 alphanumerics or hyphens,
    not starting or ending with a hyphen). Use for our own server name. The
    spec's "should not exceed 230 characters" and "should not use upper-case"
    recommendations are *not* enforced here.

    Args:
        s: The candidate server name.

    Returns:
        ``s`` unchanged.

    Raises:
        InvalidIdentifier: if ``s`` does not match.
    """
    return _check_server_name(s, strict=True)


def is_valid_server_name(s: str) -> bool:
    """Whether :func:`validate_server_name` accepts ``s``."""
    try:
        validate_server_name(s)
    except InvalidIdentifier:
        return False
    return True


def is_valid_server_name_strict(s: str) -> bool:
    """Whether :func:`validate_server_name_strict` accepts ``s``."""
    try:
        validate_server_name_strict(s)
    except InvalidIdentifier:
        return False
    return True


@dataclass(frozen=True, slots=True)
class ServerName:
    """A server name (appendices §Server Name). Compared case-sensitively.

    Attributes:
        value: The server name exactly as written, e.g. ``"[::1]:8448"``.
    """

    value: str

    def __post_init__(self) -> None:
        validate_server_name(self.value)

    @classmethod
    def parse(cls, s: str) -> ServerName:
        """Parse leniently (see :func:`validate_server_name`)."""
        return cls(s)

    @classmethod
    def parse_strict(cls, s: str) -> ServerName:
        """Parse strictly (see :func:`validate_server_name_strict`)."""
        validate_server_name_strict(s)
        return cls(s)

    @property
    def host(self) -> str:
        """The hostname: DNS name, IPv4 literal, or bracketed IPv6 literal."""
        return _split_host_port(self.value)[0]

    @property
    def port(self) -> int | None:
        """The explicit port, or ``None``."""
        port = _split_host_port(self.value)[1]
        return None if port is None else int(port)

    def __str__(self) -> str:
        return self.value


# ------------------------------------------------------------------------ user IDs


def validate_localpart_strict(localpart: str) -> str:
    """Check a user ID localpart against the current grammar.

    appendices §User Identifiers: "MUST NOT be empty, and MUST contain only the
    characters `a-z`, `0-9`, `.`, `_`, `=`, `-`, `/`, and `+`".

    Args:
        localpart: The localpart to check (without ``@`` or domain).

    Returns:
        ``localpart`` unchanged.

    Raises:
        InvalidIdentifier: if it is empty or has other characters.
    """
    if not isinstance(localpart, str) or not _STRICT_LOCALPART_RE.match(localpart):
        raise InvalidIdentifier(
            f"Invalid user ID localpart {localpart!r}: must be non-empty and contain only "
            "a-z, 0-9, '.', '_', '=', '-', '/' and '+'"
        )
    return localpart


@dataclass(frozen=True, slots=True)
class UserId:
    """A user ID ``@localpart:domain`` (appendices §User Identifiers).

    Construction validates leniently (§Historical User IDs): the localpart may be
    any non-surrogate code points except ``:`` and NUL, even empty; the domain must
    be a server name; the whole ID must fit in 255 bytes.

    Attributes:
        localpart: The part between ``@`` and the first ``:``.
        server_name: The domain.
    """

    localpart: str
    server_name: str

    def __post_init__(self) -> None:
        whole = str(self)
        _check_opaque_part("user ID", whole, self.localpart, allow_empty=True)
        _check_server_name_in("user ID", whole, self.server_name, strict=False)
        _check_total_length("user ID", whole)

    @classmethod
    def parse(cls, s: str) -> UserId:
        """Parse a user ID leniently, accepting historical localparts.

        Args:
            s: e.g. ``"@alice:example.org"``.

        Returns:
            The parsed ID.

        Raises:
            InvalidIdentifier: if ``s`` is not a user ID.
        """
        rest = _split_sigil("user ID", s, "@")
        localpart, sep, server = rest.partition(":")
        if not sep:
            raise _fail("user ID", s, "missing ':' and server name")
        return cls(localpart, server)

    @classmethod
    def parse_strict(cls, s: str) -> UserId:
        """Parse a user ID with the current (non-historical) grammar.

        For minting: the localpart must pass :func:`validate_localpart_strict` and
        the domain :func:`validate_server_name_strict`.

        Raises:
            InvalidIdentifier: if ``s`` is not a strictly valid user ID.
        """
        uid = cls.parse(s)
        uid.validate_strict()
        return uid

    @classmethod
    def from_parts_strict(cls, localpart: str, server_name: str) -> UserId:
        """Build a new, strictly valid user ID (registration).

        Raises:
            InvalidIdentifier: if the result would not be strictly valid.
        """
        uid = cls(localpart, server_name)
        uid.validate_strict()
        return uid

    def validate_strict(self) -> None:
        """Raise :class:`InvalidIdentifier` unless this ID follows the current grammar."""
        whole = str(self)
        try:
            validate_localpart_strict(self.localpart)
        except InvalidIdentifier as exc:
            raise _fail("user ID", whole, exc.message) from None
        _check_server_name_in("user ID", whole, self.server_name, strict=True)

    @property
    def is_compliant(self) -> bool:
        """appendices §Historical User IDs: localparts with characters outside
        U+0021..U+007E, or empty, are "non-compliant"."""
        return bool(self.localpart) and all("!" <= ch <= "~" for ch in self.localpart)

    @property
    def is_strictly_valid(self) -> bool:
        """Whether :meth:`validate_strict` would pass."""
        try:
            self.validate_strict()
        except InvalidIdentifier:
            return False
        return True

    def __str__(self) -> str:
        return f"@{self.localpart}:{self.server_name}"


def _check_server_name_in(kind: str, whole: str, server: str, *, strict: bool) -> None:
    try:
        _check_server_name(server, strict=strict)
    except InvalidIdentifier as exc:
        raise _fail(kind, whole, exc.message) from None


def is_valid_user_id(s: str) -> bool:
    """Whether :meth:`UserId.parse` accepts ``s``."""
    try:
        UserId.parse(s)
    except InvalidIdentifier:
        return False
    return True


def is_valid_user_id_strict(s: str) -> bool:
    """Whether :meth:`UserId.parse_strict` accepts ``s``."""
    try:
        UserId.parse_strict(s)
    except InvalidIdentifier:
        return False
    return True


# ------------------------------------------------------------------------ room IDs


@dataclass(frozen=True, slots=True)
class RoomId:
    """A room ID (appendices §Room IDs).

    Two forms: ``!opaque:domain`` (rooms v1-v11) and, for rooms whose version
    derives the room ID from the create event (v12), ``!`` followed by the create
    event's 43-character URL-safe reference hash, with ``server_name`` ``None``.

    Attributes:
        opaque: The part after ``!`` (and before the first ``:`` if any).
        server_name: The domain, or ``None`` for the domain-less form.
    """

    opaque: str
    server_name: str | None = None

    def __post_init__(self) -> None:
        whole = str(self)
        if self.server_name is None:
            if not _URLSAFE_B64_ID_RE.match(self.opaque):
                raise _fail(
                    "room ID",
                    whole,
                    "a room ID without a domain must be 43 characters of URL-safe unpadded Base64",
                )
        else:
            _check_opaque_part("room ID", whole, self.opaque, allow_empty=False)
            _check_server_name_in("room ID", whole, self.server_name, strict=False)
        _check_total_length("room ID", whole)

    @classmethod
    def parse(cls, s: str) -> RoomId:
        """Parse either room ID form.

        Raises:
            InvalidIdentifier: if ``s`` is not a room ID.
        """
        rest = _split_sigil("room ID", s, "!")
        opaque, sep, server = rest.partition(":")
        return cls(opaque, server if sep else None)

    @property
    def is_create_event_hash(self) -> bool:
        """Whether this is the v12 form (the create event's ID with ``!``)."""
        return self.server_name is None

    def to_create_event_id(self) -> EventId:
        """The create event's ID for a v12-form room ID (appendices §Room IDs).

        Raises:
            InvalidIdentifier: for a room ID with a domain.
        """
        if self.server_name is not None:
            raise _fail("room ID", str(self), "has a domain, so it is not a create event hash")
        return EventId(self.opaque)

    def __str__(self) -> str:
        if self.server_name is None:
            return f"!{self.opaque}"
        return f"!{self.opaque}:{self.server_name}"


def is_valid_room_id(s: str) -> bool:
    """Whether :meth:`RoomId.parse` accepts ``s``."""
    try:
        RoomId.parse(s)
    except InvalidIdentifier:
        return False
    return True


def validate_room_id_for_format(s: str, *, from_create_event: bool) -> RoomId:
    """Parse a room ID and check it has the form a room version requires.

    Args:
        s: The room ID.
        from_create_event: ``RoomVersion.event_format.room_id_from_create_event``.

    Returns:
        The parsed ID.

    Raises:
        InvalidIdentifier: if the form does not match the room version.
    """
    room_id = RoomId.parse(s)
    if room_id.is_create_event_hash != from_create_event:
        want = "a create event hash" if from_create_event else "'!opaque:domain'"
        raise _fail("room ID", s, f"this room version requires {want}")
    return room_id


# ----------------------------------------------------------------------- event IDs


@dataclass(frozen=True, slots=True)
class EventId:
    """An event ID (appendices §Event IDs).

    ``$opaque:domain`` in rooms v1-v2 (fragment ``v1-event-ids``); ``$`` + 43
    characters of unpadded Base64 of the reference hash in v3 (standard alphabet)
    and v4+ (URL-safe alphabet). Lenient parsing accepts any of these; use
    :func:`validate_event_id_for_format` to check a particular room version.

    Attributes:
        opaque: The part after ``$`` (and before the first ``:`` if any).
        server_name: The domain for v1-v2 IDs, else ``None``.
    """

    opaque: str
    server_name: str | None = None

    def __post_init__(self) -> None:
        whole = str(self)
        if self.server_name is None:
            if not _ANY_B64_ID_RE.match(self.opaque):
                raise _fail(
                    "event ID",
                    whole,
                    "an event ID without a domain must be 43 characters of unpadded Base64",
                )
        else:
            _check_opaque_part("event ID", whole, self.opaque, allow_empty=False)
            _check_server_name_in("event ID", whole, self.server_name, strict=False)
        _check_total_length("event ID", whole)

    @classmethod
    def parse(cls, s: str) -> EventId:
        """Parse any event ID form.

        Raises:
            InvalidIdentifier: if ``s`` is not an event ID.
        """
        rest = _split_sigil("event ID", s, "$")
        opaque, sep, server = rest.partition(":")
        return cls(opaque, server if sep else None)

    def __str__(self) -> str:
        if self.server_name is None:
            return f"${self.opaque}"
        return f"${self.opaque}:{self.server_name}"


def is_valid_event_id(s: str) -> bool:
    """Whether :meth:`EventId.parse` accepts ``s``."""
    try:
        EventId.parse(s)
    except InvalidIdentifier:
        return False
    return True


def validate_event_id_for_format(s: str, event_id_format: EventIdFormat) -> EventId:
    """Parse an event ID and check it has the form a room version uses.

    Args:
        s: The event ID.
        event_id_format: ``RoomVersion.event_format.event_id_format``.

    Returns:
        The parsed ID.

    Raises:
        InvalidIdentifier: if the form does not match.
    """
    event_id = EventId.parse(s)
    if event_id_format == EventIdFormat.OPAQUE:
        ok = event_id.server_name is not None
        want = "'$opaque:domain'"
    elif event_id_format == EventIdFormat.HASH_STD_B64:
        ok = event_id.server_name is None and bool(_STD_B64_ID_RE.match(event_id.opaque))
        want = "43 characters of standard unpadded Base64"
    else:
        ok = event_id.server_name is None and bool(_URLSAFE_B64_ID_RE.match(event_id.opaque))
        want = "43 characters of URL-safe unpadded Base64"
    if not ok:
        raise _fail("event ID", s, f"this room version requires {want}")
    return event_id


# --------------------------------------------------------------------- room aliases


@dataclass(frozen=True, slots=True)
class RoomAlias:
    """A room alias ``#alias:domain`` (appendices §Room Aliases).

    The localpart may contain any non-surrogate code points except ``:`` and NUL;
    we additionally require it to be non-empty. The whole alias must fit in 255
    bytes.

    Attributes:
        localpart: The part between ``#`` and the first ``:``.
        server_name: The domain.
    """

    localpart: str
    server_name: str

    def __post_init__(self) -> None:
        whole = str(self)
        _check_opaque_part("room alias", whole, self.localpart, allow_empty=False)
        _check_server_name_in("room alias", whole, self.server_name, strict=False)
        _check_total_length("room alias", whole)

    @classmethod
    def parse(cls, s: str) -> RoomAlias:
        """Parse a room alias.

        Raises:
            InvalidIdentifier: if ``s`` is not a room alias.
        """
        rest = _split_sigil("room alias", s, "#")
        localpart, sep, server = rest.partition(":")
        if not sep:
            raise _fail("room alias", s, "missing ':' and server name")
        return cls(localpart, server)

    def __str__(self) -> str:
        return f"#{self.localpart}:{self.server_name}"


def is_valid_room_alias(s: str) -> bool:
    """Whether :meth:`RoomAlias.parse` accepts ``s``."""
    try:
        RoomAlias.parse(s)
    except InvalidIdentifier:
        return False
    return True


# ------------------------------------------------------------------------ devices


@dataclass(frozen=True, slots=True)
class DeviceId:
    """A device ID: opaque to everyone but the server that allocated it.

    The spec gives device IDs no grammar; we only require a non-empty string
    without NUL or surrogates so it can be stored and sent as JSON.

    Attributes:
        value: The device ID.
    """

    value: str

    def __post_init__(self) -> None:
        if not isinstance(self.value, str) or not self.value:
            raise _fail("device ID", self.value, "must be a non-empty string")
        if "\x00" in self.value or any("\ud800" <= ch <= "\udfff" for ch in self.value):
            raise _fail("device ID", self.value, "contains NUL or a surrogate code point")

    @classmethod
    def parse(cls, s: str) -> DeviceId:
        """Wrap ``s`` after the minimal checks above."""
        return cls(s)

    def __str__(self) -> str:
        return self.value
