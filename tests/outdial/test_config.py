"""Configuration from the environment and a TOML file."""

from __future__ import annotations

from pathlib import Path

import pytest

from outdial import config
from outdial.errors import ConfigError


def test_defaults() -> None:
    cfg = config.load({})
    assert cfg.port == 8080 and cfg.host == "127.0.0.1" and cfg.data_dir == Path("./var")
    assert cfg.max_upload_bytes == 200 * 1024 * 1024


def test_toml_then_environment_override(tmp_path: Path) -> None:
    f = tmp_path / "outdial.toml"
    f.write_text('port = 9000\nlog_format = "json"\nsecure_cookies = true\n')
    cfg = config.load({"OUTDIAL_CONFIG": str(f), "OUTDIAL_PORT": "9100"})
    assert cfg.port == 9100 and cfg.log_format == "json" and cfg.secure_cookies is True


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OUTDIAL_PORT": "eighty"}, "OUTDIAL_PORT is not a whole number"),
        ({"OUTDIAL_PORT": "70000"}, "between 1 and 65535"),
        ({"OUTDIAL_LOG_FORMAT": "xml"}, "OUTDIAL_LOG_FORMAT"),
        ({"OUTDIAL_SESSION_HOURS": "-1"}, "positive"),
        ({"OUTDIAL_CONFIG": "/nonexistent/outdial.toml"}, "config file not found"),
    ],
)
def test_bad_values_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config.load(env)


def test_bad_toml_and_unknown_keys(tmp_path: Path) -> None:
    f = tmp_path / "bad.toml"
    f.write_text("port = = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.load({"OUTDIAL_CONFIG": str(f)})
    f.write_text("prot = 1")
    with pytest.raises(ConfigError, match="unknown setting"):
        config.load({"OUTDIAL_CONFIG": str(f)})


def test_readme_documents_every_setting() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    for s in config.SETTINGS:
        assert f"OUTDIAL_{s.name.upper()}" in readme, s.name
