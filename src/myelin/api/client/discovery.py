"""Discovery: /versions, /.well-known/matrix/{client,support}, /capabilities
(Client-Server API §Server Discovery, §API Versions, §Capabilities negotiation)."""

from __future__ import annotations

from typing import Any

from myelin.api.http import AUTH_NONE, Request, endpoint
from myelin.config import Config
from myelin.protocol.errors import NotFound
from myelin.protocol.room_versions import KNOWN_ROOM_VERSIONS

# Spec versions and the areas of the Client-Server API whose behaviour each one requires.
# A version is advertised only when every area it needs is implemented (IMPLEMENTED_AREAS),
# so clients never rely on something that is not there. Areas are added as they land.
SPEC_VERSIONS: dict[str, frozenset[str]] = {
    v: frozenset({"accounts", "rooms", "sync", "profiles", "media", "e2ee", "push"})
    for v in ("r0.5.0", "r0.6.0", "r0.6.1", "v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6",
              "v1.7", "v1.8", "v1.9", "v1.10", "v1.11", "v1.12", "v1.13", "v1.14", "v1.15",
              "v1.16", "v1.17", "v1.18", "v1.19")
}
IMPLEMENTED_AREAS: frozenset[str] = frozenset({"accounts"})


def advertised_versions(implemented: frozenset[str] = IMPLEMENTED_AREAS) -> list[str]:
    return [v for v, needs in SPEC_VERSIONS.items() if needs <= implemented]


class DiscoveryEndpoints:
    def __init__(self, *, config: Config) -> None:
        self._config = config
        self._versions = {"versions": advertised_versions(), "unstable_features": {}}
        well_known: dict[str, Any] = {"m.homeserver": {"base_url": config.public_baseurl}}
        if config.identity_server:
            well_known["m.identity_server"] = {"base_url": config.identity_server}
        self._well_known = well_known

    @endpoint("GET", "/_matrix/client/versions", auth=AUTH_NONE)
    async def versions(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/versions: never fails, whatever token comes with it (clients
        validate it during discovery); the answer is the same for everyone."""
        return self._versions

    @endpoint("GET", "/.well-known/matrix/client", auth=AUTH_NONE)
    async def well_known_client(self, req: Request) -> dict[str, Any]:
        """GET /.well-known/matrix/client"""
        return self._well_known

    @endpoint("GET", "/.well-known/matrix/support", auth=AUTH_NONE)
    async def well_known_support(self, req: Request) -> dict[str, Any]:
        """GET /.well-known/matrix/support: 404 when no contact is configured."""
        if not self._config.support_contacts and not self._config.support_page:
            raise NotFound("No support contacts are configured on this server")
        body: dict[str, Any] = {}
        if self._config.support_contacts:
            body["contacts"] = list(self._config.support_contacts)
        if self._config.support_page:
            body["support_page"] = self._config.support_page
        return body

    @endpoint("GET", "/capabilities", versions=("r0", "v3"), rate_limit="client",
              allow_guest=True)
    async def capabilities(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v3/capabilities"""
        caps: dict[str, Any] = {
            "m.change_password": {"enabled": True},
            "m.room_versions": {
                "default": self._config.default_room_version,
                "available": {v: "stable" for v in KNOWN_ROOM_VERSIONS},
            },
            # No e-mail or SMS sender is configured, so third-party IDs cannot be changed.
            "m.3pid_changes": {"enabled": False},
            "m.get_login_token": {"enabled": True},
        }
        if req.user.is_admin:
            caps["m.account_moderation"] = {"suspend": True, "lock": True}
        return {"capabilities": caps}


