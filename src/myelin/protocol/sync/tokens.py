"""Sync tokens: one position per stream, opaque to clients (Client-Server API §Syncing).

Encoded as ``s<events>_<typing>_<receipts>_<account_data>_<to_device>_<device_lists>_
<presence>``. Older tokens with fewer fields parse with the missing positions at 0, so
streams can be added without invalidating clients' tokens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from myelin.protocol.errors import InvalidParam

_TOKEN = re.compile(r"^s(\d+(?:_\d+)*)$")


@dataclass(frozen=True, slots=True)
class SyncToken:
    events: int = 0
    typing: int = 0
    receipts: int = 0
    account_data: int = 0
    to_device: int = 0
    device_lists: int = 0
    presence: int = 0

    def encode(self) -> str:
        return "s" + "_".join(str(getattr(self, f.name)) for f in fields(self))

    @classmethod
    def parse(cls, token: str) -> SyncToken:
        m = _TOKEN.match(token)
        if m is None:
            raise InvalidParam(f"Invalid sync token {token!r}")
        values = [int(v) for v in m.group(1).split("_")]
        names = [f.name for f in fields(cls)]
        if len(values) > len(names):
            raise InvalidParam(f"Invalid sync token {token!r}")
        return cls(**dict(zip(names, values, strict=False)))

    def advanced_past(self, other: SyncToken) -> bool:
        """Whether any stream is ahead of ``other``."""
        return any(getattr(self, f.name) > getattr(other, f.name) for f in fields(self))
