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


def test_the_data_directory_is_found_walking_up(tmp_path: Path) -> None:
    """Issue 16.10: like git, from any folder below the one holding var/outdial.db."""
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "outdial.db").write_bytes(b"")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    choice = config.locate({}, cwd=deep)
    assert choice.path == tmp_path / "var" and "found" in choice.how
    assert choice.looked[:3] == tuple(
        str(d / "var" / "outdial.db") for d in (deep, deep.parent, tmp_path)
    )
    assert config.load({}, cwd=deep).data_dir == tmp_path / "var"
    assert config.locate({}, cwd=tmp_path).path == Path("./var")  # here: the usual ./var
    given = config.locate({"OUTDIAL_DATA_DIR": "/srv/od"}, cwd=deep)
    assert (given.path, given.how) == (Path("/srv/od"), "OUTDIAL_DATA_DIR")


def test_the_user_config_file_names_the_data_directory(tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    (xdg / "outdial").mkdir(parents=True)
    (xdg / "outdial" / "config.toml").write_text('data_dir = "/srv/outdial"\nport = 9001\n')
    nowhere = tmp_path / "empty"
    nowhere.mkdir()
    env = {"XDG_CONFIG_HOME": str(xdg)}
    choice = config.locate(env, cwd=nowhere)
    assert choice.path == Path("/srv/outdial") and "config.toml" in choice.how
    assert any("config.toml (read)" in place for place in choice.looked)
    cfg = config.load(env, cwd=nowhere)
    assert cfg.data_dir == Path("/srv/outdial") and cfg.port == 9001
    assert config.load({**env, "OUTDIAL_PORT": "9002"}, cwd=nowhere).port == 9002
    home = config.locate({"HOME": str(tmp_path)}, cwd=nowhere)
    assert home.how == "the default, ./var"
    assert f"{tmp_path}/.config/outdial/config.toml (absent)" in home.looked


def test_an_alert_webhook_needs_its_secret_and_retention_is_days() -> None:
    with pytest.raises(ConfigError, match="ALERT_WEBHOOK_SECRET"):
        config.load({"OUTDIAL_ALERT_WEBHOOK_URL": "https://hooks.example/qa"})
    cfg = config.load({"OUTDIAL_RECORDING_RETENTION_DAYS": "0"})
    assert cfg.recording_retention_days == 0 and config.load({}).recording_retention_days == 90
    with pytest.raises(ConfigError, match="RECORDING_RETENTION_DAYS"):
        config.load({"OUTDIAL_RECORDING_RETENTION_DAYS": "-1"})
