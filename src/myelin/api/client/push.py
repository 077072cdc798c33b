"""Push rules (Client-Server API modules/push.md, pushrules.yaml): the user's ruleset.

Every user has the predefined rules; changing rules comes with the push work.
"""

from __future__ import annotations

from typing import Any

from myelin.api.http import Request, endpoint
from myelin.protocol.push.base_rules import default_rules


class PushRuleEndpoints:
    @endpoint("GET", "/pushrules/", rate_limit="client", allow_guest=True,
              extra_paths=("/_matrix/client/v3/pushrules", "/_matrix/client/r0/pushrules"))
    async def all_rules(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v3/pushrules/"""
        return {"global": default_rules(req.user.user_id)}

    @endpoint("GET", "/pushrules/global/", rate_limit="client", allow_guest=True)
    async def global_rules(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v3/pushrules/global/"""
        return default_rules(req.user.user_id)
