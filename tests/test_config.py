"""Config is validated once at start; every mistake is one line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from myelin.config import ConfigError, load_config, parse_config, render_default_config


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "myelin.yaml"
    p.write_text(text)
    return p


def test_generated_config_loads(tmp_path: Path):
    text = render_default_config(server_name="example.org", data_dir=tmp_path,
                                 listen_host="127.0.0.1", listen_port=8448, database_url=None,
                                 enable_registration=True, disable_rate_limits=False)
    config = load_config(_write(tmp_path, text))
    assert config.server_name == "example.org"
    assert config.listen_port == 8448
    assert config.registration.enabled is True
    assert config.rate_limits_enabled is True
    assert config.database_url == f"sqlite:///{tmp_path / 'myelin.db'}"
    assert config.public_baseurl == "https://example.org/"


def test_defaults_are_safe(tmp_path: Path):
    config = parse_config({"server_name": "localhost"}, base_dir=tmp_path)
    assert config.registration.enabled is False
    assert config.rate_limits_enabled is True
    assert config.listen_host == "127.0.0.1"
    assert config.sqlite_synchronous == "FULL"


@pytest.mark.parametrize(("raw", "message"), [
    ({}, "server_name: missing"),
    ({"server_name": "bad name!"}, "server_name: 'bad name!' is not a valid server name"),
    ({"server_name": "x.org", "registration": {"enabled": "yes"}},
     "registration.enabled: expected a boolean, got a string 'yes'"),
    ({"server_name": "x.org", "listen": {"port": 70000}}, "listen.port: 70000 is not a port"),
    ({"server_name": "x.org", "listn": {}}, "listn: unknown setting"),
    ({"server_name": "x.org", "database": {"url": "mysql://x"}}, "database.url: must start"),
    ({"server_name": "x.org", "rate_limits": {"login": {"per_second": -1}}},
     "rate_limits.login: per_second and burst must be positive"),
    ({"server_name": "x.org", "rate_limits": {"nope": {}}}, "rate_limits.nope: unknown action"),
    ({"server_name": "x.org", "auth": {"password_min_length": True}},
     "auth.password_min_length: expected an integer, got a boolean"),
    ({"server_name": "x.org", "default_room_version": "99"}, "default_room_version: '99'"),
    ({"server_name": "x.org", "support": {"contacts": [{"role": "m.role.admin"}]}},
     "support.contacts[0]: needs a matrix_id or an email_address"),
    ([1, 2], "the configuration must be a mapping"),
])
def test_mistakes_name_the_key(tmp_path: Path, raw, message):
    with pytest.raises(ConfigError) as e:
        parse_config(raw, base_dir=tmp_path)
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_yaml_syntax_error_is_one_line(tmp_path: Path):
    with pytest.raises(ConfigError) as e:
        load_config(_write(tmp_path, "server_name: [unclosed\n"))
    assert "not valid YAML at line" in str(e.value)
    assert "\n" not in str(e.value)


def test_missing_file(tmp_path: Path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.yaml")
