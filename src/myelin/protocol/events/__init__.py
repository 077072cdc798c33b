"""Events: redaction, hashing and signing of PDUs (pure functions over JSON dicts).

Spec references (Matrix v1.19): server-server §Signing Events; rooms/vN.md
§Redactions and §Event IDs; appendices §Signing JSON.
"""

from myelin.protocol.events.hashing import (
    add_hashes_and_signatures,
    check_content_hash,
    compute_content_hash,
    compute_event_id,
    compute_reference_hash,
    room_id_from_create_event,
)
from myelin.protocol.events.redaction import redact
from myelin.protocol.events.signing import (
    sign_json,
    verify_event_signature,
    verify_json,
)

__all__ = [
    "add_hashes_and_signatures",
    "check_content_hash",
    "compute_content_hash",
    "compute_event_id",
    "compute_reference_hash",
    "redact",
    "room_id_from_create_event",
    "sign_json",
    "verify_event_signature",
    "verify_json",
]
