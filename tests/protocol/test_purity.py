"""The protocol core is sans-I/O (ARCHITECTURE.md style rule 1): check its imports."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import myelin.protocol

PROTOCOL_DIR = Path(myelin.protocol.__file__).parent
ALLOWED_THIRD_PARTY = {"canonicaljson", "signedjson", "nacl"}
FORBIDDEN = {
    "asyncio",
    "aiosqlite",
    "asyncpg",
    "sqlite3",
    "uvicorn",
    "httpx",
    "socket",
    "threading",
    "subprocess",
    "urllib",
    "http",
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"relative import in {path}"
            names.add(node.module or "")
    return names


def test_protocol_imports_are_pure() -> None:
    files = sorted(PROTOCOL_DIR.rglob("*.py"))
    assert files
    for path in files:
        for name in _imports(path):
            top = name.split(".")[0]
            assert top not in FORBIDDEN, f"{path} imports {name}"
            if top == "myelin":
                assert name == "myelin.protocol" or name.startswith("myelin.protocol."), (
                    f"{path} imports {name} from outside myelin.protocol"
                )
            else:
                assert top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY, (
                    f"{path} imports non-allowed module {name}"
                )
