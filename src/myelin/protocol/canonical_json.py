"""Canonical JSON encoding, strict JSON parsing and unpadded Base64.

Spec references (Matrix v1.19):

* appendices §Canonical JSON — the encoding: shortest UTF-8 JSON, keys sorted by
  code point, no insignificant whitespace, integers only, in
  ``[-(2**53)+1, (2**53)-1]``, no exponents, no decimal places, no ``-0``.
* rooms/v1.md §Canonical JSON (fragment ``v1-canonical-json``) — rooms v1-v5 MUST
  NOT strictly enforce it; rooms/v6.md+ (fragment ``v6-canonical-json``) MUST.
* appendices §Unpadded Base64 and §URL-safe unpadded Base64.

The encoder has two modes. ``strict=True`` (the default) is what we use for
everything we mint: floats, out-of-range integers and non-JSON values raise
:class:`~myelin.protocol.errors.BadJson` naming the offending JSON path.
``strict=False`` exists only to re-encode events of rooms v1-v5, which may contain
such values and whose hashes and signatures were computed over whatever the origin
server produced; it follows the widely deployed ``canonicaljson`` library there.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import canonicaljson

from myelin.protocol.errors import BadJson

__all__ = [
    "MAX_CANONICAL_INT",
    "MAX_NESTING_DEPTH",
    "MIN_CANONICAL_INT",
    "check_canonical_values",
    "decode_base64",
    "decode_base64_urlsafe",
    "encode_base64",
    "encode_base64_urlsafe",
    "encode_canonical_json",
    "format_json_path",
    "parse_json_strict",
]

#: appendices §Canonical JSON: "Numbers in the JSON must be integers in the range
#: ``[-(2**53)+1, (2**53)-1]``".
MIN_CANONICAL_INT = -(2**53) + 1
MAX_CANONICAL_INT = 2**53 - 1

#: Our own bound (the spec sets none): deeper values cannot be encoded by the
#: standard library encoder anyway, and the bound catches self-referencing input.
MAX_NESTING_DEPTH = 512

_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


# --------------------------------------------------------------------------- paths


def format_json_path(path: Sequence[str | int]) -> str:
    """Render a JSON path for error messages, JSONPath style.

    Args:
        path: Object keys (``str``) and array indices (``int``) from the root.

    Returns:
        ``$`` for the root, ``$.content.users["@a:b"]`` or ``$.prev_events[0]`` otherwise.
    """
    out = ["$"]
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENT_RE.match(part):
            out.append(f".{part}")
        else:
            out.append("[" + json.dumps(part, ensure_ascii=False) + "]")
    return "".join(out)


# ------------------------------------------------------------------ value checking


def check_canonical_values(obj: Any, *, strict: bool = True) -> None:
    """Check that ``obj`` can be encoded as canonical JSON.

    appendices §Canonical JSON: values are objects with string keys, arrays,
    strings, integers in ``[MIN_CANONICAL_INT, MAX_CANONICAL_INT]``, booleans and
    null; "Float values are not permitted by this encoding". Strings must be valid
    Unicode scalar values (no lone surrogates) so they can be encoded as UTF-8.

    Args:
        obj: A Python value built from ``dict``/``list``/``tuple``/``str``/``int``/
            ``bool``/``None`` (and ``float``, which is rejected in strict mode).
        strict: When ``False`` only structural problems are reported (non-JSON
            types, non-string keys, non-finite floats, unencodable strings); floats
            and out-of-range integers are then allowed, as rooms v1-v5 require
            (rooms/v1.md §Canonical JSON).

    Raises:
        BadJson: naming the JSON path of an offending value.
    """
    # Iterative walk so deeply nested input cannot hit the recursion limit; the
    # depth bound also stops self-referencing containers.
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(obj, ())]
    while stack:
        value, path = stack.pop()
        if len(path) > MAX_NESTING_DEPTH:
            raise BadJson(f"JSON nested more than {MAX_NESTING_DEPTH} levels deep")
        if value is None or isinstance(value, bool):
            continue
        if isinstance(value, str):
            _check_string(value, path)
        elif isinstance(value, int):
            if strict and not MIN_CANONICAL_INT <= value <= MAX_CANONICAL_INT:
                raise BadJson(
                    f"Integer at {format_json_path(path)} is outside the canonical JSON "
                    f"range [-(2**53)+1, (2**53)-1]"
                )
        elif isinstance(value, float):
            if strict:
                raise BadJson(f"Float at {format_json_path(path)} is not allowed in canonical JSON")
            if not math.isfinite(value):
                raise BadJson(f"Non-finite number at {format_json_path(path)}")
        elif isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise BadJson(f"Object key {key!r} at {format_json_path(path)} is not a string")
                _check_string(key, path)
                stack.append((item, (*path, key)))
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                stack.append((item, (*path, index)))
        else:
            raise BadJson(
                f"Value of type {type(value).__name__} at {format_json_path(path)} "
                f"is not representable in JSON"
            )


def _check_string(value: str, path: tuple[str | int, ...]) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadJson(f"String at {format_json_path(path)} contains a lone surrogate") from None


# ------------------------------------------------------------------------ encoding


def encode_canonical_json(obj: Any, *, strict: bool = True) -> bytes:
    """Encode ``obj`` as canonical JSON bytes (appendices §Canonical JSON).

    Keys are sorted by code point, there is no insignificant whitespace, non-ASCII
    characters are emitted as UTF-8 (not ``\\u`` escapes) and only the control
    characters, ``"`` and ``\\`` are escaped, as in the spec's grammar.

    Args:
        obj: The value to encode (see :func:`check_canonical_values`).
        strict: ``True`` rejects floats and out-of-range integers (rooms v6+ and
            everything we mint). ``False`` encodes them the way the
            ``canonicaljson`` library does, for re-encoding v1-v5 events.

    Returns:
        The UTF-8 encoded canonical JSON.

    Raises:
        BadJson: if ``obj`` is not encodable under the chosen mode; the message
            names the JSON path of the offending value.
    """
    check_canonical_values(obj, strict=strict)
    try:
        return canonicaljson.encode_canonical_json(obj)
    except (TypeError, ValueError, RecursionError) as exc:  # pragma: no cover
        raise BadJson(f"Cannot encode value as canonical JSON: {exc}") from exc


# ------------------------------------------------------------------------- parsing


def _reject_constant(name: str) -> Any:
    raise BadJson(f"Invalid JSON number {name}")


def _parse_non_integer_literal(text: str) -> int | float:
    """``parse_float`` hook: numbers written with a fraction or an exponent.

    appendices §Canonical JSON, last example: ``{"a": -0, "b": 1e10}`` has the
    canonical form ``{"a":0,"b":10000000000}`` — a number literal whose value is an
    exact integer *is* an integer, whatever its spelling. Such literals become
    ``int``; anything else stays a ``float`` (accepted by the lenient v1-v5 paths,
    rejected by :func:`check_canonical_values`).
    """
    try:
        dec = Decimal(text)
    except InvalidOperation:  # pragma: no cover - json only passes valid literals
        raise BadJson(f"Invalid JSON number {text}") from None
    # adjusted() bounds the magnitude before int() so "1e999999999" cannot allocate
    # a huge integer; anything above 10**16 is out of the canonical range anyway.
    if dec.is_zero():
        return 0
    if dec.is_finite() and dec.adjusted() <= 16 and dec == dec.to_integral_value():
        return int(dec)
    return float(text)


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise BadJson(f"Duplicate key {key!r} in JSON object")
        obj[key] = value
    return obj


def parse_json_strict(data: bytes | bytearray | str) -> Any:
    """Parse JSON, rejecting what Matrix treats as malformed.

    * Duplicate object keys are rejected (their meaning is undefined in RFC 8259
      and canonical JSON has no way to represent them).
    * ``NaN``, ``Infinity`` and ``-Infinity`` (a Python extension) are rejected.
    * Bytes must be UTF-8 (appendices §Canonical JSON picks UTF-8).
    * Numbers with a fraction or exponent that denote an exact integer (``1e10``,
      ``-0.0``) become ``int``; other non-integers become ``float``. Range and float
      checks for strict rooms are :func:`check_canonical_values`' job, because
      rooms v1-v5 must still accept such events (rooms/v1.md §Canonical JSON).

    Args:
        data: The JSON text.

    Returns:
        The parsed value.

    Raises:
        BadJson: on any syntax error, invalid UTF-8, duplicate key or constant.
    """
    if isinstance(data, bytes | bytearray):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadJson(f"JSON is not valid UTF-8: {exc}") from None
    else:
        text = data
    try:
        return json.loads(
            text,
            object_pairs_hook=_reject_duplicate_keys,
            parse_constant=_reject_constant,
            parse_float=_parse_non_integer_literal,
        )
    except BadJson:
        raise
    except (ValueError, RecursionError) as exc:
        # json.JSONDecodeError is a ValueError; so is Python's int-digits limit.
        raise BadJson(f"Invalid JSON: {exc}") from None


# -------------------------------------------------------------------------- base64


def encode_base64(data: bytes) -> str:
    """Unpadded standard Base64 (appendices §Unpadded Base64).

    Args:
        data: The bytes to encode.

    Returns:
        RFC 4648 Base64 with the trailing ``=`` padding removed.
    """
    return base64.b64encode(data).decode("ascii").rstrip("=")


def encode_base64_urlsafe(data: bytes) -> str:
    """Unpadded URL-safe Base64 (appendices §URL-safe unpadded Base64).

    Args:
        data: The bytes to encode.

    Returns:
        RFC 4648 §5 Base64 (``-`` and ``_`` as characters 62 and 63), unpadded.
    """
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


_STD_B64_RE = re.compile(r"[A-Za-z0-9+/]*={0,2}\Z")
_URLSAFE_B64_RE = re.compile(r"[A-Za-z0-9_-]*={0,2}\Z")


def _decode(s: str, altchars: bytes | None) -> bytes:
    if not isinstance(s, str):
        raise ValueError("Base64 input must be a string")
    if not (_URLSAFE_B64_RE if altchars else _STD_B64_RE).match(s):
        raise ValueError(f"Invalid Base64 alphabet: {s!r}")
    stripped = s.rstrip("=")
    if len(s) - len(stripped) > 2 or len(stripped) % 4 == 1:
        raise ValueError(f"Invalid Base64 length: {s!r}")
    padded = stripped + "=" * (-len(stripped) % 4)
    try:
        return base64.b64decode(padded.encode("ascii"), altchars=altchars, validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError(f"Invalid Base64: {s!r}") from exc


def decode_base64(s: str) -> bytes:
    """Decode standard Base64, with or without padding.

    appendices §Unpadded Base64: implementations "SHOULD accept input with or
    without padding characters wherever possible".

    Args:
        s: The Base64 text.

    Returns:
        The decoded bytes.

    Raises:
        ValueError: if ``s`` is not valid Base64 in the standard alphabet.
    """
    return _decode(s, None)


def decode_base64_urlsafe(s: str) -> bytes:
    """Decode URL-safe Base64 (appendices §URL-safe unpadded Base64), padded or not.

    Args:
        s: The Base64 text.

    Returns:
        The decoded bytes.

    Raises:
        ValueError: if ``s`` is not valid Base64 in the URL-safe alphabet.
    """
    return _decode(s, b"-_")
