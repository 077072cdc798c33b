"""Schemathesis over the spec's merged OpenAPI document, limited to the operations the
accounts foundation implements: every response must match the documented schema,
status codes and content type, and nothing may answer 5xx.

A short run is part of ``make test``; ``make conformance`` sets MYELIN_CONFORMANCE=long
for many more examples per operation. Each generated case gets a fresh device (a new
login), so operations that log out or delete devices cannot spoil the next case.

Positive data only: for schema-invalid input the right answer is 400, which the spec
does not list for every operation.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.conftest import free_port

pytestmark = pytest.mark.conformance

SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec" / "openapi" / \
    "client-server-v1.19.json"
if not SPEC.exists():  # a checkout beside shared/, as on CI and dev machines
    SPEC = Path("/work/shared/spec/openapi/client-server-v1.19.json")

OPERATIONS = [
    "register", "checkUsernameAvailability", "registrationTokenValidity", "getLoginFlows",
    "login", "generateLoginToken", "refresh", "getTokenOwner", "logout", "logout_all",
    "getDevices", "getDevice", "updateDevice", "deleteDevice", "deleteDevices",
    "changePassword", "deactivateAccount", "getCapabilities", "getVersions", "getWellknown",
    "getWellknownSupport",
]
LONG = os.environ.get("MYELIN_CONFORMANCE") == "long"
EXAMPLES = 150 if LONG else 12
PASSWORD = "conformance password"



def _load_spec() -> dict[str, Any]:
    """The spec document, with one documented deviation: a device's ``display_name`` may be
    null. The spec says "absent if no name has been set", but matrix-nio requires the key
    (null allowed) and Synapse sends null, so Myelin does too (docs/architecture.md)."""
    doc: dict[str, Any] = json.loads(SPEC.read_text())

    def nullable_display_name(node: Any) -> None:
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict) and "display_name" in props and "device_id" in props:
                props["display_name"] = {**props["display_name"], "type": ["string", "null"]}
            for value in node.values():
                nullable_display_name(value)
        elif isinstance(node, list):
            for value in node:
                nullable_display_name(value)

    for op_id in ("getDevices", "getDevice"):
        for item in doc["paths"].values():
            for op in item.values():
                if isinstance(op, dict) and op.get("operationId") == op_id:
                    nullable_display_name(op["responses"])
    return doc


schema = schemathesis.openapi.from_dict(_load_spec()).include(operation_id=OPERATIONS)
schema.config.generation.update(modes=[GenerationMode.POSITIVE])


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("conformance")
    port = free_port()
    subprocess.run([sys.executable, "-m", "myelin", "generate-config", "--server-name",
                    "localhost", "--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}",
                    "--enable-registration", "--disable-rate-limits"], check=True,
                   capture_output=True)
    config = data_dir / "myelin.yaml"
    # Cheap password hashing: every case logs in afresh.
    config.write_text(config.read_text().replace(
        "auth:\n", "auth:\n  argon2_time_cost: 1\n  argon2_memory_kib: 64\n", 1))
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "myelin", "run", "-c", str(config)],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/_matrix/client/versions").status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    else:
        raise RuntimeError((data_dir / "server.log").read_text())
    r = httpx.post(f"{url}/_matrix/client/v3/register", json={
        "username": "conformance", "password": PASSWORD, "auth": {"type": "m.login.dummy"}})
    assert r.status_code == 200, r.text
    yield url
    proc.terminate()
    proc.wait(10)
    log.close()
    text = (data_dir / "server.log").read_text()
    assert "Traceback" not in text, text


def fresh_token(url: str) -> str:
    r = httpx.post(f"{url}/_matrix/client/v3/login", json={
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": "conformance"},
        "password": PASSWORD})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=list(HealthCheck), derandomize=not LONG)
def test_conformance(case: schemathesis.Case, live_server: str) -> None:
    headers = {"Authorization": f"Bearer {fresh_token(live_server)}"}
    if case.operation.definition.raw.get("operationId") == "deactivateAccount":
        headers = {}  # keep the test account alive: exercise the UIA/401 side only
    response = case.call(base_url=live_server, headers=headers)
    case.validate_response(response, checks=[
        not_a_server_error, status_code_conformance, content_type_conformance,
        response_schema_conformance])
