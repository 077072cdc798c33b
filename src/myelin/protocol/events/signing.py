"""Signing and verifying JSON with ed25519; signing-key helpers.

Spec references (Matrix v1.19): appendices §Signing JSON, §Signing Details,
§Checking for a Signature, §Cryptographic Test Vectors; server-server §Signing
Events, §Validating hashes and signatures on received events.

Signatures are computed with PyNaCl over our own canonical encoding
(:mod:`myelin.protocol.canonical_json`); key objects, their generation and the
on-disk key file format (``<algorithm> <version> <unpadded base64 seed>``, one key
per line, as written by ``signedjson``) come from ``signedjson.key``. Nothing here
touches files: the key-file helpers take and return text.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

import nacl.bindings
import nacl.exceptions
import nacl.signing
import signedjson.key
from signedjson.types import SigningKey, VerifyKey

from myelin.protocol.canonical_json import (
    decode_base64,
    encode_base64,
    encode_canonical_json,
)
from myelin.protocol.errors import BadJson, SignatureError
from myelin.protocol.events.redaction import redact
from myelin.protocol.room_versions import RoomVersion

__all__ = [
    "ED25519",
    "SigningKey",
    "VerifyKey",
    "decode_signing_key_base64",
    "decode_verify_key_base64",
    "encode_signing_key_base64",
    "encode_verify_key_base64",
    "generate_signing_key",
    "get_verify_key",
    "key_id_of",
    "read_signing_keys",
    "sign_json",
    "signature_key_ids",
    "verify_event_signature",
    "verify_json",
    "write_signing_keys",
]

#: appendices §Signing Details: "The currently supported value for *signing
#: algorithm* is `ed25519`".
ED25519 = "ed25519"


# ----------------------------------------------------------------------- key helpers


def key_id_of(key: SigningKey | VerifyKey) -> str:
    """The signing key identifier ``<algorithm>:<version>`` (appendices §Signing Details).

    Args:
        key: A key from this module (carrying ``alg`` and ``version``).

    Returns:
        e.g. ``"ed25519:a_AbCd"``.
    """
    return f"{key.alg}:{key.version}"


def generate_signing_key(version: str) -> SigningKey:
    """Generate a new ed25519 signing key.

    Args:
        version: The key version, the part of the key ID after ``ed25519:``.

    Returns:
        A ``nacl.signing.SigningKey`` with ``alg`` and ``version`` attributes.
    """
    return signedjson.key.generate_signing_key(version)


def get_verify_key(signing_key: SigningKey) -> VerifyKey:
    """The public half of a signing key, with the same ``alg`` and ``version``."""
    return signedjson.key.get_verify_key(signing_key)


def decode_signing_key_base64(algorithm: str, version: str, seed_base64: str) -> SigningKey:
    """Build a signing key from its unpadded Base64 seed.

    Args:
        algorithm: Must be ``"ed25519"``.
        version: The key version.
        seed_base64: The 32-byte seed, Base64 (padding optional).

    Returns:
        The signing key.

    Raises:
        ValueError: for an unsupported algorithm, bad Base64 or a wrong seed length.
    """
    if algorithm != ED25519:
        raise ValueError(f"Unsupported signing algorithm {algorithm!r}")
    seed = decode_base64(seed_base64)
    if len(seed) != nacl.bindings.crypto_sign_SEEDBYTES:
        raise ValueError(f"An ed25519 seed is 32 bytes, got {len(seed)}")
    key: SigningKey = nacl.signing.SigningKey(seed)  # type: ignore[assignment]
    key.version = version
    key.alg = ED25519
    return key


def encode_signing_key_base64(key: SigningKey) -> str:
    """The unpadded Base64 seed of a signing key."""
    return encode_base64(key.encode())


def encode_verify_key_base64(key: VerifyKey) -> str:
    """The unpadded Base64 public key, as published in ``verify_keys``."""
    return encode_base64(key.encode())


def decode_verify_key_base64(algorithm: str, version: str, key_base64: str) -> VerifyKey:
    """Build a verify key from its unpadded Base64 form.

    Raises:
        ValueError: for an unsupported algorithm, bad Base64 or a wrong key length.
    """
    if algorithm != ED25519:
        raise ValueError(f"Unsupported signing algorithm {algorithm!r}")
    raw = decode_base64(key_base64)
    try:
        return signedjson.key.decode_verify_key_bytes(f"{algorithm}:{version}", raw)
    except nacl.exceptions.ValueError as exc:
        raise ValueError(f"Invalid ed25519 verify key: {exc}") from exc


def read_signing_keys(text: str) -> list[SigningKey]:
    """Parse the signing key file format: ``<alg> <version> <base64 seed>`` per line.

    Blank lines and lines starting with ``#`` are ignored.

    Args:
        text: The file's contents.

    Returns:
        The keys, in file order.

    Raises:
        ValueError: naming the line number of a malformed line.
    """
    keys: list[SigningKey] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        parts = stripped.split()
        if len(parts) != 3:
            raise ValueError(f"Signing key line {lineno}: expected '<algorithm> <version> <key>'")
        try:
            keys.append(decode_signing_key_base64(*parts))
        except ValueError as exc:
            raise ValueError(f"Signing key line {lineno}: {exc}") from exc
    return keys


def write_signing_keys(keys: Iterable[SigningKey]) -> str:
    """Serialise signing keys in the format :func:`read_signing_keys` reads.

    Args:
        keys: The keys to write.

    Returns:
        One ``<alg> <version> <unpadded base64 seed>`` line per key, each ending
        in a newline.
    """
    return "".join(f"{key.alg} {key.version} {encode_signing_key_base64(key)}\n" for key in keys)


# --------------------------------------------------------------------- signing JSON


def _signable(obj: Mapping[str, Any]) -> dict[str, Any]:
    # appendices §Signing Details: sign "without `signatures` or keys grouped as
    # `unsigned`".
    return {k: v for k, v in obj.items() if k not in ("signatures", "unsigned")}


def sign_json(
    obj: Mapping[str, Any],
    server_name: str,
    signing_key: SigningKey,
    *,
    strict: bool = True,
) -> dict[str, Any]:
    """Sign a JSON object (appendices §Signing Details).

    The signature covers the canonical JSON of ``obj`` without ``signatures`` and
    ``unsigned``; it is added under ``signatures[server_name][key_id]``. Signatures
    already present (from other servers or other keys) are kept, as is
    ``unsigned``.

    Args:
        obj: The object to sign; not modified.
        server_name: The signing entity's name.
        signing_key: The ed25519 key.
        strict: Encode strictly (the default, for anything we mint); ``False`` only
            for countersigning v1-v5 events that may carry non-canonical numbers.

    Returns:
        A new dict: a deep copy of ``obj`` with the signature added.

    Raises:
        BadJson: if ``obj`` cannot be canonically encoded.
    """
    message = encode_canonical_json(_signable(obj), strict=strict)
    signature = encode_base64(signing_key.sign(message).signature)
    result = copy.deepcopy(dict(obj))
    signatures = result.get("signatures")
    if not isinstance(signatures, dict):
        signatures = {}
    entity = signatures.get(server_name)
    if not isinstance(entity, dict):
        entity = {}
    entity[key_id_of(signing_key)] = signature
    signatures[server_name] = entity
    result["signatures"] = signatures
    return result


def signature_key_ids(obj: Mapping[str, Any], server_name: str) -> list[str]:
    """Key IDs with a supported algorithm that ``server_name`` signed ``obj`` with.

    appendices §Checking for a Signature, steps 1-2: entries for the entity with
    algorithms we don't understand are ignored. Use this to decide which
    verification keys to fetch (step 3).

    Args:
        obj: The signed object.
        server_name: The entity.

    Returns:
        The ``ed25519:*`` key IDs present, sorted.
    """
    signatures = obj.get("signatures")
    if not isinstance(signatures, Mapping):
        return []
    entity = signatures.get(server_name)
    if not isinstance(entity, Mapping):
        return []
    return sorted(k for k in entity if isinstance(k, str) and k.startswith(ED25519 + ":"))


def verify_json(
    obj: Mapping[str, Any],
    server_name: str,
    key_id: str,
    verify_key: VerifyKey | nacl.signing.VerifyKey,
) -> None:
    """Check ``server_name``'s signature with ``key_id`` (appendices §Checking for a
    Signature).

    Step 3 of that algorithm (finding the verification key) is the caller's: pass
    the key. The object is re-encoded leniently (integers out of range and floats
    allowed) because the signature is over whatever bytes the signer produced;
    canonical-JSON enforcement for v6+ rooms is a separate check.

    Args:
        obj: The signed object.
        server_name: The entity whose signature is required.
        key_id: ``<algorithm>:<version>`` of the signature to check.
        verify_key: The public key for ``key_id``.

    Raises:
        SignatureError: if the signature is missing, uses an unsupported
            algorithm, is not valid Base64, or does not verify.
    """
    # Step 1: the entity's entry must exist.
    signatures = obj.get("signatures")
    if not isinstance(signatures, Mapping):
        raise SignatureError("Object has no signatures")
    entity = signatures.get(server_name)
    if not isinstance(entity, Mapping):
        raise SignatureError(f"Object is not signed by {server_name}")
    # Step 2: only algorithms we understand.
    if not key_id.startswith(ED25519 + ":"):
        raise SignatureError(f"Unsupported signing algorithm in key ID {key_id!r}")
    signature_b64 = entity.get(key_id)
    if not isinstance(signature_b64, str):
        raise SignatureError(f"Object has no signature from {server_name} with {key_id}")
    # Step 4: decode the signature.
    try:
        signature = decode_base64(signature_b64)
    except ValueError:
        raise SignatureError(
            f"Signature from {server_name} with {key_id} is not valid Base64"
        ) from None
    # Steps 5-6: strip signatures and unsigned, encode canonically.
    try:
        message = encode_canonical_json(_signable(obj), strict=False)
    except BadJson as exc:
        raise SignatureError(f"Signed object is not encodable: {exc.message}") from None
    # Step 7: check.
    try:
        verify_key.verify(message, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError):
        raise SignatureError(
            f"Signature from {server_name} with {key_id} does not verify"
        ) from None


def verify_event_signature(
    event: Mapping[str, Any],
    room_version: RoomVersion,
    server_name: str,
    key_id: str,
    verify_key: VerifyKey | nacl.signing.VerifyKey,
) -> None:
    """Check one server's signature on a PDU.

    server-server §Validating hashes and signatures on received events: "The event
    is redacted following the redaction algorithm, and the resultant object is
    checked for signatures" — which works whether we hold the full event or a
    redacted copy. Which servers must sign (the sender's, in v1-v2 also the event
    ID's domain, from v8 the ``join_authorised_via_users_server`` user's) and key
    validity (v5+) are decided by the caller from ``room_version.signatures``.

    Args:
        event: The PDU.
        room_version: Its room version.
        server_name: The signer to check.
        key_id: The key ID to check.
        verify_key: The public key for ``key_id``.

    Raises:
        SignatureError: if the signature is missing or does not verify.
    """
    verify_json(redact(event, room_version.redaction), server_name, key_id, verify_key)
