from pathlib import Path

import pytest

from lmsbridge.core import config
from lmsbridge.core.errors import ConfigError


def test_defaults():
    s = config.load(environ={})
    assert s.database_url == "sqlite:///lmsbridge.db" and s.log_format == "text"


def test_precedence_file_then_env_then_flags(tmp_path):
    Path("lmsbridge.toml").write_text('database_url = "sqlite:///file.db"\nlog_level = "info"\n')
    assert config.load(environ={}).database_url == "sqlite:///file.db"
    assert config.load(environ={}).log_level == "INFO"
    env = {"LMSBRIDGE_DATABASE_URL": "sqlite:///env.db"}
    assert config.load(environ=env).database_url == "sqlite:///env.db"
    assert config.load(environ=env, database_url="sqlite:///flag.db").database_url == \
        "sqlite:///flag.db"


def test_unknown_key_and_bad_values_are_named(tmp_path):
    Path("lmsbridge.toml").write_text('databse_url = "x"\n')
    with pytest.raises(ConfigError, match="unknown setting.*databse_url"):
        config.load(environ={})
    Path("lmsbridge.toml").write_text('log_format = "xml"\n')
    with pytest.raises(ConfigError, match="log_format must be one of text, json.*'xml'"):
        config.load(environ={})
    Path("lmsbridge.toml").write_text('log_format = \n')
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.load(environ={})


def test_missing_explicit_config_file():
    with pytest.raises(ConfigError, match="'nope.toml' does not exist"):
        config.load(Path("nope.toml"), environ={})
