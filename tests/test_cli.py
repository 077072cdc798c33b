"""The ``myelin`` command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from myelin.__main__ import main


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "myelin", *args], capture_output=True,
                          text=True, timeout=60)


def test_help_explains_itself():
    result = run("--help")
    assert result.returncode == 0
    for word in ("generate-config", "run", "register-user", "registration-token", "Quick start"):
        assert word in result.stdout


def test_generate_config_writes_config_and_key_and_refuses_overwrite(tmp_path: Path):
    assert main(["generate-config", "--server-name", "example.org", "--data-dir",
                 str(tmp_path), "--listen", "127.0.0.1:9000"]) == 0
    config = (tmp_path / "myelin.yaml").read_text()
    assert 'server_name: "example.org"' in config
    assert "port: 9000" in config
    key = (tmp_path / "signing.key").read_text().split()
    assert key[0] == "ed25519" and key[1].startswith("a_") and len(key[2]) == 43
    assert (tmp_path / "signing.key").stat().st_mode & 0o077 == 0
    assert main(["generate-config", "--server-name", "example.org", "--data-dir",
                 str(tmp_path)]) == 2


def test_bad_config_is_one_line_not_a_traceback(tmp_path: Path):
    (tmp_path / "myelin.yaml").write_text("server_name: localhost\nregistration:\n  enabled: 3\n")
    result = run("run", "-c", str(tmp_path / "myelin.yaml"))
    assert result.returncode == 2
    assert result.stderr.strip() == ("myelin: config: registration.enabled: expected a boolean, "
                                     "got an integer 3")


def test_register_user_offline_and_token(tmp_path: Path):
    assert main(["generate-config", "--server-name", "localhost", "--data-dir",
                 str(tmp_path)]) == 0
    pw = tmp_path / "pw"
    pw.write_text("a good password\n")
    cfg = str(tmp_path / "myelin.yaml")
    result = run("register-user", "-c", cfg, "Admin", "--admin", "--password-file", str(pw))
    assert result.returncode == 0, result.stderr
    assert "created @admin:localhost (admin)" in result.stdout
    again = run("register-user", "-c", cfg, "admin", "--password-file", str(pw))
    assert again.returncode == 2 and "already exists" in again.stderr
    token = run("registration-token", "-c", cfg, "--uses", "2")
    assert token.returncode == 0 and len(token.stdout.strip()) == 16
